import assert from 'node:assert/strict';
import path from 'node:path';
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { catchNode, collect, helper, nextMessages, sleep, TestNode } from '../support/nodered';
import { readJsonLines, RealNodeRed, waitFor } from '../support/real-nodered';
import configNode = require('../../nodes/leapcraft-config');
import notificationsNode = require('../../nodes/leapcraft-notifications');

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

  describe('across restarts of a real Node-RED with a file-backed context store', function () {
    this.timeout(90_000);
    let red: RealNodeRed;
    afterEach(async () => { await red?.dispose(); });

    it('emits nothing twice after a restart and each alert raised while stopped exactly once', async () => {
      await startSim({ initialAlerts: 57 });
      red = new RealNodeRed({
        settingsSource: `contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { flushInterval: 1 } } },`,
      });
      const outFile = path.join(red.userDir, 'alerts.jsonl');
      const flows = [
        { id: 'tab1', type: 'tab', label: 'alerts' },
        { id: 'acct1', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, credentials: { apiKey: sim.apiKey } },
        { id: 'ntf1', type: 'leapcraft-notifications', z: 'tab1', x: 120, y: 80, account: 'acct1', interval: 1, physicalId: '', emitExisting: false, store: 'file', wires: [['file1']] },
        { id: 'file1', type: 'file', z: 'tab1', x: 320, y: 80, filename: outFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
      ];
      await red.start();
      await red.deploy(flows);
      await waitFor(() => notificationRequests() >= 2, 10_000, 'the first check');
      await sleep(1500);
      assert.equal(readJsonLines(outFile).length, 0, 'backlog recorded, not emitted');

      const before = [sim.raiseAlert(), sim.raiseAlert(), sim.raiseAlert()];
      await waitFor(() => readJsonLines(outFile).length >= 3, 10_000, '3 alerts');
      await sleep(2500);
      assert.deepEqual(readJsonLines(outFile).map((a) => (a as Alert).id), before.map((a) => a.id));

      await red.stop();
      const whileDown = [sim.raiseAlert(), sim.raiseAlert()];
      sim.resetStats();
      await red.start();
      await waitFor(() => readJsonLines(outFile).length >= 5, 15_000, 'the alerts raised while stopped');
      await sleep(3000);
      const all = readJsonLines(outFile).map((a) => (a as Alert).id);
      const again = all.slice(0, 3).filter((id, i) => all.indexOf(id) !== i).length + all.slice(3).filter((id) => before.some((b) => b.id === id)).length;
      console.log(`      measured: after restart ${again} re-emitted; ${all.slice(3).length} emitted for the 2 raised while stopped (${new Set(all).size} distinct of ${all.length})`);
      assert.deepEqual(all, [...before, ...whileDown].map((a) => a.id), 'each once, nothing re-emitted');
      assert.doesNotMatch(red.log, /\[error\]/);
    });
  });
});
