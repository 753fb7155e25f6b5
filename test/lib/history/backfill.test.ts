import assert from 'node:assert/strict';
import { Device, TelemetryResponse } from '../../../lib/api/types';
import {
  AveragesFetch, backfillDays, DAY_MS, dailyPoints, dayLabel, dayOf, dayRange, fetchDaily,
} from '../../../lib/history/backfill';
import { parseHistorySettings } from '../../../lib/history/settings';
import { useSimulator } from '../../support/fixtures';

const NOW = Date.UTC(2026, 2, 29, 15, 24, 5);
const TODAY = dayOf(NOW);
const TAGS = parseHistorySettings({}).tags;
const target = { id: 'x', device: undefined, tags: TAGS, measurement: 'leapcraft_daily' };
const bucket = (day: number, co2: unknown) => ({ physical_id: 'x', timestamp: new Date(day * DAY_MS).toISOString(), data: { co2, meta: {} }, samples: 24 });

describe('the backfill\'s day plan', () => {
  it('the last N complete UTC days, oldest first, never today', () => {
    assert.deepEqual(backfillDays(NOW, 3).map(dayLabel), ['2026-03-26', '2026-03-27', '2026-03-28']);
    assert.deepEqual(backfillDays(NOW, 0), []);
    assert.deepEqual(backfillDays(Date.UTC(2026, 2, 29), 1).map(dayLabel), ['2026-03-28'], 'at midnight, yesterday is the last whole day');
  });

  it('a request covers its days from midnight to the last millisecond', () => {
    const { from, to } = dayRange(TODAY - 2, TODAY - 1);
    assert.equal(from.toISOString(), '2026-03-27T00:00:00.000Z');
    assert.equal(to.toISOString(), '2026-03-28T23:59:59.999Z');
  });

  describe('dailyPoints', () => {
    const all = () => true;
    it('a series: each bucket is the day its time falls on, stamped at that midnight', () => {
      const answer = [bucket(TODAY - 2, 500), { ...bucket(TODAY - 1, 600), timestamp: new Date((TODAY - 1) * DAY_MS + 3_600_000).toISOString() }];
      const result = dailyPoints(answer, TODAY - 2, TODAY - 1, all, target);
      assert.notEqual(result, 'folded');
      if (result === 'folded') return;
      assert.deepEqual(result.points.map((p) => [p.timestamp.toISOString(), p.fields.co2]), [['2026-03-27T00:00:00.000Z', 500], ['2026-03-28T00:00:00.000Z', 600]]);
      assert.equal(result.skipped, 2, 'meta of each');
    });
    it('days not asked for, not wanted, or twice, are left out; a day without a bucket has no point', () => {
      const answer = { data: [bucket(TODAY - 5, 1), bucket(TODAY - 3, 2), bucket(TODAY - 3, 3), bucket(TODAY - 2, 4), bucket(TODAY, 5)] };
      const result = dailyPoints(answer, TODAY - 4, TODAY - 1, (d) => d !== TODAY - 2, target);
      assert.deepEqual(result !== 'folded' && result.points.map((p) => p.fields.co2), [2]);
    });
    it('one point for several days may be their mix: folded, alone or as the only item of an array', () => {
      assert.equal(dailyPoints(bucket(TODAY - 2, 500) as TelemetryResponse, TODAY - 2, TODAY - 1, all, target), 'folded');
      assert.equal(dailyPoints([bucket(TODAY - 2, 500)], TODAY - 2, TODAY - 1, all, target), 'folded');
    });
    it('no point at all is no data for the range, not a mix', () => {
      assert.deepEqual(dailyPoints([], TODAY - 2, TODAY - 1, all, target), { points: [], skipped: 0 });
    });
    it('one object for one day is that day\'s average, whatever time it carries, or none', () => {
      for (const answer of [bucket(TODAY - 1, 7), { data: { co2: 7 } }, { ...bucket(TODAY - 1, 7), timestamp: new Date(NOW).toISOString() }]) {
        const result = dailyPoints(answer as TelemetryResponse, TODAY - 1, TODAY - 1, all, target);
        assert.deepEqual(result !== 'folded' && result.points.map((p) => [p.timestamp.toISOString(), p.fields.co2]), [['2026-03-28T00:00:00.000Z', 7]], JSON.stringify(answer));
      }
      const empty = dailyPoints({ physical_id: 'x', timestamp: new Date(NOW).toISOString(), data: { meta: {} } }, TODAY - 1, TODAY - 1, all, target);
      assert.deepEqual(empty, { points: [], skipped: 1 });
    });
  });

  describe('fetchDaily against the simulator, in every averages shape', () => {
    for (const dialect of [
      'averages-array', 'averages-envelope', 'averages-object', 'averages-object-in-array', 'averages-object-under-result',
      'averages-array,readings-flat', 'averages-object,readings-flat,dates-zone-required',
    ]) {
      describe(dialect, () => {
        const fx = useSimulator({ deviceCount: 2, now: () => NOW, dialect });
        it('7 days: 7 points at the days\' midnights with the simulator\'s averages; one request, or one per day for a mixed answer', async () => {
          const client = fx.client();
          const [device] = fx.sim.devices();
          const id = device!.physical_id;
          const days = backfillDays(NOW, 7);
          const asked: Array<[string, string]> = [];
          const fetch: AveragesFetch = (i, from, to, signal) => {
            asked.push([from.toISOString(), to.toISOString()]);
            return client.getTelemetry(i, { type: 'averages', resolution: 'daily', from, to }, { signal });
          };
          const { points } = await fetchDaily({ id, device: device as Device, tags: TAGS, measurement: 'leapcraft_daily', days }, fetch, new AbortController().signal);
          assert.deepEqual(points.map((p) => dayLabel(dayOf(p.timestamp.getTime()))), days.map(dayLabel));
          assert.ok(points.every((p) => p.timestamp.getTime() % DAY_MS === 0));
          const folded = dialect.includes('averages-object');
          assert.equal(asked.length, folded ? 8 : 1);
          // Each day's values are the simulator's answer for that day's request.
          for (const p of points) {
            const day = dayOf(p.timestamp.getTime());
            const { from, to } = folded ? dayRange(day, day) : dayRange(days[0]!, days[6]!);
            const answer = await client.getTelemetry(id, { type: 'averages', resolution: 'daily', from, to });
            const served = (Array.isArray(answer) ? answer : 'data' in answer && Array.isArray(answer.data) ? answer.data : [answer]) as Array<Record<string, unknown>>;
            const mine = folded ? served[0]! : served.find((b) => Date.parse(b.timestamp as string) === day * DAY_MS)!;
            const values = (mine.data ?? mine) as Record<string, unknown>;
            for (const [k, v] of Object.entries(p.fields)) assert.equal(v, values[k], `${dayLabel(day)} ${k}`);
            assert.ok(['co2', 'temperature', 'humidity'].every((k) => typeof p.fields[k] === 'number'));
          }
          assert.deepEqual(points[0]!.tags, { device: id, name: device!.name, model: device!.type, gateway: device!.topology_id });
        });
      });
    }
  });
});
