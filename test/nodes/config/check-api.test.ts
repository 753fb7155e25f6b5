/** The account dialog's "Check API" admin route (nodes/config/admin-routes.ts) through the test helper's admin app, against the simulator. */
import assert from 'node:assert/strict';
import { DOCTOR_MAX_REQUESTS } from '../../../lib';
import { LeapcraftSimulator } from '../../../simulator';
import { CHECK_API_PATH, CREDENTIAL_PLACEHOLDER, registerAdminRoutes } from '../../../nodes/config/admin-routes';
import { assertClean, estateValues } from '../../support/doctor-secrets';
import { helper } from '../../support/nodered';
import configNode = require('../../../nodes/leapcraft-config');

type Json = Record<string, unknown>;

describe('POST /leapcraft/check-api (admin route)', function () {
  this.timeout(60_000);
  let sim: LeapcraftSimulator;

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ initialAlerts: 10, dialect: 'paging-cumulative,lists-envelope' });
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
  });

  const ACCOUNT = { id: 'acct', type: 'leapcraft-config', name: 'sim', concurrency: 8, timeout: 30 };

  async function post(body: unknown): Promise<{ status: number; body: Json; text: string }> {
    const res = await helper.request().post(CHECK_API_PATH).send(body as object);
    return { status: res.status, body: res.body as Json, text: res.text };
  }

  it('answers the report of the deployed account with its stored key; no key, token, id or name in the answer', async () => {
    await helper.load(configNode, [{ ...ACCOUNT, baseUrl: sim.baseUrl }] as never, { acct: { apiKey: sim.apiKey } });
    const a = await post({ id: 'acct', baseUrl: sim.baseUrl, apiKey: CREDENTIAL_PLACEHOLDER, timeout: 30 });
    assert.equal(a.status, 200, a.text);
    assert.equal(a.body.ok, true);
    assert.equal(a.body.outcome, 'ok');
    assert.ok((a.body.requests as number) <= DOCTOR_MAX_REQUESTS);
    assert.match(String(a.body.report), /\| devicePaging \| paging-cumulative \|/);
    const points = a.body.points as Record<string, { reading: string | null }>;
    assert.equal(points.lists.reading, 'lists-envelope');
    assert.equal(points.devicePaging.reading, 'paging-cumulative');
    assertClean(a.text, await estateValues(sim), 'the answer');
  });

  it('a typed wrong key: refused as by the other look-ups (401 LEAPCRAFT_AUTH); before deploy, with no id', async () => {
    await helper.load(configNode, [{ id: 'tab', type: 'tab', label: 'empty' }] as never);
    const a = await post({ baseUrl: sim.baseUrl, apiKey: 'wrong-key-123' });
    assert.equal(a.status, 401, a.text);
    assert.equal(a.body.code, 'LEAPCRAFT_AUTH');
    assert.ok(!a.text.includes('wrong-key-123'));
    assert.equal(sim.stats.total, 3);
  });

  it('keeps the key policy: the stored key only to the deployed base URL, plain http only to loopback', async () => {
    await helper.load(configNode, [{ ...ACCOUNT, baseUrl: sim.baseUrl }] as never, { acct: { apiKey: sim.apiKey } });
    const elsewhere = await post({ id: 'acct', baseUrl: 'https://attacker.example/v1', apiKey: CREDENTIAL_PLACEHOLDER });
    assert.equal(elsewhere.status, 400);
    assert.equal(elsewhere.body.reason, 'storedKeyElsewhere');
    const insecure = await post({ baseUrl: 'http://example.com/v1', apiKey: 'wrong-key-123' });
    assert.equal(insecure.status, 400);
    assert.equal(insecure.body.field, 'baseUrl');
    assert.equal(sim.stats.total, 0);
  });

  it('is registered behind leapcraft-config.read beside the other look-ups', () => {
    const routes: string[] = [];
    const permissions: string[] = [];
    const RED = {
      httpAdmin: { post: (p: string) => { routes.push(p); } },
      auth: { needsPermission: (p: string) => { permissions.push(p); return () => undefined; } },
    };
    assert.equal(registerAdminRoutes(RED as never), true);
    assert.ok(routes.includes(CHECK_API_PATH));
    assert.deepEqual(permissions, ['leapcraft-config.read']);
  });
});
