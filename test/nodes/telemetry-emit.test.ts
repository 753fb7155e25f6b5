/**
 * The telemetry node's emit contract, in Node-RED against the simulator over HTTP, on a fake
 * clock shared by both (test/support/sim-clock.ts): 10 sensors reporting every 300 s, polled
 * every 60 s cadence-aware, for 30 simulated minutes.
 * - *Every interval*: exactly one msg per device in every interval; `msg.fresh` true exactly
 *   once per reading, on the first msg that carries it.
 * - *Each new reading*: every reading exactly once, never a repeat.
 * - The requests per new reading stay at most 1.2 once the sensors' period is learnt (from minute
 *   10; both nodes share the account's requests). Learning costs a few requests per sensor, which
 *   ten sensors cannot spread as thin as the bench's hundred (its figure over the whole run: 1.18).
 */
import assert from 'node:assert/strict';
import { readingTime } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import { helper, msgsInTransit, TestNode } from '../support/nodered';
import { SimClock } from '../support/sim-clock';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');

const S = 1000;
const MINUTE = 60 * S;
/** A Monday, 08:00 UTC. */
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const DEVICES = 10;
const REPORT_MS = 300 * S;
const INTERVAL_MS = 60 * S;
const MINUTES = 30;

type Msg = Record<string, unknown>;
interface Seen { at: number; id: string; reading: number; fresh: unknown }

describe('leapcraft-telemetry: one msg per device per interval (simulated time)', function () {
  this.timeout(120_000);
  let sim: LeapcraftSimulator | undefined;
  let clock: SimClock | undefined;
  let transit: ReturnType<typeof msgsInTransit> | undefined;

  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    transit?.stop();
    await helper.unload();
    await sim?.stop();
    sim = undefined;
  });

  it('every interval: 30 msgs per device, fresh once per reading; each new reading: each reading once; ≤ 1.2 requests per new reading', async () => {
    let account: TestNode | undefined;
    transit = msgsInTransit();
    const inTransit = transit;
    // Time moves on only once every request is answered and every msg delivered.
    const busy = () => (account ? (account.getClient as () => { stats(): { inFlight: number } })().stats().inFlight : 0) + inTransit.pending();
    clock = new SimClock(T0, undefined, busy);
    sim = new LeapcraftSimulator({
      deviceCount: DEVICES, seed: 7, latencyMs: 0, reportIntervalMs: REPORT_MS, tokenLifetimeMs: 7 * 24 * 60 * MINUTE, now: () => Date.now(),
    });
    await sim.start();
    const ids = sim.devices().map((d) => d.physical_id);
    const node = (id: string, emit: string, out: string, y: number) => ({
      id, type: 'leapcraft-telemetry', z: 'tab', x: 100, y, account: 'acct', devices: ids.join(','), telemetryType: 'latest',
      resolution: 'daily', from: '-7d', to: 'now', interval: INTERVAL_MS / S, output: 'device', emit, cadence: true, wires: [[out]],
    });
    const flow: Array<Record<string, unknown>> = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 4, timeout: 30 },
      node('every', 'interval', 'outEvery', 100),
      node('each', 'reading', 'outEach', 200),
      { id: 'outEvery', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'outEach', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
    await helper.load([configNode, telemetryNode], flow as never, { acct: { apiKey: sim.apiKey } });
    account = helper.getNode('acct') as TestNode;
    const every: Seen[] = [];
    const each: Seen[] = [];
    const record = (into: Seen[]) => (msg: Msg) => {
      const reading = readingTime(msg.payload);
      assert.ok(reading !== undefined, 'every msg carries a reading with a time');
      into.push({ at: Date.now(), id: String(msg.physical_id), reading, fresh: msg.fresh });
    };
    const start = Date.now();
    (helper.getNode('outEvery') as TestNode).on('input', record(every));
    (helper.getNode('outEach') as TestNode).on('input', record(each));
    const end = start + MINUTES * MINUTE;
    await clock.runByStep(end);
    assert.equal(clock.stuckWaits, 0, 'every request was answered');

    const telemetry = sim.stats.requests.filter((r) => r.endpoint === 'telemetry' && r.at < end);
    const steadyFrom = start + 10 * MINUTE;
    let newReadings = 0;
    let steadyReadings = 0;
    for (const id of ids) {
      // Every interval: one msg in each of the 30 intervals since the deploy.
      const mine = every.filter((s) => s.id === id);
      const perInterval = Array.from({ length: MINUTES }, (_, k) => mine.filter((s) => s.at >= start + k * INTERVAL_MS && s.at < start + (k + 1) * INTERVAL_MS).length);
      assert.deepEqual(perInterval, Array(MINUTES).fill(1), `${id}: msgs per interval`);
      assert.ok(mine.every((s) => typeof s.fresh === 'boolean'), 'msg.fresh is a boolean');
      // Fresh exactly once per reading, on the first msg that carries it.
      const readings = [...new Set(mine.map((s) => s.reading))];
      const fresh = mine.filter((s) => s.fresh === true);
      assert.deepEqual(fresh.map((s) => s.reading), readings, `${id}: fresh once per reading, in order`);
      for (const r of readings) assert.equal(mine.find((s) => s.reading === r)!.fresh, true, `${id}: the first msg of a reading is the fresh one`);
      // The sensor reported every 300 s: every reading it made before the last interval reached a msg.
      assert.ok(readings.length >= MINUTES * MINUTE / REPORT_MS, `${id}: ${readings.length} readings`);
      newReadings += readings.filter((r) => r >= start).length;
      steadyReadings += readings.filter((r) => r >= steadyFrom).length;

      // Each new reading: the same readings, each exactly once.
      const mineEach = each.filter((s) => s.id === id);
      assert.deepEqual(mineEach.map((s) => s.reading), [...new Set(mineEach.map((s) => s.reading))], `${id}: no reading twice`);
      assert.ok(mineEach.every((s) => s.fresh === true));
      assert.deepEqual(mineEach.map((s) => s.reading).filter((r) => r < end - INTERVAL_MS), readings.filter((r) => r < end - INTERVAL_MS), `${id}: the same readings`);
    }
    const steadyRequests = telemetry.filter((r) => r.at >= steadyFrom).length;
    const perReading = steadyRequests / steadyReadings;
    console.log(`      measured: ${every.length} msgs every interval (${DEVICES} devices x ${MINUTES}), ${each.length} msgs each new reading; `
      + `${telemetry.length} telemetry requests for ${newReadings} new readings (${(telemetry.length / newReadings).toFixed(2)} each), `
      + `from minute 10: ${steadyRequests} for ${steadyReadings} (${perReading.toFixed(2)} each)`);
    assert.ok(perReading <= 1.2, `${perReading.toFixed(2)} requests per new reading from minute 10`);
  });
});
