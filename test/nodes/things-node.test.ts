import assert from 'node:assert/strict';
import http from 'node:http';
import sinon from 'sinon';
import { LeapcraftSimulator, Thing } from '../../simulator';
import type { NodeAPI } from '../../nodes/common/types';
import { NodeWork } from '../support/node-clock';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import { waitFor } from '../support/wait';
import configNode = require('../../nodes/leapcraft-config');
import thingsNode = require('../../nodes/leapcraft-things');

type Status = { fill?: string; shape?: string; text?: string };

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

describe('leapcraft-things in Node-RED', function () {
  let sim: LeapcraftSimulator;
  let work: NodeWork | undefined;
  /** Every thing the simulator has (15 by default), read before the flow runs. */
  let allThings: Thing[];
  /** Node-RED's RED._ as the node sees it (the helper's returns the key), spied to see the parameters. */
  let i18n: sinon.SinonSpy;

  // The unchanged node module; the wrapper only spies on the RED object the helper hands it.
  const spiedThingsNode = (RED: NodeAPI) => {
    i18n = sinon.spy(RED as unknown as { _: (...args: unknown[]) => string }, '_');
    return thingsNode(RED);
  };
  const NODES = [configNode, spiedThingsNode, catchNode];

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 12 });
    await sim.start();
    allThings = await apiGet<Thing[]>(sim, '/things?limit=-1');
    assert.equal(allThings.length, 15);
    sim.resetStats();
  });
  afterEach(async () => {
    work?.stop();
    work = undefined;
    await helper.unload();
    await sim.stop();
    sinon.restore();
  });

  function flow(props: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      // x/y mark flow nodes: in a tab, a node without them is taken for a config node.
      { id: 'things', type: 'leapcraft-things', z: 'tab', x: 100, y: 100, account: 'acct', limit: '', wires: [['out']], ...props },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const things = () => helper.getNode('things') as TestNode;
  const out = () => helper.getNode('out') as TestNode;
  const caught = () => helper.getNode('caught') as TestNode;
  const thingsRequests = () => sim.stats.requests.filter((r) => r.endpoint === 'things');
  const sentLimits = () => thingsRequests().map((r) => new URL(r.rawUrl, 'http://x').searchParams.get('limit'));

  /** This node's status calls (the helper's spy sits on the Node prototype, shared by all nodes). */
  function statuses(node: TestNode): Status[] {
    const spy = node.status as unknown as sinon.SinonSpy;
    return spy.getCalls().filter((c) => c.thisValue === node).map((c) => c.args[0] as Status);
  }
  /** Status text without the common catalog's namespace prefix. */
  const key = (s: Status) => (s.text ?? '').replace(/^.*:/, '');

  /** Sends `msg` in and resolves with the one msg that comes out. */
  async function run(props: Record<string, unknown>, msg: Record<string, unknown> = {}) {
    await helper.load(NODES, flow(props), creds());
    const got = nextMessages(out());
    things().receive(msg as never);
    const [result] = await got;
    return result;
  }

  describe('limits', () => {
    for (const [label, props] of [['no limit property', { limit: undefined }], ['an empty limit', { limit: '' }]] as const) {
      it(`with ${label} outputs the first 10 things, asking for limit=10`, async () => {
        const msg = await run(props);
        assert.deepEqual(msg.payload, allThings.slice(0, 10));
        assert.deepEqual(sentLimits(), ['10']);
      });
    }

    it('limit -1 outputs all 15 things', async () => {
      const msg = await run({ limit: -1 });
      assert.deepEqual(msg.payload, allThings);
      assert.deepEqual(sentLimits(), ['-1']);
    });

    for (const limit of [4, '4', ' 4 ']) {
      it(`the node's limit ${JSON.stringify(limit)} outputs that many things`, async () => {
        const msg = await run({ limit });
        assert.deepEqual(msg.payload, allThings.slice(0, 4));
        assert.deepEqual(sentLimits(), ['4']);
      });
    }

    // [msg.limit, the limit sent]; 51 is fine for things (any positive integer; the simulator has 15).
    const overrides: Array<[number | string, string]> = [[7, '7'], ['2', '2'], [51, '51'], [-1, '-1'], ['-1', '-1']];
    for (const [limit, sent] of overrides) {
      it(`msg.limit ${JSON.stringify(limit)} overrides the node's limit 4`, async () => {
        const msg = await run({ limit: 4 }, { limit });
        const n = Number(limit);
        assert.deepEqual(msg.payload, n === -1 ? allThings : allThings.slice(0, n));
        assert.deepEqual(sentLimits(), [sent]);
        assert.equal(msg.limit, limit, 'msg.limit is kept on the msg');
      });
    }

    it('msg.limit null falls back to the node\'s limit', async () => {
      const msg = await run({ limit: 3 }, { limit: null });
      assert.deepEqual(msg.payload, allThings.slice(0, 3));
      assert.deepEqual(sentLimits(), ['3']);
    });

    for (const bad of [0, -2, 'abc', 1.5, '', {}, '1e3']) {
      it(`rejects msg.limit ${JSON.stringify(bad)} before any request`, async () => {
        await helper.load(NODES, flow(), creds());
        const errs = nextMessages(caught());
        things().receive({ limit: bad, keep: 'me' } as never);
        const [msg] = await errs;
        const error = msg.error as { code: string; message: string };
        assert.equal(error.code, 'LEAPCRAFT_INVALID_INPUT');
        assert.match(error.message, /msg\.limit/);
        assert.equal(msg.keep, 'me');
        assert.equal(sim.stats.total, 0);
        const last = statuses(things()).at(-1)!;
        assert.deepEqual([last.fill, key(last)], ['red', 'common.error.LEAPCRAFT_INVALID_INPUT']);
      });
    }
  });

  describe('a bad limit setting (0)', () => {
    it('shows a red status and logs the error at deploy', async () => {
      await helper.load(NODES, flow({ limit: 0 }), creds());
      const node = things();
      assert.deepEqual(statuses(node).map((s) => [s.fill, key(s)]), [['red', 'common.error.LEAPCRAFT_INVALID_INPUT']]);
      const errorSpy = node.error as unknown as sinon.SinonSpy;
      const logged = errorSpy.getCalls().filter((c) => c.thisValue === node);
      assert.equal(logged.length, 1);
      assert.equal((logged[0].args[0] as { code?: string }).code, 'LEAPCRAFT_INVALID_INPUT');
      assert.match((logged[0].args[0] as Error).message, /limit/);
    });

    // A misconfigured node must not swallow msgs: each one reaches Catch with the setting's error.
    it('answers every msg with LEAPCRAFT_INVALID_INPUT at Catch, sending nothing', async () => {
      await helper.load(NODES, flow({ limit: 0 }), creds());
      const outs = collect(out());
      const errs = nextMessages(caught(), 2, 1000);
      things().receive({ keep: 1 } as never);
      things().receive({ keep: 2, limit: 5 } as never);
      const msgs = await errs;
      assert.deepEqual(msgs.map((m) => (m.error as { code: string }).code), ['LEAPCRAFT_INVALID_INPUT', 'LEAPCRAFT_INVALID_INPUT']);
      assert.deepEqual(msgs.map((m) => m.keep), [1, 2]);
      assert.equal(outs.length, 0);
      assert.equal(sim.stats.total, 0);
    });
  });

  it('keeps every other property of the incoming msg and replaces only the payload', async () => {
    const msg = await run({}, { payload: 'go', topic: 'building/1', req: { keep: true }, extra: 42, _msgid: 'm-1' });
    assert.equal((msg.payload as Thing[]).length, 10);
    assert.equal(msg.topic, 'building/1');
    assert.deepEqual(msg.req, { keep: true });
    assert.equal(msg.extra, 42);
    assert.equal(msg._msgid, 'm-1');
  });

  it('shows idle, requesting, then the things key with the count received', async () => {
    // A limit above what exists: the count is what came back (15), not what was asked for.
    await run({ limit: 20 });
    const calls = statuses(things());
    assert.deepEqual(calls.map(key), ['common.status.idle', 'common.status.requesting', 'leapcraft-things.status.things']);
    assert.equal(calls.at(-1)!.fill, 'green');
    const translated = i18n.getCalls().filter((c) => c.args[0] === 'leapcraft-things.status.things');
    assert.deepEqual(translated.map((c) => c.args[1]), [{ count: 15 }]);
  });

  describe('API failures', () => {
    it('rides out a 503 burst shorter than the retries', async () => {
      sim.injectFault({ kind: 'status', status: 503, endpoint: 'things', times: 1 });
      const msg = await run({});
      assert.deepEqual(msg.payload, allThings.slice(0, 10));
      assert.equal(sim.stats.byEndpoint.things, 2);
    });

    it('a 503 burst longer than the retries reaches Catch as LEAPCRAFT_UNAVAILABLE with a red status', async () => {
      // The config node has no backoff setting: the client's default (500 ms base, 3 retries) applies, ~2-4 s.
      sim.injectFault({ kind: 'status', status: 503, endpoint: 'things', times: 4 });
      await helper.load(NODES, flow(), creds());
      const outs = collect(out());
      const errs = nextMessages(caught(), 1, 15_000);
      things().receive({ keep: 'me' } as never);
      const [msg] = await errs;
      const error = msg.error as { code: string; message: string };
      assert.equal(error.code, 'LEAPCRAFT_UNAVAILABLE');
      assert.match(error.message, /HTTP 503/);
      assert.equal(msg.keep, 'me');
      assert.equal(sim.stats.byEndpoint.things, 4, 'the first attempt and 3 retries');
      assert.equal(outs.length, 0);
      const last = statuses(things()).at(-1)!;
      assert.deepEqual([last.fill, key(last)], ['red', 'common.error.LEAPCRAFT_UNAVAILABLE']);
    });

    for (const [kind, pattern] of [['malformed', /not valid JSON/], ['html', /HTML/], ['empty', /empty body/]] as const) {
      it(`a ${kind} body reaches Catch as LEAPCRAFT_BAD_RESPONSE, not retried`, async () => {
        sim.injectFault({ kind, endpoint: 'things', times: 1 });
        await helper.load(NODES, flow(), creds());
        const errs = nextMessages(caught());
        things().receive({} as never);
        const [msg] = await errs;
        const error = msg.error as { code: string; message: string };
        assert.equal(error.code, 'LEAPCRAFT_BAD_RESPONSE');
        assert.match(error.message, pattern);
        assert.equal(sim.stats.byEndpoint.things, 1);
        assert.equal(statuses(things()).at(-1)!.fill, 'red');
      });
    }

    it('close during a hung request: no output, no Catch, no red status, sockets freed', async () => {
      const nodes = work = new NodeWork();
      await helper.load(NODES, flow(), creds());
      await nodes.idle();
      sim.injectFault({ kind: 'hang', endpoint: 'things' });
      const node = things();
      const outs = collect(out());
      const errs = collect(caught());
      node.receive({} as never);
      await waitFor(() => sim.stats.byEndpoint.things === 1, 1000, 'the request on the wire');
      assert.ok(sim.openConnections() > 0);
      // helper.unload() restores its prototype spies before closing the nodes, so what the node
      // does while closing is watched on the instance: status and error pass through unchanged.
      const late: Array<[string, unknown]> = [];
      const { status, error } = node as unknown as { status: (...a: unknown[]) => unknown; error: (...a: unknown[]) => unknown };
      Object.assign(node, {
        status(...a: unknown[]) { late.push(['status', a[0]]); return status.apply(node, a); },
        error(...a: unknown[]) { late.push(['error', a[0]]); return error.apply(node, a); },
      });
      await helper.unload();
      await waitFor(() => sim.openConnections() === 0, 1000, 'the sockets freed');
      // The aborted request has ended and what it led to has run.
      await nodes.idle();
      assert.equal(outs.length, 0);
      assert.equal(errs.length, 0);
      assert.deepEqual(late, [], 'no status change and no error while or after closing');
    });
  });
});
