/**
 * The first-contact check (lib/doctor/, `npx leapcraft-doctor`, the account dialog's
 * "Check API"): run against the simulator in every dialect reading it must name that reading,
 * and the defaults for the other points; it stays within 15 requests; its report holds no key,
 * token, physical id, name, serial or other value. The admin route is tested in
 * test/nodes/config/check-api.test.ts (its permissions in test/system/admin-auth.test.ts), the
 * CLI in test/lib/doctor/cli.test.ts.
 */
import assert from 'node:assert/strict';
import {
  DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, formatDoctorReport, runDoctor, simulatorCommand, type DoctorReport,
} from '../../../lib';
import { DIALECT_POINTS, DIALECTS, LeapcraftSimulator, type SimulatorOptions } from '../../../simulator';
import { assertClean, estateValues } from '../../support/doctor-secrets';
import { freePort } from '../../support/real-nodered';

const DEFAULT_NAME: Record<string, string> = Object.fromEntries(DIALECTS.filter((d) => d.isDefault).map((d) => [d.point, d.name]));

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
