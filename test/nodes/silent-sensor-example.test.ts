/**
 * examples/silent-sensor.json as a user deploys it, against the simulator on a fake clock shared by
 * Node-RED and the simulator (test/support/sim-clock.ts), its debug nodes replaced by test helpers:
 * at the first poll a notification for each battery the simulator reports below 20 %; one sensor
 * stops (the simulator's `silence`): "Sensor silent" once, within 3 of its periods and a poll;
 * it reports again: "Sensor back" once. Nothing else in two simulated hours.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LeapcraftSimulator } from '../../simulator';
import { helper, msgsInTransit, TestNode } from '../support/nodered';
import { SimClock } from '../support/sim-clock';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');

type FlowNode = Record<string, any>;
const MINUTE = 60_000;
/** A Monday, 08:00 UTC. */
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);

describe('examples/silent-sensor.json against the simulator (simulated time)', function () {
  this.timeout(180_000);
  let sim: LeapcraftSimulator | undefined;
  let clock: SimClock | undefined;
  let transit: ReturnType<typeof msgsInTransit> | undefined;

  afterEach(async () => {
    clock?.restore();
    transit?.stop();
    await helper.unload();
    await sim?.stop();
  });

  it('a notification when a sensor goes silent and when it is back, one per low battery, nothing else', async () => {
    let account: TestNode | undefined;
    transit = msgsInTransit();
    const inTransit = transit;
    clock = new SimClock(T0, undefined, () => (account ? (account.getClient as () => { stats(): { inFlight: number } })().stats().inFlight : 0) + inTransit.pending());
    sim = new LeapcraftSimulator({ deviceCount: 12, seed: 4, latencyMs: 0, tokenLifetimeMs: 7 * 24 * 60 * MINUTE, now: () => Date.now() });
    await sim.start();
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'silent-sensor.json'), 'utf8')) as FlowNode[];
    const byName = (name: string) => example.find((n) => n.name === name)!;
    const nodes = example.map((n) => {
      if (n.type === 'leapcraft-config') return { ...n, baseUrl: sim!.baseUrl };
      if (n.type === 'debug') return { id: n.id, type: 'helper', z: 'tab', x: n.x, y: n.y };
      return { ...n, z: 'tab' };
    });
    const accountId = example.find((n) => n.type === 'leapcraft-config')!.id;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const core = ['common/90-comment.js', 'common/25-catch.js', 'function/10-switch.js', 'function/15-change.js'].map((f) => require(`@node-red/nodes/core/${f}`));
    await helper.load([configNode, telemetryNode, ...core] as never, [{ id: 'tab', type: 'tab', label: 'example' }, ...nodes] as never, { [accountId]: { apiKey: sim.apiKey } } as never);
    account = helper.getNode(accountId) as TestNode;
    const notifications: FlowNode[] = [];
    const readings = new Map<string, FlowNode>();
    const errors: FlowNode[] = [];
    (helper.getNode(byName('notification (e-mail, Pushover, Telegram …)').id) as TestNode).on('input', (m: FlowNode) => notifications.push({ at: Date.now(), topic: m.topic, payload: m.payload }));
    (helper.getNode(byName('readings').id) as TestNode).on('input', (m: FlowNode) => readings.set(m.physical_id, m.payload));
    (helper.getNode(byName('errors').id) as TestNode).on('input', (m: FlowNode) => errors.push(m));

    await clock.runByStep(T0 + 30 * MINUTE);
    const devices = sim.devices();
    const name = (id: string) => devices.find((d) => d.physical_id === id)!.name;
    const low = devices.filter((d) => (readings.get(d.physical_id)?.data.battery ?? 100) < 20);
    assert.ok(low.length > 0, 'some battery low (seed 4)');
    assert.deepEqual(notifications.map((n) => n.topic).sort(), low.map((d) => `Battery low: ${d.name}`).sort());
    assert.ok(notifications.every((n) => n.at < T0 + MINUTE), 'at the first poll');
    notifications.length = 0;

    const quiet = devices.find((d) => !low.includes(d))!.physical_id;
    const last = Date.parse(readings.get(quiet)!.timestamp);
    sim.silence(quiet);
    await clock.runByStep(T0 + 60 * MINUTE);
    assert.deepEqual(notifications.map((n) => n.topic), [`Sensor silent: ${name(quiet)}`]);
    // Its last reading: the one the node last saw, or one it made after that poll and before it stopped.
    const since = Date.parse(/since (\S+);/.exec(notifications[0].payload)![1]);
    assert.ok(since >= last && since < last + 2 * MINUTE, notifications[0].payload);
    assert.ok(notifications[0].at - since > 3 * MINUTE && notifications[0].at - since <= 4 * MINUTE, 'after 3 periods of a minute, within a poll');
    assert.match(notifications[0].payload, /has sent no reading since .+; it reports every 1 min\.$/);
    sim.silence(quiet, false);
    await clock.runByStep(T0 + 120 * MINUTE);
    assert.deepEqual(notifications.map((n) => n.topic), [`Sensor silent: ${name(quiet)}`, `Sensor back: ${name(quiet)}`]);
    assert.deepEqual(errors, []);
    assert.equal(clock.stuckWaits, 0);
    console.log(`      notifications: ${JSON.stringify(notifications.map((n) => ({ topic: n.topic, payload: n.payload })))}`);
  });
});
