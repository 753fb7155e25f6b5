import assert from 'node:assert/strict';
import { LeapcraftClient } from '../../../lib/api/client';
import { AveragesFetch, backfillDays, dayLabel, dayOf } from '../../../lib/history/backfill';
import { HistoryBatch, HistoryRecorder, HistoryRecorderOptions } from '../../../lib/history/recorder';
import { parseHistorySettings } from '../../../lib/history/settings';
import { HistoryState } from '../../../lib/history/written';
import { useSimulator } from '../../support/fixtures';

const NOW = Date.UTC(2026, 2, 29, 15, 24, 5);
const reading = (id: string, time: string, co2: number) => ({ physical_id: id, timestamp: time, data: { co2, meta: {} }, created_at: time });

/** A context store as the node has one: what was saved is what the next load gives. */
class Store {
  value: unknown;
  saves = 0;
  failNext = false;
  async load(): Promise<unknown> {
    return this.value === undefined ? undefined : JSON.parse(JSON.stringify(this.value));
  }
  async save(state: HistoryState): Promise<void> {
    this.saves++;
    if (this.failNext) {
      this.failNext = false;
      throw new Error('store down');
    }
    this.value = JSON.parse(JSON.stringify(state));
  }
}

function recorder(store: Store, extra: Partial<HistoryRecorderOptions> = {}): HistoryRecorder & { saveErrors: unknown[] } {
  const saveErrors: unknown[] = [];
  const r = new HistoryRecorder({
    settings: parseHistorySettings({ backfillDays: 7 }),
    load: () => store.load(),
    save: (s) => store.save(s),
    saveFailed: (err) => saveErrors.push(err),
    deviceOf: () => undefined,
    concurrency: 4,
    now: () => NOW,
    ...extra,
  });
  return Object.assign(r, { saveErrors });
}

describe('HistoryRecorder', () => {
  describe('readings', () => {
    it('a reading is written once: served again from the cache it is not', async () => {
      const store = new Store();
      const r = recorder(store);
      const first = await r.reading('a', reading('a', '2026-03-29T15:20:00Z', 500));
      assert.equal(first.batch?.points.length, 1);
      assert.equal(first.batch?.measurement, 'leapcraft');
      assert.equal(first.batch?.skipped, 1);
      assert.equal((await r.reading('a', reading('a', '2026-03-29T15:20:00Z', 500))).batch, undefined);
      assert.equal((await r.reading('a', reading('a', '2026-03-29T15:21:00Z', 510))).batch?.points[0]!.fields.co2, 510);
    });

    it('not again after a restart: a new recorder on the same store remembers', async () => {
      const store = new Store();
      const r = recorder(store);
      await r.reading('a', reading('a', '2026-03-29T15:20:00Z', 500));
      await r.flush();
      const after = recorder(store);
      assert.equal((await after.reading('a', reading('a', '2026-03-29T15:20:00Z', 500))).batch, undefined);
      assert.ok((await after.reading('a', reading('a', '2026-03-29T15:21:00Z', 500))).batch);
    });

    it('the same reading arriving twice at once goes out once', async () => {
      const r = recorder(new Store());
      const results = await Promise.all([1, 2, 3].map(() => r.reading('a', reading('a', '2026-03-29T15:20:00Z', 500))));
      assert.equal(results.filter((x) => x.batch).length, 1);
    });

    it('a reading without a time is counted, never written', async () => {
      const r = recorder(new Store());
      assert.deepEqual(await r.reading('a', { data: { co2: 1 } }), { undated: 1 });
    });

    it('saves coalesce: many changes during one save cost one more save, not one each', async () => {
      const store = new Store();
      let release!: () => void;
      const slow = new Promise<void>((resolve) => { release = resolve; });
      const r = recorder(store, { save: async (s) => { await slow; await store.save(s); } });
      for (let i = 0; i < 20; i++) await r.reading('a', reading('a', new Date(NOW + i * 1000).toISOString(), i));
      release();
      await r.flush();
      assert.equal(store.saves, 2);
      assert.equal((store.value as HistoryState).last.a, NOW + 19_000);
    });

    it('a failed save is reported, the points still go out, and the next change saves everything', async () => {
      const store = new Store();
      store.failNext = true;
      const r = recorder(store);
      assert.ok((await r.reading('a', reading('a', '2026-03-29T15:20:00Z', 500))).batch);
      await r.flush();
      assert.equal(r.saveErrors.length, 1);
      await r.reading('b', reading('b', '2026-03-29T15:20:00Z', 500));
      await r.flush();
      assert.deepEqual(Object.keys((store.value as HistoryState).last).sort(), ['a', 'b']);
    });
  });

  describe('backfill, against the simulator', () => {
    const fx = useSimulator({ deviceCount: 5, now: () => NOW });
    let client: LeapcraftClient;
    let requests: number;
    const fetch: AveragesFetch = (id, from, to, signal) => {
      requests++;
      return client.getTelemetry(id, { type: 'averages', resolution: 'daily', from, to }, { signal });
    };
    beforeEach(() => {
      client = fx.client();
      requests = 0;
    });

    async function run(r: HistoryRecorder, ids: string[], days: number, signal = new AbortController().signal) {
      const batches: HistoryBatch[] = [];
      const failed: string[] = [];
      const summary = await r.backfill(ids, days, fetch, signal, { batch: (b) => batches.push(b), failed: (id) => failed.push(id) });
      return { batches, failed, summary };
    }

    it('each device gets the days it lacks, once: a second backfill (a redeploy, a restart) writes none', async () => {
      const store = new Store();
      const ids = fx.sim.devices().map((d) => d.physical_id);
      const before = recorder(store);
      const first = await run(before, ids, 7);
      await before.flush();
      assert.deepEqual(first.summary, { devices: 5, points: 35, failed: 0 });
      assert.equal(requests, 5);
      for (const b of first.batches) {
        assert.equal(b.measurement, 'leapcraft_daily');
        assert.deepEqual(b.points.map((p) => dayLabel(dayOf(p.timestamp.getTime()))), backfillDays(NOW, 7).map(dayLabel));
      }
      const r = recorder(store);
      const again = await run(r, ids, 7);
      assert.deepEqual(again.summary, { devices: 0, points: 0, failed: 0 });
      assert.equal(requests, 5, 'nothing asked for');
      const more = await run(r, ids, 9);
      assert.deepEqual(more.summary, { devices: 5, points: 10, failed: 0 });
      assert.deepEqual(more.batches[0]!.points.map((p) => dayLabel(dayOf(p.timestamp.getTime()))), ['2026-03-20', '2026-03-21']);
    });

    it('two backfills at once send each day once', async () => {
      const r = recorder(new Store());
      const ids = fx.sim.devices().map((d) => d.physical_id);
      const [a, b] = await Promise.all([run(r, ids, 7), run(r, ids, 7)]);
      assert.equal(a.summary.points + b.summary.points, 35);
    });

    it('a device that fails is reported; the others are written; it is asked again next time', async () => {
      const store = new Store();
      const ids = [fx.sim.devices()[0]!.physical_id, 'no-such-device'];
      const before = recorder(store);
      const first = await run(before, ids, 3);
      await before.flush();
      assert.deepEqual(first.failed, ['no-such-device']);
      assert.deepEqual(first.summary, { devices: 1, points: 3, failed: 1 });
      const again = await run(recorder(store), ids, 3);
      assert.deepEqual(again.failed, ['no-such-device']);
      assert.equal(again.summary.points, 0);
    });

    it('aborted (the node closes): no more requests, nothing sent after', async () => {
      const r = recorder(new Store(), { concurrency: 1 });
      const controller = new AbortController();
      const batches: HistoryBatch[] = [];
      const ids = fx.sim.devices().map((d) => d.physical_id);
      const done = r.backfill(ids, 7, fetch, controller.signal, {
        batch: (b) => { batches.push(b); controller.abort(); },
        failed: () => assert.fail('an abort is no failure'),
      });
      await done;
      assert.equal(batches.length, 1);
      assert.equal(requests, 1);
    });
  });
});
