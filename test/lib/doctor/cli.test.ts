/** The leapcraft-doctor CLI (lib/doctor/cli.ts) as a process: the key from LEAPCRAFT_API_KEY, never from an argument; its exit codes. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { DOCTOR_MAX_REQUESTS, type DoctorReport } from '../../../lib';
import { LeapcraftSimulator } from '../../../simulator';
import { assertClean, estateValues } from '../../support/doctor-secrets';
import { freePort } from '../../support/real-nodered';

const ROOT = path.resolve(__dirname, '..', '..', '..');

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
      // The TypeScript source through tsx's require hook: one process, where `npx tsx` starts three.
      const child = spawn(process.execPath, ['-r', 'tsx/cjs', 'lib/doctor/cli.ts', ...args], { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
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
