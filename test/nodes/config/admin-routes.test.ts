/**
 * The admin routes behind the editor's look-ups (nodes/config/admin-routes.ts): the account dialog's
 * "Test connection" and the device and gateway pickers. Against the simulator on 127.0.0.1, through
 * the test helper's admin app; their permissions in a real Node-RED with adminAuth: test/system/admin-auth.test.ts.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { LeapcraftClient } from '../../../lib';
import { LeapcraftSimulator } from '../../../simulator';
import {
  CHECK_API_PATH, CREDENTIAL_PLACEHOLDER, DEVICES_PATH, registerAdminRoutes, TEST_CONNECTION_PATH, TOPOLOGIES_PATH,
} from '../../../nodes/config/admin-routes';
import { summarize } from '../../../nodes/config/picker-lists';
import { helper, TestNode } from '../../support/nodered';
import { freePort } from '../../support/real-nodered';
import configNode = require('../../../nodes/leapcraft-config');

interface Answer {
  status: number;
  body: Record<string, unknown>;
  text: string;
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });

describe('editor look-up routes (admin API)', function () {
  this.timeout(30_000);
  let sim: LeapcraftSimulator;
  /** Every answer of the routes in this test, checked for secrets after it. */
  let answers: Answer[];

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 12 });
    await sim.start();
    answers = [];
  });
  afterEach(async () => {
    const secrets = [sim.apiKey, 'wrong-key-123', ...sim.stats.tokensIssued];
    for (const a of answers) {
      for (const secret of secrets) assert.ok(!a.text.includes(secret), `an answer contains a secret: ${a.text}`);
      assert.doesNotMatch(a.text, /bearer|access_token|"token"/i);
    }
    await helper.unload();
    await sim.stop();
    sinon.restore();
  });

  const ACCOUNT = { id: 'acct', type: 'leapcraft-config', name: 'sim', concurrency: 8, timeout: 30 };
  function deployed() {
    return helper.load(configNode, [{ ...ACCOUNT, baseUrl: sim.baseUrl }] as never, { acct: { apiKey: sim.apiKey } });
  }
  /** Node-RED running, the account not deployed (a new node in the editor). */
  function notDeployed() {
    return helper.load(configNode, [{ id: 'tab', type: 'tab', label: 'empty' }] as never);
  }

  async function post(path: string, body: unknown): Promise<Answer> {
    const res = await helper.request().post(path).send(body as object);
    const answer = { status: res.status, body: res.body as Record<string, unknown>, text: res.text };
    answers.push(answer);
    return answer;
  }

  /** The simulator's topologies as the picker lists them, read with a client of its own (the stats reset after). */
  async function expectedTopologies() {
    const client = new LeapcraftClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
    try {
      const list = await client.listTopologies();
      sim.resetStats();
      return list
        .map((t) => ({ gateway_id: String(t.gateway_id), name: typeof t.name === 'string' ? t.name : '' }))
        .sort((a, b) => collator.compare(a.name || a.gateway_id, b.name || b.gateway_id) || collator.compare(a.gateway_id, b.gateway_id));
    } finally {
      client.close();
    }
  }

  function expectedDevices() {
    return sim.devices()
      .map((d) => ({ physical_id: d.physical_id, name: d.name, type: d.type }))
      .sort((a, b) => collator.compare(a.name, b.name) || collator.compare(a.physical_id, b.physical_id));
  }

  describe('POST /leapcraft/test-connection', () => {
    it('with the deployed account: ok and the device count, on the account\'s own client (one token)', async () => {
      await deployed();
      const a = await post(TEST_CONNECTION_PATH, { id: 'acct' });
      assert.equal(a.status, 200);
      assert.deepEqual(a.body, { ok: true, devices: 12 });
      assert.equal(sim.stats.byEndpoint.token, 1);

      const again = await post(TEST_CONNECTION_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER, timeout: 30, concurrency: 8 });
      assert.deepEqual(again.body, { ok: true, devices: 12 });
      assert.equal(sim.stats.byEndpoint.token, 1, 'the shared client keeps its token: no second exchange');
      const acct = helper.getNode('acct') as TestNode & { getClient(): { stats(): { tokenExchanges: number } } };
      assert.equal(acct.getClient().stats().tokenExchanges, 1);
    });

    it('__PWRD__ and an empty key fall back to the deployed account\'s stored key', async () => {
      await deployed();
      for (const apiKey of [CREDENTIAL_PLACEHOLDER, '', undefined]) {
        const a = await post(TEST_CONNECTION_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey });
        assert.equal(a.status, 200, a.text);
        assert.deepEqual(a.body, { ok: true, devices: 12 });
      }
      const token = sim.stats.requests.filter((r) => r.endpoint === 'token');
      assert.equal(token.length, 1);
      assert.equal(token[0].status, 200);
    });

    it('with a typed key and base URL before the first deploy (no id, or an id not deployed yet)', async () => {
      await notDeployed();
      const a = await post(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: sim.apiKey, timeout: 5, concurrency: 2 });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.body, { ok: true, devices: 12 });
      const b = await post(TEST_CONNECTION_PATH, { id: 'new-account', baseUrl: sim.baseUrl, apiKey: ` ${sim.apiKey} ` });
      assert.deepEqual(b.body, { ok: true, devices: 12 });
      assert.equal(sim.stats.byEndpoint.token, 2, 'each test exchanges its own token with a short-lived client');
    });

    it('a typed key wins over the stored one', async () => {
      await deployed();
      const a = await post(TEST_CONNECTION_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: 'wrong-key-123' });
      assert.equal(a.status, 401);
      assert.equal(a.body.ok, false);
      assert.equal(a.body.code, 'LEAPCRAFT_AUTH');
      assert.match(String(a.body.message), /refused the API key/);
      // The deployed account's own client was not touched: its key still works.
      const acct = helper.getNode('acct') as TestNode & { getClient(): { stats(): { tokenExchanges: number } } };
      assert.equal(acct.getClient().stats().tokenExchanges, 0);
    });

    it('a wrong typed key: ok false, LEAPCRAFT_AUTH, HTTP 401, with no retry storm', async () => {
      await notDeployed();
      const a = await post(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: 'wrong-key-123' });
      assert.equal(a.status, 401);
      assert.deepEqual(Object.keys(a.body).sort(), ['code', 'message', 'ok']);
      assert.equal(a.body.ok, false);
      assert.equal(a.body.code, 'LEAPCRAFT_AUTH');
      assert.equal(sim.stats.byEndpoint.token, 1);
      assert.equal(sim.stats.byEndpoint.devices, 0);
    });

    it('refuses a plain-http base URL that is not loopback with 400, sending nothing', async () => {
      await deployed();
      const authenticate = sinon.spy(LeapcraftClient.prototype, 'authenticate');
      for (const body of [
        { baseUrl: 'http://example.com', apiKey: 'wrong-key-123' },
        { id: 'acct', baseUrl: 'http://example.com/v1', apiKey: CREDENTIAL_PLACEHOLDER },
      ]) {
        const a = await post(TEST_CONNECTION_PATH, body);
        assert.equal(a.status, 400);
        assert.equal(a.body.ok, false);
        assert.equal(a.body.code, 'LEAPCRAFT_INVALID_INPUT');
        assert.equal(a.body.field, 'baseUrl');
        assert.match(String(a.body.message), /plain http to example\.com would send the API key unencrypted/);
      }
      const bad = await post(TEST_CONNECTION_PATH, { baseUrl: 'ftp://example.com', apiKey: 'x' });
      assert.equal(bad.status, 400);
      assert.equal(authenticate.callCount, 0);
      assert.equal(sim.stats.total, 0);
    });

    it('never sends the stored key to a base URL other than the deployed one', async () => {
      await deployed();
      const authenticate = sinon.spy(LeapcraftClient.prototype, 'authenticate');
      const a = await post(TEST_CONNECTION_PATH, { id: 'acct', baseUrl: 'https://attacker.example/v1', apiKey: CREDENTIAL_PLACEHOLDER });
      assert.equal(a.status, 400);
      assert.equal(a.body.code, 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(a.body.reason, 'storedKeyElsewhere');
      assert.equal(authenticate.callCount, 0);
      assert.equal(sim.stats.total, 0);
    });

    it('without any key: 400 with reason noKey (deploy first); ${ENV} keys: reason envKey', async () => {
      await notDeployed();
      const a = await post(TEST_CONNECTION_PATH, { id: 'new-account', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.equal(a.status, 400);
      assert.equal(a.body.reason, 'noKey');
      assert.equal(a.body.code, 'LEAPCRAFT_INVALID_INPUT');
      const env = await post(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: '${LEAPCRAFT_API_KEY}' });
      assert.equal(env.status, 400);
      assert.equal(env.body.reason, 'envKey');
      const junk = await post(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: { key: 1 } });
      assert.equal(junk.status, 400);
      assert.equal(junk.body.field, 'apiKey');
      assert.equal(sim.stats.total, 0);
    });

    it('an unreachable API: 502 LEAPCRAFT_UNAVAILABLE, quickly', async () => {
      await notDeployed();
      const port = await freePort();
      const started = Date.now();
      const a = await post(TEST_CONNECTION_PATH, { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'wrong-key-123' });
      assert.equal(a.status, 502);
      assert.equal(a.body.code, 'LEAPCRAFT_UNAVAILABLE');
      assert.ok(Date.now() - started < 10_000);
    });

    it('an API that does not answer: 504 LEAPCRAFT_TIMEOUT within the dialog\'s timeout (capped at 15 s)', async () => {
      await notDeployed();
      sim.injectFault({ kind: 'hang', endpoint: 'token' });
      const started = Date.now();
      const a = await post(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: sim.apiKey, timeout: 1 });
      assert.equal(a.status, 504);
      assert.equal(a.body.code, 'LEAPCRAFT_TIMEOUT');
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    });
  });

  describe('POST /leapcraft/devices', () => {
    it('lists {physical_id, name, type} of every device, sorted by name', async () => {
      await deployed();
      const a = await post(DEVICES_PATH, { id: 'acct' });
      assert.equal(a.status, 200);
      assert.deepEqual(Object.keys(a.body), ['devices']);
      const devices = a.body.devices as Array<Record<string, string>>;
      assert.equal(devices.length, 12);
      for (const d of devices) assert.deepEqual(Object.keys(d), ['physical_id', 'name', 'type']);
      assert.deepEqual(devices, expectedDevices());
    });

    it('works before deploy with a typed key, and with __PWRD__ after', async () => {
      await notDeployed();
      const a = await post(DEVICES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: sim.apiKey });
      assert.deepEqual(a.body.devices, expectedDevices());
      const b = await post(DEVICES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.equal(b.status, 400);
      assert.equal(b.body.reason, 'noKey');
      await helper.unload();
      await deployed();
      const c = await post(DEVICES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.deepEqual(c.body.devices, expectedDevices());
    });

    it('caches the list for 30 s per account, base URL and key: a second call sends no request', async () => {
      await deployed();
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      await post(DEVICES_PATH, { id: 'acct' });
      const requests = sim.stats.total;
      assert.ok(requests >= 2); // token + devices

      clock.tick(20_000);
      const again = await post(DEVICES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.deepEqual(again.body.devices, expectedDevices());
      const refreshed = await post(DEVICES_PATH, { id: 'acct', refresh: true });
      assert.equal(refreshed.status, 200);
      assert.equal(sim.stats.total, requests + 1, 'refresh (older than 5 s) reads the list again');
      const typed = await post(DEVICES_PATH, { id: 'acct', apiKey: sim.apiKey }); // the same key typed: the same list
      assert.equal(typed.status, 200);
      assert.equal(sim.stats.total, requests + 1);

      const other = await post(DEVICES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: 'wrong-key-123' });
      assert.equal(other.status, 401, 'another key is never answered from the cache');

      const before = sim.stats.total;
      clock.tick(31_000);
      await post(DEVICES_PATH, { id: 'acct' });
      assert.equal(sim.stats.total, before + 1, 'expired after 30 s');
    });

    it('a test connection fills the cache; concurrent look-ups share one request', async () => {
      await deployed();
      await post(TEST_CONNECTION_PATH, { id: 'acct' });
      const devicesRequests = sim.stats.byEndpoint.devices;
      const a = await post(DEVICES_PATH, { id: 'acct' });
      assert.deepEqual(a.body.devices, expectedDevices());
      assert.equal(sim.stats.byEndpoint.devices, devicesRequests);

      await helper.unload();
      await deployed();
      sim.set({ latencyMs: 100 });
      const before = sim.stats.byEndpoint.devices;
      const all = await Promise.all([1, 2, 3, 4].map(() => post(DEVICES_PATH, { id: 'acct' })));
      for (const r of all) assert.deepEqual(r.body.devices, expectedDevices());
      assert.equal(sim.stats.byEndpoint.devices - before, 1);
    });

    it('reports the API\'s failure with its code', async () => {
      await deployed();
      sim.injectFault({ kind: 'status', status: 404, endpoint: 'devices' });
      const a = await post(DEVICES_PATH, { id: 'acct' });
      assert.equal(a.status, 502);
      assert.equal(a.body.ok, false);
      assert.equal(a.body.code, 'LEAPCRAFT_NOT_FOUND');
    });
  });

  describe('POST /leapcraft/topologies', () => {
    it('lists {gateway_id, name} of every topology, sorted by name, and nothing else of the answer', async () => {
      const expected = await expectedTopologies();
      await deployed();
      const a = await post(TOPOLOGIES_PATH, { id: 'acct' });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(Object.keys(a.body), ['topologies']);
      const topologies = a.body.topologies as Array<Record<string, string>>;
      assert.ok(topologies.length >= 2, a.text);
      for (const t of topologies) assert.deepEqual(Object.keys(t), ['gateway_id', 'name']);
      assert.deepEqual(topologies, expected);
      // Every gateway of the device list is there.
      for (const d of sim.devices()) assert.ok(topologies.some((t) => t.gateway_id === d.topology_id), d.topology_id);
      assert.doesNotMatch(a.text, /device_count|created_at|devices/);
    });

    it('works before deploy with a typed key; without any key: 400 with reason noKey', async () => {
      const expected = await expectedTopologies();
      await notDeployed();
      const a = await post(TOPOLOGIES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: sim.apiKey });
      assert.equal(a.status, 200, a.text);
      assert.deepEqual(a.body.topologies, expected);
      const b = await post(TOPOLOGIES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.equal(b.status, 400);
      assert.equal(b.body.reason, 'noKey');
    });

    it('caches the list for 30 s apart from the device list; concurrent look-ups share one request', async () => {
      const expected = await expectedTopologies();
      await deployed();
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      await post(TOPOLOGIES_PATH, { id: 'acct' });
      const topologyRequests = sim.stats.byEndpoint.topologies;
      assert.equal(topologyRequests, 1);
      // The device list is a list of its own: not answered from the topologies' cache, nor the other way round.
      const devices = await post(DEVICES_PATH, { id: 'acct' });
      assert.deepEqual(devices.body.devices, expectedDevices());
      clock.tick(20_000);
      const again = await post(TOPOLOGIES_PATH, { id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER });
      assert.deepEqual(again.body.topologies, expected);
      assert.equal(sim.stats.byEndpoint.topologies, topologyRequests, 'answered from the cache');
      const refreshed = await post(TOPOLOGIES_PATH, { id: 'acct', refresh: true });
      assert.equal(refreshed.status, 200);
      assert.equal(sim.stats.byEndpoint.topologies, topologyRequests + 1, 'refresh (older than 5 s) reads the list again');
      clock.tick(31_000);
      await post(TOPOLOGIES_PATH, { id: 'acct' });
      assert.equal(sim.stats.byEndpoint.topologies, topologyRequests + 2, 'expired after 30 s');
      clock.restore();

      await helper.unload();
      await deployed();
      sim.set({ latencyMs: 100 });
      const before = sim.stats.byEndpoint.topologies;
      const all = await Promise.all([1, 2, 3].map(() => post(TOPOLOGIES_PATH, { id: 'acct' })));
      for (const r of all) assert.deepEqual(r.body.topologies, expected);
      assert.equal(sim.stats.byEndpoint.topologies - before, 1);
    });

    it('reports the API\'s failure with its code', async () => {
      await deployed();
      sim.injectFault({ kind: 'status', status: 404, endpoint: 'topologies' });
      const a = await post(TOPOLOGIES_PATH, { id: 'acct' });
      assert.equal(a.status, 502, a.text);
      assert.equal(a.body.ok, false);
      assert.equal(a.body.code, 'LEAPCRAFT_NOT_FOUND');
    });
  });

  describe('registration', () => {
    it('adds the four routes once per admin app, behind leapcraft-config.read', () => {
      const routes: Array<{ path: string; handlers: number }> = [];
      const permissions: string[] = [];
      const app = { post: (path: string, ...handlers: unknown[]) => { routes.push({ path, handlers: handlers.length }); } };
      const RED = {
        httpAdmin: app,
        auth: { needsPermission: (p: string) => { permissions.push(p); return () => undefined; } },
      };
      assert.equal(registerAdminRoutes(RED as never), true);
      assert.equal(registerAdminRoutes(RED as never), false);
      assert.deepEqual(routes, [
        { path: TEST_CONNECTION_PATH, handlers: 2 }, { path: DEVICES_PATH, handlers: 2 }, { path: TOPOLOGIES_PATH, handlers: 2 }, { path: CHECK_API_PATH, handlers: 2 },
      ]);
      assert.deepEqual(permissions, ['leapcraft-config.read']);
      const other = { ...RED, httpAdmin: { post: app.post } };
      assert.equal(registerAdminRoutes(other as never), true);
      assert.equal(routes.length, 8);
    });

    it('sorts names naturally, keeps nameless devices, drops items without a physical id', () => {
      assert.deepEqual(summarize([
        { physical_id: 'b', name: 'Room 10', type: 'airbird' },
        { physical_id: 'a', name: 'room 2' },
        { physical_id: 'c' },
        { name: 'no id' } as never,
      ], 'physical_id', ['type']), [
        { physical_id: 'c', name: '', type: '' },
        { physical_id: 'a', name: 'room 2', type: '' },
        { physical_id: 'b', name: 'Room 10', type: 'airbird' },
      ]);
      assert.deepEqual(summarize([
        { gateway_id: 'g2', name: 'Gateway 10', device_count: 4 },
        { gateway_id: 'g1', name: null },
        { gateway_id: 'g3', name: 'gateway 2', devices: [{ physical_id: 'x' }] },
        { name: 'no id' },
        { gateway_id: '' },
      ], 'gateway_id'), [
        { gateway_id: 'g1', name: '' },
        { gateway_id: 'g3', name: 'gateway 2' },
        { gateway_id: 'g2', name: 'Gateway 10' },
      ]);
    });
  });
});
