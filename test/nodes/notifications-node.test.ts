import assert from 'node:assert/strict';
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { NodeClock, NodeWork } from '../support/node-clock';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import notificationsNode = require('../../nodes/leapcraft-notifications');

const NODES = [configNode, notificationsNode, catchNode];

type Alert = { id?: string; physical_id: string; created_at: string };

/** The node's check interval in these flows (1 s). */
const INTERVAL = 1000;

describe('leapcraft-notifications', function () {
  let sim: LeapcraftSimulator;
  /** Simulated time (started before the flow loads), or what is under way, for the tests that wait for the node. */
  let clock: NodeClock | undefined;
  let work: NodeWork | undefined;

  async function startSim(options: SimulatorOptions = {}) {
    // Its clock is this process's: simulated while a NodeClock runs.
    sim = new LeapcraftSimulator({ deviceCount: 12, now: () => Date.now(), ...options });
    await sim.start();
  }
  function fakeTime(): NodeClock {
    clock = new NodeClock();
    return clock;
  }
  function watchWork(): NodeWork {
    work = new NodeWork();
    return work;
  }
  afterEach(async () => {
    clock?.stop();
    clock = undefined;
    work?.stop();
    work = undefined;
    await helper.unload();
    await sim?.stop();
  });

  function flow(props: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      { id: 'ntf', type: 'leapcraft-notifications', z: 'tab', x: 100, y: 100, account: 'acct', interval: 1, physicalId: '', emitExisting: false, store: '', wires: [['out']], ...props },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const notificationRequests = () => sim.stats.byEndpoint.notifications ?? 0;

  /** The first check (every page of it) answered and handled. */
  function firstCheckDone(time: NodeClock): Promise<void> {
    return time.until(() => notificationRequests() > 0, INTERVAL, 'the first check');
  }

  for (const order of ['newest', 'oldest'] as const) {
    it(`a backlog of 57 and 3 new alerts gives exactly 3 msgs, oldest first (API order ${order} first)`, async () => {
      const time = fakeTime();
      await startSim({ initialAlerts: 57, alertOrder: order });
      await helper.load(NODES, flow(), creds());
      const got = collect(helper.getNode('out') as TestNode);
      await firstCheckDone(time);
      assert.equal(got.length, 0, 'the backlog is recorded, not emitted');
      const raised = [sim.raiseAlert(), sim.raiseAlert(), sim.raiseAlert()];
      const checks = notificationRequests();
      // The next check, and two more: nothing further may arrive.
      await time.run(3 * INTERVAL + 1);
      assert.ok(notificationRequests() >= checks + 3, `${notificationRequests() - checks} checks`);
      console.log(`      measured (${order} first): backlog 57 + 3 new -> ${got.length} msgs`);
      assert.equal(got.length, 3);
      assert.deepEqual(got.map((m) => (m.payload as Alert).id), raised.map((a) => a.id));
      assert.deepEqual(got.map((m) => m.topic), raised.map((a) => a.physical_id));
    });
  }

  it('reads the backlog in pages of 50 and stops at the first seen alert afterwards', async () => {
    await startSim({ initialAlerts: 57 });
    await helper.load(NODES, flow({ interval: 0 }), creds());
    const ntf = helper.getNode('ntf') as TestNode;
    const nodes = watchWork();
    ntf.receive({} as never);
    await nodes.idle();
    const first = sim.stats.requests.filter((r) => r.endpoint === 'notifications').map((r) => r.rawUrl);
    assert.deepEqual(first.map((u) => new URL(u, 'http://x').searchParams.get('offset')), ['0', '50']);
    assert.ok(first.every((u) => new URL(u, 'http://x').searchParams.get('limit') === '50'));
    sim.resetStats();
    sim.raiseAlert();
    const out = nextMessages(helper.getNode('out') as TestNode);
    ntf.receive({} as never);
    await out;
    assert.equal(notificationRequests(), 1);
  });

  it('emits the backlog on first start when asked to', async () => {
    const time = fakeTime();
    await startSim({ initialAlerts: 57 });
    await helper.load(NODES, flow({ emitExisting: true }), creds());
    const got = collect(helper.getNode('out') as TestNode);
    await firstCheckDone(time);
    assert.equal(got.length, 57);
    const times = got.map((m) => Date.parse((m.payload as Alert).created_at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    const checks = notificationRequests();
    await time.run(3 * INTERVAL);
    assert.ok(notificationRequests() >= checks + 2, `${notificationRequests() - checks} later checks`);
    assert.equal(got.length, 57, 'later checks emit nothing more');
  });

  it('recognises alerts without ids by their content', async () => {
    const time = fakeTime();
    await startSim({ initialAlerts: 20, alertIds: false });
    await helper.load(NODES, flow(), creds());
    const got = collect(helper.getNode('out') as TestNode);
    await firstCheckDone(time);
    sim.raiseAlert();
    sim.raiseAlert();
    // The next check, and two more that must add nothing.
    await time.run(3 * INTERVAL + 1);
    assert.equal(got.length, 2);
    assert.equal((got[0].payload as Alert).id, undefined);
  });

  it('filters by physicalId and sends it to the API', async () => {
    await startSim();
    const [a, b] = sim.devices();
    await helper.load(NODES, flow({ physicalId: a.physical_id, interval: 0 }), creds());
    const ntf = helper.getNode('ntf') as TestNode;
    const nodes = watchWork();
    ntf.receive({} as never);
    await nodes.idle();
    sim.raiseAlert({ physical_id: b.physical_id });
    sim.raiseAlert({ physical_id: a.physical_id });
    const out = nextMessages(helper.getNode('out') as TestNode);
    ntf.receive({ keep: 'me' } as never);
    const [msg] = await out;
    assert.equal(msg.topic, a.physical_id);
    assert.equal(msg.keep, 'me', 'the input msg is copied onto each alert msg');
    const url = sim.stats.requests.filter((r) => r.endpoint === 'notifications').at(-1)!.rawUrl;
    assert.equal(new URL(url, 'http://x').searchParams.get('physical_id'), a.physical_id);
  });

  it('with interval 0 only checks when a msg arrives', async () => {
    const time = fakeTime();
    await startSim({ initialAlerts: 5 });
    await helper.load(NODES, flow({ interval: 0 }), creds());
    await time.run(10 * 60_000);
    assert.equal(notificationRequests(), 0, 'no check in 10 minutes');
  });

  it('reports errors to Catch with the code and stops on close', async () => {
    const time = fakeTime();
    await startSim();
    sim.setKeyValid(false);
    await helper.load(NODES, flow(), creds());
    const caught = collect(helper.getNode('caught') as TestNode);
    await time.until(() => caught.length > 0, INTERVAL, 'the error');
    assert.equal((caught[0].error as { code: string }).code, 'LEAPCRAFT_AUTH');
    await helper.unload();
    const before = sim.stats.total;
    await time.run(10 * 60_000);
    assert.equal(sim.stats.total, before, 'no request in the 10 minutes after the close');
  });

  it('refuses a bad physicalId setting at start without sending anything', async () => {
    const time = fakeTime();
    await startSim();
    await helper.load(NODES, flow({ physicalId: 'a\u0000b' }), creds());
    await time.run(10 * 60_000);
    assert.equal(sim.stats.total, 0, 'no request in 10 minutes');
    const ntf = helper.getNode('ntf') as TestNode;
    const status = (ntf.status as unknown as { lastCall: { args: Array<{ fill: string }> } }).lastCall.args[0];
    assert.equal(status.fill, 'red');
  });
});
