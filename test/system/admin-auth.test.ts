/**
 * The admin routes of the account dialog (Test connection, the pickers, Check API) behind a real
 * Node-RED's adminAuth: who may call them, with the deployed account or a typed key.
 */
import assert from 'node:assert/strict';
import { LeapcraftSimulator } from '../../simulator';
import { CHECK_API_PATH, CREDENTIAL_PLACEHOLDER, DEVICES_PATH, TEST_CONNECTION_PATH, TOPOLOGIES_PATH } from '../../nodes/config/admin-routes';
import { freePort, RealNodeRed } from '../support/real-nodered';

describe('editor look-up routes with adminAuth (a real Node-RED)', function () {
  this.timeout(120_000);
  let sim: LeapcraftSimulator;
  let red: RealNodeRed;

  before(async function () {
    sim = new LeapcraftSimulator({ deviceCount: 5 });
    await sim.start();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require('bcryptjs') as { hashSync(pw: string, rounds: number): string };
    const users = [
      { username: 'admin', password: bcrypt.hashSync('admin-pw', 8), permissions: '*' },
      { username: 'viewer', password: bcrypt.hashSync('viewer-pw', 8), permissions: 'read' },
    ];
    // Anonymous users may read the runtime settings only: enough for the harness to see Node-RED
    // up (GET /settings), nothing of ours.
    red = new RealNodeRed({
      settingsSource: `adminAuth: { type: 'credentials', users: ${JSON.stringify(users)}, default: { permissions: 'settings.read' } },`,
    });
    await red.start();
    const token = await red.login('admin', 'admin-pw', '*');
    const res = await fetch(`${red.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full', 'Node-RED-API-Version': 'v2', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ flows: [{ ...{ id: 'acct1', type: 'leapcraft-config', name: 'sim', concurrency: 8, timeout: 30 }, baseUrl: sim.baseUrl, credentials: { apiKey: sim.apiKey } }] }),
    });
    assert.equal(res.status, 200, await res.text());
  });
  after(async () => {
    await red?.dispose();
    await sim?.stop();
  });

  async function call(path: string, body: unknown, token?: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${red.url}${path}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(!text.includes(sim.apiKey));
    for (const t of sim.stats.tokensIssued) assert.ok(!text.includes(t));
    return { status: res.status, text };
  }

  it('refuses a request without a token (401) and sends nothing', async () => {
    sim.resetStats();
    for (const path of [TEST_CONNECTION_PATH, DEVICES_PATH, TOPOLOGIES_PATH]) {
      const r = await call(path, { id: 'acct1' });
      assert.equal(r.status, 401);
      const typed = await call(path, { baseUrl: sim.baseUrl, apiKey: sim.apiKey });
      assert.equal(typed.status, 401);
    }
    const forged = await call(TEST_CONNECTION_PATH, { id: 'acct1' }, 'not-a-token');
    assert.equal(forged.status, 401);
    assert.equal(sim.stats.total, 0);
  });

  it('answers a user with permissions "*": the deployed account, and a typed key', async () => {
    const token = await red.login('admin', 'admin-pw', '*');
    const a = await call(TEST_CONNECTION_PATH, { id: 'acct1' }, token);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(JSON.parse(a.text), { ok: true, devices: 5 });
    const b = await call(DEVICES_PATH, { id: 'acct1', apiKey: CREDENTIAL_PLACEHOLDER }, token);
    assert.equal(b.status, 200);
    assert.equal((JSON.parse(b.text) as { devices: unknown[] }).devices.length, 5);
    const typed = await call(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: sim.apiKey }, token);
    assert.equal(typed.status, 200, typed.text);
  });

  it('"read" includes leapcraft-config.read: the deployed account as it is, but no typed key (leapcraft-config.write)', async () => {
    const token = await red.login('viewer', 'viewer-pw', 'read');
    const a = await call(TEST_CONNECTION_PATH, { id: 'acct1', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER }, token);
    assert.equal(a.status, 200, a.text);
    assert.deepEqual(JSON.parse(a.text), { ok: true, devices: 5 });
    const b = await call(DEVICES_PATH, { id: 'acct1' }, token);
    assert.equal(b.status, 200);
    const c = await call(TOPOLOGIES_PATH, { id: 'acct1' }, token);
    assert.equal(c.status, 200, c.text);

    sim.resetStats();
    // A typed key or another base URL needs leapcraft-config.write, which "read" lacks.
    const typed = await call(TEST_CONNECTION_PATH, { baseUrl: sim.baseUrl, apiKey: sim.apiKey }, token);
    assert.equal(typed.status, 401);
    const typedDevices = await call(DEVICES_PATH, { id: 'acct1', apiKey: 'wrong-key-123' }, token);
    assert.equal(typedDevices.status, 401);
    const typedTopologies = await call(TOPOLOGIES_PATH, { id: 'acct1', apiKey: 'wrong-key-123' }, token);
    assert.equal(typedTopologies.status, 401);
    // Not even the right key: the answer must not confirm a guess of the stored key.
    const guess = await call(TEST_CONNECTION_PATH, { id: 'acct1', baseUrl: sim.baseUrl, apiKey: sim.apiKey }, token);
    assert.equal(guess.status, 401);
    const port = await freePort();
    const elsewhere = await call(TEST_CONNECTION_PATH, { baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'wrong-key-123' }, token);
    assert.equal(elsewhere.status, 401);
    assert.equal(sim.stats.total, 0);
  });

  it('serves the shared editor script publicly at resources/node-red-contrib-leapcraft/leapcraft-editor.js', async () => {
    const res = await fetch(`${red.url}/resources/node-red-contrib-leapcraft/leapcraft-editor.js`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /window\.LeapcraftEditor = window\.LeapcraftEditor \|\|/);
  });
});

describe('POST /leapcraft/check-api with adminAuth (a real Node-RED)', function () {
  this.timeout(120_000);
  let sim: LeapcraftSimulator;
  let red: RealNodeRed;

  before(async function () {
    sim = new LeapcraftSimulator({ deviceCount: 5, initialAlerts: 5 });
    await sim.start();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require('bcryptjs') as { hashSync(pw: string, rounds: number): string };
    const users = [
      { username: 'admin', password: bcrypt.hashSync('admin-pw', 8), permissions: '*' },
      { username: 'viewer', password: bcrypt.hashSync('viewer-pw', 8), permissions: 'read' },
    ];
    red = new RealNodeRed({
      settingsSource: `adminAuth: { type: 'credentials', users: ${JSON.stringify(users)}, default: { permissions: 'settings.read' } },`,
    });
    await red.start();
    const token = await red.login('admin', 'admin-pw', '*');
    await red.deploy([{ id: 'acct1', type: 'leapcraft-config', name: 'sim', concurrency: 8, timeout: 30, baseUrl: sim.baseUrl, credentials: { apiKey: sim.apiKey } }],
      'full', { Authorization: `Bearer ${token}` });
  });
  after(async () => {
    await red?.dispose();
    await sim?.stop();
  });

  async function call(body: unknown, token?: string): Promise<{ status: number; text: string }> {
    const res = await fetch(`${red.url}${CHECK_API_PATH}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    const text = await res.text();
    assert.ok(!text.includes(sim.apiKey));
    for (const t of sim.stats.tokensIssued) assert.ok(!text.includes(t));
    return { status: res.status, text };
  }

  it('refuses without a token (401), and a typed key for a user with "read" only; sends nothing', async () => {
    sim.resetStats();
    assert.equal((await call({ id: 'acct1' })).status, 401);
    assert.equal((await call({ baseUrl: sim.baseUrl, apiKey: sim.apiKey })).status, 401);
    const viewer = await red.login('viewer', 'viewer-pw', 'read');
    assert.equal((await call({ baseUrl: sim.baseUrl, apiKey: sim.apiKey }, viewer)).status, 401);
    assert.equal(sim.stats.total, 0);
  });

  it('answers "read" for the deployed account, "*" for a typed key', async () => {
    const viewer = await red.login('viewer', 'viewer-pw', 'read');
    const a = await call({ id: 'acct1', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER }, viewer);
    assert.equal(a.status, 200, a.text);
    const body = JSON.parse(a.text) as { ok: boolean; outcome: string; report: string };
    assert.equal(body.ok, true);
    assert.equal(body.outcome, 'ok');
    assert.match(body.report, /\| expiredToken \| expired401 \|/);
    const admin = await red.login('admin', 'admin-pw', '*');
    const typed = await call({ baseUrl: sim.baseUrl, apiKey: sim.apiKey }, admin);
    assert.equal(typed.status, 200, typed.text);
  });
});
