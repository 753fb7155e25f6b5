import assert from 'node:assert/strict';
import http from 'node:http';
import sinon from 'sinon';
import { LeapcraftSimulator } from '../../simulator';
import type { NodeAPI } from '../../nodes/common/types';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import topologyNode = require('../../nodes/leapcraft-topology');

type Msg = Record<string, unknown>;
type Status = { fill?: string; shape?: string; text?: string };
type Entry = Record<string, unknown> & { physical_id?: string };
type Topo = Record<string, unknown> & { gateway_id: string; devices?: Entry[]; device_count?: number };

/** A fixed simulator clock, so `last_seen` in topology details is the same in every read. */
const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

/** One HTTP exchange on a fresh socket (agent: false), outside our client: the reference reader. */
function rawRequest(url: string, method: string, headers: Record<string, string>, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers, agent: false }, (res) => {
      let data = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { data += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: data }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** What the simulator serves at `path`, read over plain HTTP with a token of its own. */
async function apiGet<T>(sim: LeapcraftSimulator, path: string): Promise<T> {
  const tok = await rawRequest(`${sim.baseUrl}/auth/client/token`, 'POST',
    { 'Content-Type': 'application/x-www-form-urlencoded' }, `api_key=${encodeURIComponent(sim.apiKey)}`);
  assert.equal(tok.status, 200);
  const { token } = JSON.parse(tok.body) as { token: string };
  const res = await rawRequest(`${sim.baseUrl}${path}`, 'GET', { Authorization: `Bearer ${token}` });
  assert.equal(res.status, 200, `GET ${path}`);
  return JSON.parse(res.body) as T;
}

describe('leapcraft-topology in Node-RED', function () {
  let sim: LeapcraftSimulator;
  /** Node-RED's RED._ as the node sees it (the helper's returns the key), spied to see the parameters. */
  let i18n: sinon.SinonSpy;

  // The unchanged node module; the wrapper only spies on the RED object the helper hands it.
  const spiedTopologyNode = (RED: NodeAPI) => {
    i18n = sinon.spy(RED as unknown as { _: (...args: unknown[]) => string }, '_');
    return topologyNode(RED);
  };
  const NODES = [configNode, spiedTopologyNode, catchNode];

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 12, gateways: 3, now: () => NOW });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    sinon.restore();
  });

  function flow(props: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      // x/y mark flow nodes: in a tab, a node without them is taken for a config node.
      { id: 'topo', type: 'leapcraft-topology', z: 'tab', x: 100, y: 100, account: 'acct', topologyId: '', joinDevices: false, wires: [['out']], ...props },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const topo = () => helper.getNode('topo') as TestNode;
  const out = () => helper.getNode('out') as TestNode;
  const caught = () => helper.getNode('caught') as TestNode;

  /** This node's status calls (the helper's spy sits on the Node prototype, shared by all nodes). */
  function statuses(node: TestNode): Status[] {
    const spy = node.status as unknown as sinon.SinonSpy;
    return spy.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0] as Status);
  }
  /** Status text without the common catalog's namespace prefix. */
  const key = (s: Status) => (s.text ?? '').replace(/^.*:/, '');

  /** The gateways and topology details as the simulator serves them; the stats are zeroed afterwards. */
  async function reference() {
    const list = await apiGet<Topo[]>(sim, '/topologies');
    const details = new Map<string, Topo>();
    for (const t of list) details.set(t.gateway_id, await apiGet<Topo>(sim, `/topologies/${encodeURIComponent(t.gateway_id)}`));
    sim.resetStats();
    return { list, details, ids: list.map((t) => t.gateway_id) };
  }

  describe('all topologies', () => {
    it('outputs the topology list exactly as the simulator serves it, with one request', async () => {
      const { list } = await reference();
      assert.equal(list.length, 3);
      await helper.load(NODES, flow(), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      const [msg] = await got;
      assert.deepEqual(msg.payload, list);
      assert.equal(sim.stats.byEndpoint.topologies, 1);
      assert.equal(sim.stats.byEndpoint.topology, 0);
      assert.equal(sim.stats.byEndpoint.devices, 0);
      assert.equal(sim.stats.total, 2, 'the token exchange and GET /topologies, nothing else');
    });

    it('shows idle, requesting, then the topologies key with the count', async () => {
      await helper.load(NODES, flow(), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      await got;
      const calls = statuses(topo());
      assert.deepEqual(calls.map(key), ['common.status.idle', 'common.status.requesting', 'leapcraft-topology.status.topologies']);
      assert.equal(calls.at(-1)!.fill, 'green');
      const translated = i18n.getCalls().filter((c) => c.args[0] === 'leapcraft-topology.status.topologies');
      assert.equal(translated.length, 1);
      assert.deepEqual(translated[0].args[1], { count: 3 });
    });

    it('msg.topic is never read as an id: without a topology set, a topic still lists all', async () => {
      const { ids } = await reference();
      await helper.load(NODES, flow(), creds());
      const got = nextMessages(out());
      topo().receive({ topic: ids[0] } as never);
      const [msg] = await got;
      assert.ok(Array.isArray(msg.payload));
      assert.equal((msg.payload as Topo[]).length, 3);
      assert.equal(sim.stats.byEndpoint.topology, 0);
    });

    it('joinDevices: every topology carries its devices, each joined with its device-list entry', async () => {
      const { list, details } = await reference();
      const directory = new Map(sim.devices().map((d) => [d.physical_id, d]));
      await helper.load(NODES, flow({ joinDevices: true }), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      const [msg] = await got;
      const payload = msg.payload as Topo[];
      assert.equal(payload.length, list.length);
      let joined = 0;
      for (const [i, t] of payload.entries()) {
        const listed = list[i];
        const detail = details.get(listed.gateway_id)!;
        // List fields kept (device_count only exists in the list), details merged in.
        for (const [k, v] of Object.entries(listed)) assert.deepEqual(t[k], v, `${listed.gateway_id}.${k}`);
        assert.ok(Array.isArray(t.devices), `${listed.gateway_id} has devices`);
        assert.equal(t.devices!.length, listed.device_count);
        for (const [j, entry] of t.devices!.entries()) {
          const api = detail.devices![j];
          const device = directory.get(api.physical_id!)!;
          assert.deepEqual(entry, { ...api, name: device.name, device });
          joined++;
        }
      }
      assert.equal(joined, directory.size, 'every device of the account appears once');
      assert.equal(sim.stats.byEndpoint.devices, 1);
      assert.equal(sim.stats.byEndpoint.topologies, 1);
      assert.equal(sim.stats.byEndpoint.topology, list.length, 'one details request per gateway');
    });
  });

  describe('one topology', () => {
    it('outputs the details for the node\'s topologyId as the simulator serves them, with one request', async () => {
      const { ids, details } = await reference();
      const id = ids[1];
      await helper.load(NODES, flow({ topologyId: id }), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      const [msg] = await got;
      assert.deepEqual(msg.payload, details.get(id));
      const apiCalls = sim.stats.requests.filter((r) => r.endpoint !== 'token');
      assert.deepEqual(apiCalls.map((r) => r.rawUrl), [`/v1/topologies/${id}`]);
      const calls = statuses(topo());
      assert.equal(key(calls.at(-1)!), 'leapcraft-topology.status.topology');
      assert.equal(calls.at(-1)!.fill, 'green');
      const translated = i18n.getCalls().filter((c) => c.args[0] === 'leapcraft-topology.status.topology');
      assert.deepEqual(translated.map((c) => c.args[1]), [{ id, count: details.get(id)!.devices!.length }]);
    });

    it('msg.topology_id overrides the node\'s topologyId; msg.topic is never read as an id', async () => {
      const { ids, details } = await reference();
      const [configured, requested, inTopic] = ids;
      await helper.load(NODES, flow({ topologyId: configured }), creds());
      const got = nextMessages(out());
      topo().receive({ topology_id: requested, topic: inTopic } as never);
      const [msg] = await got;
      assert.deepEqual(msg.payload, details.get(requested));
      const apiCalls = sim.stats.requests.filter((r) => r.endpoint !== 'token');
      assert.deepEqual(apiCalls.map((r) => r.rawUrl), [`/v1/topologies/${requested}`]);
      assert.equal(msg.topic, inTopic);
    });

    it('joinDevices: each device gains name from the device list and the list entry as `device`; API fields kept', async () => {
      const { ids, details } = await reference();
      const id = ids[0];
      const directory = new Map(sim.devices().map((d) => [d.physical_id, d]));
      await helper.load(NODES, flow({ topologyId: id, joinDevices: true }), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      const [msg] = await got;
      const api = details.get(id)!;
      const payload = msg.payload as Topo;
      const { devices: apiDevices, ...apiRest } = api;
      const { devices, ...rest } = payload;
      assert.deepEqual(rest, apiRest, 'the topology\'s own fields are kept');
      assert.ok(apiDevices!.length > 0);
      assert.deepEqual(devices, apiDevices!.map((e) => {
        const device = directory.get(e.physical_id!)!;
        // The simulator's entries carry type already (kept as the API sent it) but no name.
        assert.equal(e.name, undefined);
        return { ...e, name: device.name, device };
      }));
      assert.equal(sim.stats.byEndpoint.devices, 1);
      assert.equal(sim.stats.byEndpoint.topology, 1);
      assert.equal(sim.stats.byEndpoint.topologies, 0);
    });

    it('joinDevices fills in only what an entry lacks and leaves unknown devices and odd entries alone', async () => {
      const { ids } = await reference();
      const id = ids[0];
      const [d0, d1] = sim.devices();
      // A topology body the simulator would not produce by itself: one entry without name and type,
      // one with its own name and type, one not in the device list, and a null.
      const entries: unknown[] = [
        { physical_id: d0.physical_id, serial: 'S-0', rssi: -50 },
        { physical_id: d1.physical_id, name: 'Name from the topology', type: 'type-from-topology', rssi: -60 },
        { physical_id: 'not-in-the-list', rssi: -70 },
        null,
      ];
      const body = { gateway_id: id, name: 'GW', created_at: '2024-01-01 00:00:00', devices: entries };
      sim.injectFault({ kind: 'status', status: 200, endpoint: 'topology', times: 1, body: JSON.stringify(body) });
      await helper.load(NODES, flow({ topologyId: id, joinDevices: true }), creds());
      const got = nextMessages(out());
      topo().receive({} as never);
      const [msg] = await got;
      assert.deepEqual(msg.payload, {
        ...body,
        devices: [
          { ...(entries[0] as object), name: d0.name, type: d0.type, device: d0 },
          { ...(entries[1] as object), device: d1 },
          entries[2],
          null,
        ],
      });
    });

    it('an unknown id reaches Catch as LEAPCRAFT_NOT_FOUND with a red status, the msg kept', async () => {
      await helper.load(NODES, flow({ topologyId: 'no-such-gateway' }), creds());
      const errs = nextMessages(caught());
      topo().receive({ payload: 'x', keep: 'me' } as never);
      const [msg] = await errs;
      const error = msg.error as { code: string; message: string };
      assert.equal(error.code, 'LEAPCRAFT_NOT_FOUND');
      assert.match(error.message, /HTTP 404/);
      assert.equal(msg.keep, 'me');
      const last = statuses(topo()).at(-1)!;
      assert.equal(last.fill, 'red');
      assert.equal(key(last), 'common.error.LEAPCRAFT_NOT_FOUND');
    });

    for (const bad of ['', {}, 'x'.repeat(10_240), '..', 'a\u0000b']) {
      it(`rejects msg.topology_id ${JSON.stringify(bad).slice(0, 20)} before any request`, async () => {
        await helper.load(NODES, flow(), creds());
        const errs = nextMessages(caught());
        topo().receive({ topology_id: bad } as never);
        const [msg] = await errs;
        const error = msg.error as { code: string; message: string };
        assert.equal(error.code, 'LEAPCRAFT_INVALID_INPUT');
        assert.match(error.message, /msg\.topology_id/);
        assert.equal(sim.stats.total, 0);
        assert.equal(statuses(topo()).at(-1)!.fill, 'red');
      });
    }

    const hostile: Array<[string, string]> = [
      ['../devices', '/v1/topologies/..%2Fdevices'],
      ['a b/c?d#e', '/v1/topologies/a%20b%2Fc%3Fd%23e'],
      ['%2e%2e', '/v1/topologies/%252e%252e'],
    ];
    for (const [id, rawUrl] of hostile) {
      it(`keeps the hostile id ${JSON.stringify(id)} inside its path segment`, async () => {
        await helper.load(NODES, flow(), creds());
        const errs = nextMessages(caught());
        topo().receive({ topology_id: id } as never);
        const [msg] = await errs;
        assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_NOT_FOUND');
        const apiCalls = sim.stats.requests.filter((r) => r.endpoint !== 'token');
        assert.deepEqual(apiCalls.map((r) => [r.endpoint, r.rawUrl]), [['topology', rawUrl]]);
      });
    }
  });

  it('keeps every other property of the incoming msg and replaces only the payload', async () => {
    const { ids } = await reference();
    await helper.load(NODES, flow({ topologyId: ids[2] }), creds());
    const got = nextMessages(out());
    topo().receive({ payload: 'go', topic: 'building/1', req: { keep: true }, extra: 42, _msgid: 'm-1' } as never);
    const [msg] = await got;
    assert.equal((msg.payload as Topo).gateway_id, ids[2]);
    assert.equal(msg.topic, 'building/1');
    assert.deepEqual(msg.req, { keep: true });
    assert.equal(msg.extra, 42);
    assert.equal(msg._msgid, 'm-1');
  });

  describe('a bad topologyId setting', () => {
    it('shows a red status and logs the error at deploy', async () => {
      await helper.load(NODES, flow({ topologyId: '..' }), creds());
      const node = topo();
      const calls = statuses(node);
      assert.deepEqual(calls.map((s) => [s.fill, key(s)]), [['red', 'common.error.LEAPCRAFT_INVALID_INPUT']]);
      const errorSpy = node.error as unknown as sinon.SinonSpy;
      const logged = errorSpy.getCalls().filter((c) => c.thisValue === node);
      assert.equal(logged.length, 1);
      assert.equal((logged[0].args[0] as { code?: string }).code, 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(sim.stats.total, 0);
    });

    // A misconfigured node must not swallow msgs: each one reaches Catch with the setting's error.
    it('answers a msg with LEAPCRAFT_INVALID_INPUT at Catch instead of dropping it', async () => {
      await helper.load(NODES, flow({ topologyId: '..' }), creds());
      const outs = collect(out());
      const errs = nextMessages(caught(), 1, 1000);
      topo().receive({ keep: 'me' } as never);
      const [msg] = await errs;
      assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(msg.keep, 'me');
      assert.equal(outs.length, 0);
      assert.equal(sim.stats.total, 0);
    });
  });
});
