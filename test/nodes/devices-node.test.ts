import assert from 'node:assert/strict';
import sinon from 'sinon';
import { LeapcraftSimulator } from '../../simulator';
import { NodeWork } from '../support/node-clock';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import { waitFor } from '../support/wait';
import configNode = require('../../nodes/leapcraft-config');
import devicesNode = require('../../nodes/leapcraft-devices');

const NODES = [configNode, devicesNode, catchNode];

describe('leapcraft-config and leapcraft-devices in Node-RED', function () {
  let sim: LeapcraftSimulator;
  let work: NodeWork | undefined;

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 12 });
    await sim.start();
  });
  afterEach(async () => {
    work?.stop();
    work = undefined;
    await helper.unload();
    await sim.stop();
    sinon.restore();
  });

  function flow(devices: Record<string, unknown> = {}, config: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, ...config },
      // x/y mark flow nodes: in a tab, a node without them is taken for a config node.
      { id: 'dev', type: 'leapcraft-devices', z: 'tab', x: 100, y: 100, account: 'acct', physicalId: '', wires: [['out']], ...devices },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = (apiKey = sim.apiKey) => ({ acct: { apiKey } });

  it('keeps the API key in credentials, not in node properties', async () => {
    await helper.load(NODES, flow(), creds());
    const acct = helper.getNode('acct') as TestNode;
    assert.equal((acct.credentials as { apiKey: string }).apiKey, sim.apiKey);
    assert.ok(!JSON.stringify(Object.keys(acct)).includes('apiKey'));
  });

  it('outputs the full device list and keeps the incoming msg', async () => {
    await helper.load(NODES, flow(), creds());
    const dev = helper.getNode('dev') as TestNode;
    const out = nextMessages(helper.getNode('out') as TestNode);
    dev.receive({ payload: 'go', topic: 'mqtt/room/1', req: { keep: true }, extra: 42 } as never);
    const [msg] = await out;
    assert.deepEqual(msg.payload, sim.devices());
    assert.equal(msg.topic, 'mqtt/room/1');
    assert.deepEqual(msg.req, { keep: true });
    assert.equal(msg.extra, 42);
    assert.equal(sim.stats.byEndpoint.devices, 1);
  });

  it('shows requesting, then the device count', async () => {
    await helper.load(NODES, flow(), creds());
    const dev = helper.getNode('dev') as TestNode;
    const status = dev.status as unknown as sinon.SinonSpy; // the helper spies on every node's status
    const out = nextMessages(helper.getNode('out') as TestNode);
    dev.receive({} as never);
    await out;
    const texts = status.getCalls().map((c) => (c.args[0] as { text?: string }).text);
    assert.deepEqual(texts.map((t) => t!.replace(/^.*:/, '')), ['common.status.idle', 'common.status.requesting', 'leapcraft-devices.status.devices']);
    assert.deepEqual((status.lastCall.args[0] as { fill: string }).fill, 'green');
  });

  it('outputs one device\'s details for the node\'s physicalId', async () => {
    const id = sim.devices()[3].physical_id;
    await helper.load(NODES, flow({ physicalId: id }), creds());
    const out = nextMessages(helper.getNode('out') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await out;
    assert.equal((msg.payload as { physical_id: string }).physical_id, id);
    assert.equal(sim.stats.byEndpoint.device, 1);
  });

  it('msg.physical_id overrides the node setting; msg.topic is never read as an id', async () => {
    const [first, second] = sim.devices();
    await helper.load(NODES, flow({ physicalId: first.physical_id }), creds());
    const out = nextMessages(helper.getNode('out') as TestNode);
    (helper.getNode('dev') as TestNode).receive({ physical_id: second.physical_id, topic: first.physical_id } as never);
    const [msg] = await out;
    assert.equal((msg.payload as { physical_id: string }).physical_id, second.physical_id);
  });

  it('sends errors to a Catch node with msg.error.code and a red status', async () => {
    await helper.load(NODES, flow({ physicalId: 'no-such-device' }), creds());
    const dev = helper.getNode('dev') as TestNode;
    const status = dev.status as unknown as sinon.SinonSpy;
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    dev.receive({ payload: 'x', keep: 'me' } as never);
    const [msg] = await caught;
    const error = msg.error as { code: string; message: string };
    assert.equal(error.code, 'LEAPCRAFT_NOT_FOUND');
    assert.match(error.message, /HTTP 404/);
    assert.equal(msg.keep, 'me');
    assert.equal((status.lastCall.args[0] as { fill: string }).fill, 'red');
  });

  it('a wrong key reaches the Catch node as LEAPCRAFT_AUTH, without the key', async () => {
    await helper.load(NODES, flow(), creds('wrong-key-123'));
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await caught;
    const error = msg.error as { code: string; message: string };
    assert.equal(error.code, 'LEAPCRAFT_AUTH');
    assert.ok(!JSON.stringify(msg).includes('wrong-key-123'));
  });

  for (const bad of ['', '   ', Infinity, { id: 1 }, ['a'], 'x'.repeat(10_240), 'a\u0000b', '..']) {
    it(`rejects msg.physical_id ${JSON.stringify(bad)?.slice(0, 20)} before any request`, async () => {
      await helper.load(NODES, flow(), creds());
      const caught = nextMessages(helper.getNode('caught') as TestNode);
      (helper.getNode('dev') as TestNode).receive({ physical_id: bad } as never);
      const [msg] = await caught;
      assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(sim.stats.total, 0);
    });
  }

  it('without an account reports LEAPCRAFT_INVALID_INPUT to Catch', async () => {
    await helper.load(NODES, flow({ account: '' }), creds());
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await caught;
    assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
    assert.equal(sim.stats.total, 0);
  });

  it('refuses a plain-http base URL that is not loopback, sending nothing', async () => {
    await helper.load(NODES, flow({}, { baseUrl: 'http://api.example.com/v1' }), creds());
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await caught;
    const error = msg.error as { code: string; message: string };
    assert.equal(error.code, 'LEAPCRAFT_INVALID_INPUT');
    assert.match(error.message, /https/);
  });


  for (const [field, bad] of [['concurrency', 'abc'], ['concurrency', -5], ['concurrency', 0], ['concurrency', 1024], ['concurrency', 2.5],
    ['timeout', 'abc'], ['timeout', -5], ['timeout', 0.5], ['timeout', 301]] as const) {
    it(`refuses the account setting ${field} = ${JSON.stringify(bad)} instead of guessing, sending nothing`, async () => {
      await helper.load(NODES, flow({}, { [field]: bad }), creds());
      const caught = nextMessages(helper.getNode('caught') as TestNode);
      (helper.getNode('dev') as TestNode).receive({} as never);
      const [msg] = await caught;
      const error = msg.error as { code: string; message: string };
      assert.equal(error.code, 'LEAPCRAFT_INVALID_INPUT');
      assert.match(error.message, new RegExp(field));
      assert.equal(sim.stats.total, 0);
    });
  }

  it('an empty concurrency or timeout takes the default', async () => {
    await helper.load(NODES, flow({}, { concurrency: '', timeout: '' }), creds());
    const out = nextMessages(helper.getNode('out') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await out;
    assert.equal((msg.payload as unknown[]).length, 12);
  });
  it('close aborts in-flight work: no output, no error, sockets freed', async () => {
    const nodes = work = new NodeWork();
    await helper.load(NODES, flow(), creds());
    await nodes.idle();
    sim.injectFault({ kind: 'hang', endpoint: 'devices' });
    const outs = collect(helper.getNode('out') as TestNode);
    const errs = collect(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    await waitFor(() => sim.stats.byEndpoint.devices === 1, 1000, 'the request on the wire');
    assert.ok(sim.openConnections() > 0);
    await helper.unload();
    await waitFor(() => sim.openConnections() === 0, 1000, 'the sockets freed');
    // The aborted request has ended and what it led to has run.
    await nodes.idle();
    assert.equal(outs.length, 0);
    assert.equal(errs.length, 0);
  });

  it('shares one client: two devices nodes on one account exchange one token', async () => {
    const f = flow();
    f.push({ id: 'dev2', type: 'leapcraft-devices', z: 'tab', x: 100, y: 300, account: 'acct', physicalId: '', wires: [['out']] } as never);
    await helper.load(NODES, f, creds());
    const out = nextMessages(helper.getNode('out') as TestNode, 2);
    (helper.getNode('dev') as TestNode).receive({} as never);
    (helper.getNode('dev2') as TestNode).receive({} as never);
    await out;
    assert.equal(sim.stats.byEndpoint.token, 1);
  });
});
