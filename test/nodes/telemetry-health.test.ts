/**
 * The telemetry node's device-health output, in Node-RED against the simulator over HTTP, on a
 * fake clock shared by both (test/support/sim-clock.ts): 8 sensors reporting every 300 s, polled
 * every 60 s cadence-aware.
 * - The first hour (the period learnt meanwhile): no silent or recovered event; battery_low once
 *   for each AirBird whose battery the simulator reports below the threshold, nothing else.
 * - One sensor stops (the simulator's `silence`): `silent` once, within 3 learnt periods and one
 *   interval of its last reading; it reports again: `recovered` once. No other event.
 * - A node without the health output keeps its one output; a redeploy does not tell a state again.
 */
import assert from 'node:assert/strict';
import { LeapcraftSimulator } from '../../simulator';
import { helper, msgsInTransit, TestNode } from '../support/nodered';
import { SimClock } from '../support/sim-clock';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');

const S = 1000;
const MINUTE = 60 * S;
/** A Monday, 08:00 UTC. */
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const REPORT_MS = 300 * S;
const INTERVAL_MS = 60 * S;
const BATTERY_LOW = 30;

type Msg = Record<string, any>;

describe('leapcraft-telemetry: the device-health output (simulated time)', function () {
  this.timeout(180_000);
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

  it('silent once within 3 learnt periods and an interval, recovered once; no event for healthy sensors in an hour', async () => {
    let account: TestNode | undefined;
    transit = msgsInTransit();
    const inTransit = transit;
    const busy = () => (account ? (account.getClient as () => { stats(): { inFlight: number } })().stats().inFlight : 0) + inTransit.pending();
    clock = new SimClock(T0, undefined, busy);
    sim = new LeapcraftSimulator({
      deviceCount: 8, seed: 11, latencyMs: 0, reportIntervalMs: REPORT_MS, tokenLifetimeMs: 7 * 24 * 60 * MINUTE, now: () => Date.now(),
    });
    await sim.start();
    const devices = sim.devices();
    const ids = devices.map((d) => d.physical_id);
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 4, timeout: 30 },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', account: 'acct', devices: ids.join(','), telemetryType: 'latest', interval: INTERVAL_MS / S,
        output: 'device', emit: 'interval', cadence: true, health: true, silentPeriods: 3, batteryLow: BATTERY_LOW, outputs: 2, wires: [['readings'], ['health']],
      },
      { id: 'readings', type: 'helper', z: 'tab' },
      { id: 'health', type: 'helper', z: 'tab' },
    ];
    await helper.load([configNode, telemetryNode], flow as never, { acct: { apiKey: sim.apiKey } });
    account = helper.getNode('acct') as TestNode;
    const events: Array<{ at: number; msg: Msg }> = [];
    const readings = new Map<string, Msg>();
    (helper.getNode('health') as TestNode).on('input', (msg: Msg) => events.push({ at: Date.now(), msg }));
    (helper.getNode('readings') as TestNode).on('input', (msg: Msg) => readings.set(msg.physical_id, msg.payload));

    // The first hour: the sensors' period is learnt; only the low batteries are told, once each.
    await clock.runByStep(T0 + 60 * MINUTE);
    assert.equal(clock.stuckWaits, 0, 'every request was answered');
    const scheduler = (account.getScheduler as () => { cadenceOf(key: string, ms: number): { periodMs?: number } | undefined })();
    const key = (id: string) => ['telemetry', id, 'latest'].join('\u0000');
    for (const id of ids) assert.equal(scheduler.cadenceOf(key(id), INTERVAL_MS)?.periodMs, REPORT_MS, `${id}: period learnt`);
    const low = ids.filter((id) => (readings.get(id)!.data.battery ?? 100) < BATTERY_LOW);
    assert.ok(low.length > 0 && low.length < ids.length, 'some batteries low, not all');
    assert.deepEqual(events.map((e) => [e.msg.payload.event, e.msg.topic]), low.map((id) => ['battery_low', id]), 'only the low batteries');
    assert.ok(events.every((e) => e.at < T0 + INTERVAL_MS), 'told at the first poll');
    events.length = 0;

    // One sensor stops reporting.
    const quiet = ids[2];
    sim.silence(quiet);
    const lastReading = Date.parse(readings.get(quiet)!.timestamp);
    await clock.runByStep(T0 + 100 * MINUTE);
    assert.deepEqual(events.map((e) => [e.msg.payload.event, e.msg.topic]), [['silent', quiet]]);
    const silent = events[0];
    assert.ok(silent.at - lastReading <= 3 * REPORT_MS + INTERVAL_MS, `silent ${(silent.at - lastReading) / S} s after its last reading`);
    assert.ok(silent.at - lastReading > 3 * REPORT_MS, 'not before 3 periods');
    assert.equal(silent.msg.physical_id, quiet);
    assert.deepEqual(Object.keys(silent.msg.payload).sort(), ['device', 'event', 'lastReadingAt', 'name', 'periodMs', 'since', ...(devices[2].type === 'airbird' ? ['battery'] : [])].sort());
    assert.equal(silent.msg.payload.periodMs, REPORT_MS);
    assert.equal(silent.msg.payload.lastReadingAt, new Date(lastReading).toISOString());
    assert.equal(silent.msg.payload.since, new Date(lastReading + 3 * REPORT_MS).toISOString());
    assert.equal(silent.msg.payload.name, devices[2].name);
    console.log(`      a health msg: ${JSON.stringify({ topic: silent.msg.topic, payload: silent.msg.payload })}`);

    // It reports again.
    sim.silence(quiet, false);
    await clock.runByStep(T0 + 120 * MINUTE);
    assert.deepEqual(events.map((e) => [e.msg.payload.event, e.msg.topic]), [['silent', quiet], ['recovered', quiet]]);
    const recovered = events[1].msg.payload;
    assert.ok(Date.parse(recovered.lastReadingAt) > lastReading);
    assert.equal(recovered.since, recovered.lastReadingAt);
    assert.equal(clock.stuckWaits, 0);
  });

  it('a redeploy tells no state again; a node without the health output keeps its one output', async () => {
    let account: TestNode | undefined;
    transit = msgsInTransit();
    const inTransit = transit;
    const busy = () => (account ? (account.getClient as () => { stats(): { inFlight: number } })().stats().inFlight : 0) + inTransit.pending();
    clock = new SimClock(T0, undefined, busy);
    sim = new LeapcraftSimulator({ deviceCount: 4, seed: 11, latencyMs: 0, reportIntervalMs: INTERVAL_MS, tokenLifetimeMs: 7 * 24 * 60 * MINUTE, now: () => Date.now() });
    await sim.start();
    const devices = sim.devices();
    const ids = devices.map((d) => d.physical_id);
    const node = (id: string, health: boolean) => ({
      id, type: 'leapcraft-telemetry', z: 'tab', account: 'acct', devices: ids.join(','), telemetryType: 'latest', interval: INTERVAL_MS / S, output: 'device',
      ...(health ? { health: true, batteryLow: 99, outputs: 2, wires: [[], ['health']] } : { wires: [['out']] }),
    });
    const flow = [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 4, timeout: 30 },
      node('plain', false), node('watch', true),
      { id: 'out', type: 'helper', z: 'tab' },
      { id: 'health', type: 'helper', z: 'tab' },
    ];
    const creds = () => ({ acct: { apiKey: sim!.apiKey } });
    await helper.load([configNode, telemetryNode], flow as never, creds());
    const listen = () => {
      account = helper.getNode('acct') as TestNode;
      (helper.getNode('out') as TestNode).on('input', (msg: Msg) => out.push(msg));
      (helper.getNode('health') as TestNode).on('input', (msg: Msg) => events.push(msg));
    };
    const out: Msg[] = [];
    const events: Msg[] = [];
    listen();
    const quiet = ids[1];
    sim.silence(quiet);
    await clock.runByStep(T0 + 60 * MINUTE);
    const airbirds = devices.filter((d) => d.type === 'airbird').map((d) => d.physical_id);
    const told = () => events.map((m) => `${m.payload.event} ${m.topic}`).sort();
    const expected = [...airbirds.map((id) => `battery_low ${id}`), `silent ${quiet}`].sort();
    assert.deepEqual(told(), expected, 'every AirBird is low (below 99 %), one sensor silent');
    assert.ok(out.length >= 60 * ids.length - ids.length, 'the plain node polls on');
    assert.equal((helper.getNode('plain') as unknown as { wires: unknown[] }).wires.length, 1, 'one output');
    assert.ok(out.every((m) => m.payload && m.payload.physical_id === m.physical_id), 'readings only on the plain node');

    // Every node restarted: the states it told are carried, none is told again.
    await helper.setFlows(flow as never, 'full', creds() as never);
    listen();
    await clock.runByStep(T0 + 80 * MINUTE);
    assert.deepEqual(told(), expected, 'nothing told again after the redeploy');
    sim.silence(quiet, false);
    await clock.runByStep(T0 + 90 * MINUTE);
    assert.deepEqual(told(), [...expected, `recovered ${quiet}`].sort());
    assert.equal(clock.stuckWaits, 0);
  });
});
