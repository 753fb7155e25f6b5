/**
 * Meetings (option meetingEveryMs) and the alerts the simulator raises from its own readings
 * (autoAlerts): at night, when no room is busy of itself, a meeting fills one room after the
 * other; the readings show it, and the reading-driven alerts follow them: co2_high once a room
 * has been above the threshold for two report intervals, co2_normal once back below as long.
 * The model is driven by a fake clock, the alert evaluation step by step (no timers).
 */
import assert from 'node:assert/strict';

import { LeapcraftSimulator, type Alert, type LatestTelemetry } from '../../simulator';
import { AlertStore } from '../../simulator/alerts';
import { parseCliArgs } from '../../simulator/cli-args';
import { AutoAlerts } from '../../simulator/auto-alerts';
import { generateWorld } from '../../simulator/data';
import { meetingCo2, type MeetingPlan } from '../../simulator/meetings';
import { latestTelemetry, type ModelParams } from '../../simulator/model';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
/** Sunday 2026-03-29 03:00 UTC: an empty building, every room near 420 ppm. */
const NIGHT = Date.UTC(2026, 2, 29, 3);
const REPORT_MS = 10 * SECOND;
const THRESHOLD = 1000;

describe('simulator meetings and alerts from its own readings', function () {
  const world = generateWorld({ seed: 1, deviceCount: 12, gateways: 3, thingCount: 0 });
  const plan: MeetingPlan = { everyMs: 3 * MINUTE, origin: NIGHT, rooms: world.devices.length, seed: 1 };
  const withMeetings: ModelParams = { seed: 1, reportIntervalMs: REPORT_MS, meetings: plan };
  const co2At = (params: ModelParams, t: number): number[] => world.devices.map((d) => latestTelemetry(d, t, params).data.co2);

  it('without meetings the building stays empty at night', function () {
    for (let t = NIGHT; t < NIGHT + 20 * MINUTE; t += MINUTE) {
      for (const co2 of co2At({ seed: 1, reportIntervalMs: REPORT_MS }, t)) assert.ok(co2 < 500, `${co2} ppm at night`);
    }
  });

  it('a meeting takes one room past the threshold within a minute, for a few minutes, then it airs out; the rooms take turns', function () {
    const rooms: number[] = [];
    for (let k = 0; k < 4; k++) {
      const start = NIGHT + k * plan.everyMs;
      const busy = co2At(withMeetings, start + 60 * SECOND).map((co2, i) => [co2, i]).filter(([co2]) => co2 > THRESHOLD);
      assert.equal(busy.length, 1, `meeting ${k}: one room above ${THRESHOLD} ppm a minute in: ${JSON.stringify(busy)}`);
      const room = busy[0][1];
      rooms.push(room);
      assert.ok(co2At(withMeetings, start + 2 * MINUTE)[room] > THRESHOLD, 'still full after two minutes');
      assert.ok(co2At(withMeetings, start + 5 * MINUTE)[room] < 600, 'aired out after five minutes');
      // Every other room is as empty as the night makes it, but the one before, still airing out.
      const others = co2At(withMeetings, start + 60 * SECOND).filter((_, i) => i !== room && i !== rooms[k - 1]);
      for (const co2 of others) assert.ok(co2 < 500);
    }
    assert.equal(new Set(rooms).size, rooms.length, `a different room each time: ${rooms.join(', ')}`);
    assert.equal(meetingCo2(plan, rooms[0], NIGHT - 1), undefined, 'nothing before the first meeting');
    assert.equal(meetingCo2(undefined, rooms[0], NIGHT + MINUTE), undefined, 'nothing without a plan');
  });

  it('raises co2_high after two report intervals above the threshold and co2_normal after two 50 ppm below it, once each', function () {
    const store = new AlertStore(1, 1000);
    const alerts = new AutoAlerts();
    const raised: Array<{ at: number; alert: Alert }> = [];
    for (let t = NIGHT; t <= NIGHT + 9.5 * MINUTE; t += REPORT_MS) {
      const before = store.size;
      alerts.evaluate(world, store, t, withMeetings, THRESHOLD);
      const fresh = store.query({ limit: store.size - before, offset: 0, order: 'newest', withIds: true }) as unknown as Alert[];
      for (const alert of fresh.reverse()) raised.push({ at: t, alert });
    }
    const summary = raised.map((r) => `${(r.at - NIGHT) / SECOND}s ${r.alert.type} ${r.alert.physical_id} ${r.alert.value}`);
    // Three meetings in nine and a half minutes (the fourth begins at 9 min): a co2_high each, and a co2_normal for each that ended.
    assert.deepEqual(raised.map((r) => r.alert.type), ['co2_high', 'co2_normal', 'co2_high', 'co2_normal', 'co2_high', 'co2_normal'], summary.join('\n'));
    const first = raised[0];
    assert.ok(first.at - NIGHT <= 2 * MINUTE, `the first co2_high ${(first.at - NIGHT) / SECOND} s after the start`);
    assert.ok((first.alert.value as number) > THRESHOLD && first.alert.threshold === THRESHOLD);
    assert.match(first.alert.message, /^CO2 above 1000 ppm in /);
    assert.equal(raised[1].alert.physical_id, first.alert.physical_id, 'the same room back to normal');
    assert.ok((raised[1].alert.value as number) < THRESHOLD - 50);
    // Each alert carries the time of the reading that confirmed it.
    for (const r of raised) assert.ok(Date.parse(r.alert.created_at) <= r.at && Date.parse(r.alert.created_at) > r.at - 2 * REPORT_MS);
  });

  it('a room already above the threshold when the simulator starts gets its co2_high once it stays there', function () {
    const store = new AlertStore(1, 1000);
    const alerts = new AutoAlerts();
    // Monday 15:00: busy rooms are above 1000 ppm of themselves, and stay so for hours.
    const afternoon = Date.UTC(2026, 2, 30, 15);
    const params: ModelParams = { seed: 1, reportIntervalMs: REPORT_MS };
    const high = co2At(params, afternoon).filter((co2) => co2 > THRESHOLD).length;
    assert.ok(high > 0 && high < world.devices.length, `${high} rooms above ${THRESHOLD} ppm`);
    alerts.evaluate(world, store, afternoon, params, THRESHOLD);
    assert.equal(store.size, 0, 'no alert from one reading');
    alerts.evaluate(world, store, afternoon + REPORT_MS, params, THRESHOLD);
    assert.equal(store.size, high, 'a co2_high for each room above');
    for (let t = afternoon + 2 * REPORT_MS; t < afternoon + 5 * MINUTE; t += REPORT_MS) alerts.evaluate(world, store, t, params, THRESHOLD);
    assert.equal(store.size, high, 'nothing more while they stay high');
  });

  it('serves the meetings through the API, and refuses a meeting interval under 10 s', async function () {
    const clock = { t: NIGHT };
    const sim = new LeapcraftSimulator({ now: () => clock.t, meetingEveryMs: 3 * MINUTE, tokenLifetimeMs: Infinity });
    const base = await sim.start();
    try {
      const token = ((await (await fetch(`${base}/auth/client/token`, {
        method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'api_key=demo-key',
      })).json()) as { token: string }).token;
      clock.t = NIGHT + 90 * SECOND;
      const readings = await Promise.all(sim.devices().map(async (d) => {
        const res = await fetch(`${base}/telemetry/${encodeURIComponent(d.physical_id)}?type=latest`, { headers: { Authorization: `Bearer ${token}` } });
        return ((await res.json()) as LatestTelemetry).data.co2;
      }));
      assert.equal(readings.filter((co2) => co2 > THRESHOLD).length, 1, `one room in a meeting: ${readings.join(', ')}`);
      assert.throws(() => sim.set({ meetingEveryMs: 5000 }), /meetingEveryMs/);
      sim.set({ meetingEveryMs: 0 });
      const after = await fetch(`${base}/telemetry/${encodeURIComponent(sim.devices()[0].physical_id)}?type=latest`, { headers: { Authorization: `Bearer ${token}` } });
      assert.ok(((await after.json()) as LatestTelemetry).data.co2 < 500, 'no meetings once turned off');
    } finally {
      await sim.stop();
    }
  });

  it('takes --meetings <seconds> on the command line', function () {
    assert.deepEqual(parseCliArgs(['--meetings', '240'], {}), { kind: 'run', options: { port: 8787, autoAlerts: true, initialAlerts: 20, meetingEveryMs: 240_000 } });
    const refused = parseCliArgs(['--meetings', '5'], {});
    assert.equal(refused.kind, 'error');
  });

  it('a room hovering about the threshold raises one co2_high, not one for every flicker', function () {
    const store = new AlertStore(1, 1000);
    const alerts = new AutoAlerts();
    // A threshold just under one busy room's level: its readings wander across it, up and down.
    const afternoon = Date.UTC(2026, 2, 30, 15);
    const params: ModelParams = { seed: 1, reportIntervalMs: REPORT_MS };
    const [room, co2] = co2At(params, afternoon).map((c, i) => [i, c]).sort((a, b) => b[1] - a[1])[0];
    const threshold = co2 - 3;
    const series: number[] = [];
    for (let t = afternoon; t < afternoon + 10 * MINUTE; t += REPORT_MS) {
      series.push(co2At(params, t)[room]);
      alerts.evaluate(world, store, t, params, threshold);
    }
    assert.ok(series.some((c) => c <= threshold) && series.some((c) => c > threshold), `the readings cross ${threshold}: ${series.join(', ')}`);
    const mine = (store.query({ limit: 100, offset: 0, order: 'oldest', withIds: true }) as unknown as Alert[])
      .filter((a) => a.physical_id === world.devices[room].item.physical_id);
    assert.deepEqual(mine.map((a) => a.type), ['co2_high'], `readings ${series.join(', ')}`);
  });
});
