/**
 * The first-contact check (lib/doctor/, `npx leapcraft-doctor`, the account dialog's
 * "Check API"): run against the simulator in every dialect reading it must name that reading,
 * and the defaults for the other points; it stays within 15 requests; its report holds no key,
 * token, physical id, name, serial or other value. Then the admin route (with its permissions)
 * and the CLI (the key from LEAPCRAFT_API_KEY, never from an argument).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import {
  DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, formatDoctorReport, runDoctor, simulatorCommand, type DoctorReport,
} from '../../../lib';
import { DIALECT_POINTS, DIALECTS, LeapcraftSimulator, type SimulatorOptions } from '../../../simulator';
import { CHECK_API_PATH, CREDENTIAL_PLACEHOLDER, registerAdminRoutes } from '../../../nodes/config/admin-routes';
import { freePort, RealNodeRed } from '../../support/real-nodered';
import { helper } from '../../support/nodered';
import configNode = require('../../../nodes/leapcraft-config');

const ROOT = path.resolve(__dirname, '..', '..', '..');
const DEFAULT_NAME: Record<string, string> = Object.fromEntries(DIALECTS.filter((d) => d.isDefault).map((d) => [d.point, d.name]));

type Json = Record<string, unknown>;

/** Everything of the simulated estate that must never reach a report (read after the check, over HTTP). */
async function estateValues(sim: LeapcraftSimulator): Promise<string[]> {
  const out = new Set<string>([sim.apiKey, ...sim.stats.tokensIssued]);
  sim.setKeyValid(true); // the check is over: read the estate with the key
  for (const d of sim.devices()) for (const v of [d.physical_id, d.name, d.serial, d.topology_id]) out.add(v);
  const answer = (await (await fetch(`${sim.baseUrl}/auth/client/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `api_key=${encodeURIComponent(sim.apiKey)}`,
  })).json()) as { token?: string; access_token?: string };
  const token = (answer.token ?? answer.access_token) as string;
  out.add(token);
  const get = async (p: string) => {
    const body = (await (await fetch(`${sim.baseUrl}${p}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as unknown;
    return (Array.isArray(body) ? body : (body as { data: unknown[] }).data) as Json[];
  };
  for (const g of await get('/topologies')) for (const v of [g.gateway_id, g.name]) if (typeof v === 'string') out.add(v);
  for (const a of await get('/notifications?limit=50')) for (const v of [a.id, a.message]) if (typeof v === 'string') out.add(v);
  for (const t of await get('/things?limit=-1')) for (const v of [t.id, t.name]) if (typeof v === 'string') out.add(v);
  return [...out];
}

function assertClean(text: string, values: readonly string[], what = 'the report'): void {
  for (const v of values) assert.ok(!text.includes(v), `${what} contains ${JSON.stringify(v)}`);
  assert.doesNotMatch(text, /bearer [0-9a-f]{8}/i);
}

async function withSim<T>(options: SimulatorOptions, work: (sim: LeapcraftSimulator) => Promise<T>): Promise<T> {
  const sim = new LeapcraftSimulator({ initialAlerts: 20, ...options });
  await sim.start();
  try {
    return await work(sim);
  } finally {
    await sim.stop();
  }
}

describe('leapcraft-doctor against the simulator', function () {
  this.timeout(60_000);

  /** Runs the check; checks the request count and the redaction; returns the report and its text. */
  async function check(sim: LeapcraftSimulator): Promise<{ report: DoctorReport; text: string }> {
    sim.resetStats();
    const report = await runDoctor({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
    const text = formatDoctorReport(report);
    assert.ok(sim.stats.total <= DOCTOR_MAX_REQUESTS, `${sim.stats.total} requests`);
    assert.equal(report.requests, sim.stats.total);
    assert.ok(sim.stats.requests.every((r) => r.method === 'GET' || r.endpoint === 'token'), 'read-only: GETs and token exchanges only');
    const secrets = await estateValues(sim);
    assertClean(text, secrets);
    assertClean(JSON.stringify(report), secrets, 'the report object');
    return { report, text };
  }

  for (const d of DIALECTS) {
    it(`names ${d.name} (${d.point}) and the defaults elsewhere`, async () => {
      await withSim({ dialect: [d.name] }, async (sim) => {
        const { report, text } = await check(sim);
        assert.equal(report.outcome, 'ok');
        assert.deepEqual(report.surprises, []);
        assert.equal(report.points[d.point].reading, d.name, report.points[d.point].evidence);
        assert.deepEqual(report.points[d.point].value, d.value);
        for (const point of DOCTOR_POINTS) {
          if (point === d.point) continue;
          // Without a time field the order of alerts cannot be told.
          const expected = d.name === 'alert-time-none' && point === 'alertOrder' ? null : DEFAULT_NAME[point];
          assert.equal(report.points[point].reading, expected, `${point}: ${report.points[point].evidence}`);
        }
        assert.match(text, new RegExp(`\\| ${d.point} \\| ${d.name} \\|`));
        assert.match(text, new RegExp(`--dialect [^\`]*\\b${d.name}\\b`));
      });
    });
  }

  it('names every non-default reading at once, in at most 17 requests', async () => {
    const names = DIALECTS.filter((d) => !d.isDefault && d.name !== 'alert-time-none').map((d) => d.name);
    const chosen = DIALECT_POINTS.map((p) => names.find((n) => DIALECTS.find((d) => d.name === n)?.point === p)).filter((n): n is string => !!n);
    await withSim({ dialect: chosen }, async (sim) => {
      const { report } = await check(sim);
      assert.deepEqual(report.dialect, chosen);
      assert.equal(report.requests, 16, 'the zone-less averages are asked again with a Z, and a second exchange tells the live tokens');
    });
  });

  it('wrapped readings with flat points: the wrapper told apart from the sample\'s own data', async () => {
    await withSim({ dialect: 'latest-under-data,averages-object-under-data,readings-flat' }, async (sim) => {
      const { report } = await check(sim);
      assert.deepEqual(report.surprises, []);
      assert.equal(report.points.latestBody.reading, 'latest-under-data');
      assert.equal(report.points.averages.reading, 'averages-object-under-data');
      assert.equal(report.points.pointReadings.reading, 'readings-flat', report.points.pointReadings.evidence);
    });
  });

  it('a token answer beyond the table: the form described, the token still used and redacted', async () => {
    await withSim({}, async (sim) => {
      sim.injectFault({ kind: 'status', status: 200, endpoint: 'token', times: 1, body: JSON.stringify({ jwt: 'made-up-token-4711', expiresIn: 600, scope: 'read' }) });
      const { report, text } = await check(sim);
      assert.equal(report.points.tokenBody.reading, null);
      assert.match(report.points.tokenBody.evidence, /the token under "jwt", no type, its lifetime told by expires_in: not one of the table's forms/);
      assert.ok(report.surprises.includes('the token answer carries further fields: scope'));
      assert.ok(!text.includes('made-up-token-4711'));
    });
  });

  it('an alert time field without a name of its own: alertTime=<field>, and the simulator flag for it', async () => {
    await withSim({ dialect: { alertTime: 'timestamp' } }, async (sim) => {
      const { report, text } = await check(sim);
      assert.equal(report.points.alertTime.reading, 'alertTime=timestamp');
      assert.equal(report.points.alertTime.value, 'timestamp');
      assert.equal(report.points.alertOrder.reading, 'alerts-newest');
      assert.match(simulatorCommand(report) ?? '', /--alert-time timestamp$/);
      assert.match(text, /--alert-time timestamp/);
    });
  });

  it('the default dialect: every point told, 15 requests, shapes without values', async () => {
    await withSim({}, async (sim) => {
      const { report, text } = await check(sim);
      assert.deepEqual(report.dialect, DIALECT_POINTS.map((p) => DEFAULT_NAME[p]));
      assert.equal(report.requests, 15);
      assert.deepEqual(Object.keys(report.timings), Object.keys(report.statuses));
      for (const ms of Object.values(report.timings)) assert.ok(Number.isInteger(ms) && ms >= 0);
      assert.match(report.shapes['GET /devices?limit=-1'], /^array\(12\) of \{/);
      assert.match(report.shapes['POST /auth/client/token'], /^\{ type: string, token: string \}$/);
      assert.match(report.shapes['GET /notifications?limit=50'], /created_at: string<date-time, zone>/);
      assert.match(text, /expired401 \| a made-up bearer token got HTTP 401 .*inferred/);
      assert.match(text, /^## Leapcraft API check/m);
    });
  });

  it('redacts identifiers wherever they turn up: a field named after a physical id, a key echoed in a message', async () => {
    await withSim({ initialAlerts: 0 }, async (sim) => {
      const [a, b] = sim.devices();
      sim.raiseAlert({ physical_id: a!.physical_id, message: `key ${sim.apiKey} refused in ${a!.name}`, [b!.physical_id]: 5 } as never);
      sim.raiseAlert({ physical_id: a!.physical_id, [b!.physical_id]: 6 } as never);
      const { report, text } = await check(sim);
      assert.match(report.shapes['GET /notifications?limit=50'], /\[redacted\]: number/);
      assert.ok(!text.includes(b!.physical_id));
      assert.equal(report.points.alertIds.reading, 'alert-ids-present');
    });
  });

  it('without alerts or with one device: cannot tell, and says why', async () => {
    await withSim({ initialAlerts: 0, deviceCount: 1 }, async (sim) => {
      const { report } = await check(sim);
      for (const p of ['alertOrder', 'alertTime', 'alertIds'] as const) {
        assert.equal(report.points[p].reading, null);
        assert.match(report.points[p].evidence, /cannot tell: no alerts/);
      }
      assert.equal(report.points.devicePaging.reading, null);
      assert.match(report.points.devicePaging.evidence, /cannot tell: the account has 1 device/);
      assert.equal(report.points.allDevices.reading, 'limit-all-accepted');
      assert.equal(report.outcome, 'ok');
    });
  });

  it('a refused key: outcome key-refused after 3 requests, how a key and a token are refused told, the rest not probed', async () => {
    await withSim({ dialect: 'refused403,expired403' }, async (sim) => {
      sim.setKeyValid(false);
      const { report, text } = await check(sim);
      assert.equal(report.outcome, 'key-refused');
      assert.equal(report.requests, 3);
      assert.equal(report.points.refusedKey.reading, 'refused403');
      assert.equal(report.points.expiredToken.reading, 'expired403');
      assert.match(report.points.lists.evidence, /^not probed: the API key was refused/);
      assert.match(text, /the API key was refused: HTTP 403/);
    });
  });

  it('an unreachable API: outcome unavailable after one request, nothing else probed', async () => {
    const port = await freePort();
    const report = await runDoctor({ baseUrl: `http://127.0.0.1:${port}/v1`, apiKey: 'some-key-123' });
    assert.equal(report.outcome, 'unavailable');
    assert.equal(report.requests, 1);
    assert.equal(report.statuses['POST /auth/client/token'], 'no answer');
    for (const p of DOCTOR_POINTS) assert.match(report.points[p].evidence, /^not probed/);
    assert.ok(!formatDoctorReport(report).includes('some-key-123'));
  });

  it('cancelled: a partial report, promptly', async () => {
    await withSim({ latencyMs: 100 }, async (sim) => {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), 450);
      const started = Date.now();
      const report = await runDoctor({ baseUrl: sim.baseUrl, apiKey: sim.apiKey, signal: controller.signal });
      assert.ok(Date.now() - started < 2000);
      assert.equal(report.outcome, 'incomplete');
      assert.ok(report.requests < 13);
      assert.ok(report.surprises.some((s) => /cancelled/.test(s)));
      assert.equal(report.points.refusedKey.reading, 'refused401');
    });
  });

  it('refuses a plain-http base URL that is not loopback, and an empty key, before sending anything', async () => {
    await assert.rejects(runDoctor({ baseUrl: 'http://example.com/v1', apiKey: 'k-123456' }), { code: 'LEAPCRAFT_INVALID_INPUT', field: 'baseUrl' });
    await assert.rejects(runDoctor({ baseUrl: 'http://127.0.0.1:1/v1', apiKey: '  ' }), { code: 'LEAPCRAFT_INVALID_INPUT', field: 'apiKey' });
  });
});

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

describe('leapcraft-doctor CLI', function () {
  this.timeout(90_000);
  let sim: LeapcraftSimulator;

  before(async () => {
    sim = new LeapcraftSimulator({ initialAlerts: 10, dialect: 'expired403,averages-envelope' });
    await sim.start();
  });
  after(async () => {
    await sim?.stop();
  });

  function cli(args: string[], env: Record<string, string | undefined> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, LEAPCRAFT_API_KEY: undefined, LEAPCRAFT_BASE_URL: undefined, ...env };
    for (const k of Object.keys(childEnv)) if (childEnv[k] === undefined) delete childEnv[k];
    return new Promise((resolve, reject) => {
      const child = spawn('npx', ['tsx', 'lib/doctor/cli.ts', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => { stdout += d; });
      child.stderr.on('data', (d) => { stderr += d; });
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout, stderr }));
    });
  }

  it('reads the key from LEAPCRAFT_API_KEY and prints the report (exit 0)', async () => {
    sim.resetStats();
    const r = await cli(['--base-url', sim.baseUrl], { LEAPCRAFT_API_KEY: sim.apiKey });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /\| expiredToken \| expired403 \|/);
    assert.match(r.stdout, /\| averages \| averages-envelope \|/);
    assert.ok(sim.stats.total <= DOCTOR_MAX_REQUESTS);
    const secrets = await estateValues(sim);
    assertClean(r.stdout, secrets, 'stdout');
    assertClean(r.stderr, secrets, 'stderr');
  });

  it('takes the base URL from LEAPCRAFT_BASE_URL, and prints JSON with --json', async () => {
    const r = await cli(['--json'], { LEAPCRAFT_API_KEY: sim.apiKey, LEAPCRAFT_BASE_URL: sim.baseUrl });
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as DoctorReport;
    assert.equal(report.points.expiredToken.reading, 'expired403');
    assert.ok(!r.stdout.includes(sim.apiKey));
  });

  it('refuses a key given as an argument, saying why, without echoing it or sending anything (exit 2)', async () => {
    sim.resetStats();
    for (const args of [['--api-key', 'secret-key-4711'], ['--api-key=secret-key-4711'], ['secret-key-4711'], ['--key=secret-key-4711']]) {
      const r = await cli(['--base-url', sim.baseUrl, ...args], { LEAPCRAFT_API_KEY: sim.apiKey });
      assert.equal(r.code, 2, args.join(' '));
      assert.match(r.stderr, /not taken as an argument/);
      assert.ok(!r.stderr.includes('secret-key-4711') && !r.stdout.includes('secret-key-4711'));
    }
    assert.equal(sim.stats.total, 0);
  });

  it('a refused key: the report all the same, exit 1; no key and no terminal: exit 2', async () => {
    const refused = await cli(['--base-url', sim.baseUrl], { LEAPCRAFT_API_KEY: 'wrong-key-0815' });
    assert.equal(refused.code, 1);
    assert.match(refused.stdout, /Outcome: key-refused/);
    assert.match(refused.stderr, /the API key was refused/);
    assert.ok(!refused.stdout.includes('wrong-key-0815'));
    const none = await cli(['--base-url', sim.baseUrl]);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /no API key: set LEAPCRAFT_API_KEY/);
  });

  it('an unreachable API: exit 1 with a clear message', async () => {
    const port = await freePort();
    const r = await cli(['--base-url', `http://127.0.0.1:${port}/v1`], { LEAPCRAFT_API_KEY: 'some-key-0815' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /gave no usable answer/);
    assert.match(r.stdout, /Outcome: unavailable/);
  });
});
