import assert from 'node:assert/strict';
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import notificationsNode = require('../../nodes/leapcraft-notifications');
import { sleep } from '../support/wait';

const NODES = [configNode, notificationsNode, catchNode];

type Alert = { id?: string; physical_id: string; created_at: string };

describe('leapcraft-notifications', function () {
  let sim: LeapcraftSimulator;

  async function startSim(options: SimulatorOptions = {}) {
    sim = new LeapcraftSimulator({ deviceCount: 12, ...options });
    await sim.start();
  }
  afterEach(async () => {
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

  async function firstCheckDone() {
    for (let i = 0; i < 200 && notificationRequests() === 0; i++) await sleep(10);
    await sleep(100);
  }

  for (const order of ['newest', 'oldest'] as const) {
    it(`a backlog of 57 and 3 new alerts gives exactly 3 msgs, oldest first (API order ${order} first)`, async () => {
      await startSim({ initialAlerts: 57, alertOrder: order });
      await helper.load(NODES, flow(), creds());
      const got = collect(helper.getNode('out') as TestNode);
      await firstCheckDone();
      assert.equal(got.length, 0, 'the backlog is recorded, not emitted');
      const raised = [sim.raiseAlert(), sim.raiseAlert(), sim.raiseAlert()];
      await nextMessages(helper.getNode('out') as TestNode, 3).catch(() => undefined);
      await sleep(2500); // two more checks: nothing further may arrive
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
    ntf.receive({} as never);
    await sleep(300);
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
    await startSim({ initialAlerts: 57 });
    await helper.load(NODES, flow({ emitExisting: true }), creds());
    const all = collect(helper.getNode('out') as TestNode);
    const got = await nextMessages(helper.getNode('out') as TestNode, 57);
    const times = got.map((m) => Date.parse((m.payload as Alert).created_at));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first');
    await sleep(1500);
    assert.equal(all.length, 57, 'later checks emit nothing more');
  });

  it('recognises alerts without ids by their content', async () => {
    await startSim({ initialAlerts: 20, alertIds: false });
    await helper.load(NODES, flow(), creds());
    const got = collect(helper.getNode('out') as TestNode);
    await firstCheckDone();
    sim.raiseAlert();
    sim.raiseAlert();
    await sleep(2500);
    assert.equal(got.length, 2);
    assert.equal((got[0].payload as Alert).id, undefined);
  });

  it('filters by physicalId and sends it to the API', async () => {
    await startSim();
    const [a, b] = sim.devices();
    await helper.load(NODES, flow({ physicalId: a.physical_id, interval: 0 }), creds());
    const ntf = helper.getNode('ntf') as TestNode;
    ntf.receive({} as never);
    await sleep(200);
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
    await startSim({ initialAlerts: 5 });
    await helper.load(NODES, flow({ interval: 0 }), creds());
    await sleep(1200);
    assert.equal(notificationRequests(), 0);
  });

  it('reports errors to Catch with the code and stops on close', async () => {
    await startSim();
    sim.setKeyValid(false);
    await helper.load(NODES, flow(), creds());
    const [msg] = await nextMessages(helper.getNode('caught') as TestNode);
    assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_AUTH');
    await helper.unload();
    const before = sim.stats.total;
    await sleep(1500);
    assert.equal(sim.stats.total, before, 'no request after close');
  });

  it('refuses a bad physicalId setting at start without sending anything', async () => {
    await startSim();
    await helper.load(NODES, flow({ physicalId: 'a\u0000b' }), creds());
    await sleep(1200);
    assert.equal(sim.stats.total, 0);
    const ntf = helper.getNode('ntf') as TestNode;
    const status = (ntf.status as unknown as { lastCall: { args: Array<{ fill: string }> } }).lastCall.args[0];
    assert.equal(status.fill, 'red');
  });
});
