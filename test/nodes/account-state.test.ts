/**
 * The account pushes its state to every node (Node-RED's MQTT broker node pattern): a refused
 * key, a pause the API asked for and a budget that stretches the intervals reach each node's
 * status when they happen, not when that node's next answer arrives. Every node here is set so
 * that it sends nothing of its own (polling off or an hour away), in Node-RED against the simulator.
 */
import assert from 'node:assert/strict';
import type { AccountView } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import { NodeClock } from '../support/node-clock';
import { catchNode, helper, TestNode } from '../support/nodered';
import { waitFor } from '../support/wait';
import configNode = require('../../nodes/leapcraft-config');
import devicesNode = require('../../nodes/leapcraft-devices');
import notificationsNode = require('../../nodes/leapcraft-notifications');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import thingsNode = require('../../nodes/leapcraft-things');
import topologyNode = require('../../nodes/leapcraft-topology');

const COMMON = 'node-red-contrib-leapcraft/leapcraft-config:common.status';
type Status = { fill?: string; shape?: string; text?: string };
/** Node-RED's status() as the test helper spies it: one spy on the prototype, shared by every node. */
type Spy = { getCalls(): Array<{ thisValue: unknown; args: Status[] }> };

describe('account state pushed to every node', function () {
  this.timeout(30_000);
  let sim: LeapcraftSimulator;
  let time: NodeClock | undefined;
  afterEach(async () => {
    time?.stop();
    time = undefined;
    await helper.unload();
    await sim?.stop();
  });

  const NODES = [configNode, devicesNode, notificationsNode, telemetryNode, thingsNode, topologyNode, catchNode];
  const WATCHED = ['tel', 'notes', 'things', 'topo'];

  async function deploy(telemetryInterval: number, cadence = true): Promise<void> {
    // Its clock is this process's: simulated while a NodeClock runs.
    sim = new LeapcraftSimulator({ deviceCount: 12, now: () => Date.now() });
    await sim.start();
    const base = { z: 'tab', x: 100, account: 'acct', wires: [[]] };
    await helper.load(NODES, [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 4, timeout: 30 },
      { ...base, id: 'devs', type: 'leapcraft-devices', y: 50 },
      { ...base, id: 'tel', type: 'leapcraft-telemetry', y: 100, devices: '', telemetryType: 'latest', interval: telemetryInterval, output: 'device', cadence },
      { ...base, id: 'notes', type: 'leapcraft-notifications', y: 150, interval: 0 },
      { ...base, id: 'things', type: 'leapcraft-things', y: 200 },
      { ...base, id: 'topo', type: 'leapcraft-topology', y: 250 },
    ] as never, { acct: { apiKey: sim.apiKey } });
  }
  const node = (id: string) => helper.getNode(id) as TestNode;
  const calls = (id: string) => (node(id).status as unknown as Spy).getCalls().filter((c) => c.thisValue === node(id));
  const status = (id: string): Status => calls(id).at(-1)?.args[0] ?? {};
  const statusCalls = (id: string) => calls(id).length;
  const requests = () => sim.stats.requests.length;

  it('a refused key turns every node red at once, and the next accepted exchange brings each node its own status back', async () => {
    await deploy(0);
    // The telemetry node reads the device list once at deploy (for names): let that be done.
    await waitFor(() => sim.stats.requests.some((r) => r.endpoint === 'devices'), 5000, 'the device list');
    await new Promise((r) => setImmediate(r));
    const before = Object.fromEntries(WATCHED.map((id) => [id, status(id)]));
    const sent = requests();
    sim.setKeyValid(false);
    // One node asks (a msg into the devices node); only its request meets the refusal.
    node('devs').receive({});
    await waitFor(() => WATCHED.every((id) => status(id).text === `${COMMON}.keyRefused`), 5000, 'every node shows the refused key');
    for (const id of WATCHED) assert.deepEqual([status(id).fill, status(id).shape], ['red', 'ring'], id);
    const asked = sim.stats.requests.slice(sent).map((r) => r.endpoint);
    assert.deepEqual(asked, ['devices', 'token'], 'only the asked node\'s request (its token refused) and the exchange it needed');

    sim.setKeyValid(true);
    // Test connection's path: a request that skips the cool-down of a refused key.
    await (node('acct').getClient as () => { authenticate(o: object): Promise<void> })().authenticate({ retryRefusedKey: true });
    await waitFor(() => WATCHED.every((id) => status(id).text !== `${COMMON}.keyRefused`), 5000, 'every node shows its own status again');
    for (const id of WATCHED) assert.deepEqual(status(id), before[id], `${id}: its own status again`);
  });

  it('a budget that stretches the polling shows on the polling node without an answer; a pause the API asks for shows on every node', async () => {
    // Simulated time: the first round paces its 12 requests over 11 s.
    time = new NodeClock();
    await deploy(3600);
    const clock = time;
    await clock.until(() => sim.stats.requests.filter((r) => r.endpoint === 'telemetry').length === 12 && status('tel').fill === 'green', 20_000, 'the first round');
    const polled = requests();
    const shown = statusCalls('tel');
    // 12 devices every hour, a budget of 6 an hour: the intervals stretch.
    (node('acct').getScheduler as () => { setBudget(n: number): void })().setBudget(6);
    await clock.until(() => String(status('tel').text).includes(`${COMMON}.paced`), 5000, 'the pace on the telemetry node');
    assert.equal(requests(), polled, 'no request was needed for it');
    assert.ok(statusCalls('tel') > shown);
    for (const id of ['things', 'topo']) assert.doesNotMatch(String(status(id).text), /paced/, `${id} does not poll`);

    sim.injectFault({ kind: 'rate-limit', retryAfter: 120, times: 4, endpoint: 'things' });
    node('things').receive({});
    await clock.until(() => WATCHED.filter((id) => id !== 'things').every((id) => String(status(id).text).includes(`${COMMON}.apiPause`)), 5000, 'the pause on the other nodes');
  });

  it('a 429 with only a reset: every node hears the pause, the polling node the pace (cut, then speeding up), then its own interval again', async () => {
    // Polled at a fixed interval: what the keys need stays put (no period being learnt) while the pace moves.
    // Simulated time: rounds every 2 s, a pace that takes many seconds to speed up again.
    time = new NodeClock();
    await deploy(2, false);
    const clock = time;
    await clock.until(() => sim.stats.requests.filter((r) => r.endpoint === 'telemetry').length >= 24, 20_000, 'two rounds');
    const views: AccountView[] = [];
    (node('acct').register as (user: unknown, listener: (v: AccountView) => void) => void)('test', (v) => views.push({ ...v }));
    sim.injectFault({ kind: 'rate-limit', times: 1, endpoint: 'telemetry', resetAfter: 2, resetHeaders: 'ratelimit-reset' });
    await clock.until(() => views.some((v) => v.paceReason === 'rate-limited'), 10_000, 'the pace cut: API rate limit');
    const cut = views.find((v) => v.paceReason === 'rate-limited')!;
    assert.ok(cut.stretch > 1 && cut.alertsStretch === 1, `stretch ${cut.stretch}, alert checks ${cut.alertsStretch}`);
    assert.ok(cut.rateLimitedUntil !== undefined, 'the pause until the reset');
    await clock.until(() => String(status('tel').text).includes(`${COMMON}.paced`), 5000, 'the pace on the telemetry node');
    for (const id of WATCHED) assert.match(String(status(id).text), /apiPause|paced/, `${id}: the pause (or the pace)`);
    await clock.until(() => views.some((v) => v.paceReason === 'rate-recovering'), 15_000, 'speeding up again');
    await clock.until(() => views.at(-1)!.stretch === 1 && views.at(-1)!.paceReason === undefined, 30_000, 'back at the set interval');
    await clock.until(() => !String(status('tel').text).includes(`${COMMON}.paced`), 5000, 'the telemetry node\'s own status again');
    // The server's word held: nothing between the 429 and the reset it named (but a request already on the wire, 100 ms at most behind it).
    const log = sim.stats.requests;
    const limited = log.find((r) => r.status === 429)!;
    assert.deepEqual(log.filter((r) => r.at > limited.at + 100 && r.at < limited.resetAt!).map((r) => r.rawUrl), []);
  });
});
