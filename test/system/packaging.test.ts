/**
 * The package as a user gets it: `npm pack`, installed from the tarball into a fresh
 * userDir, loaded by the real Node-RED 4.1 (a devDependency) on loopback. The admin
 * API must list every node type of the package, loaded, with no error.
 */
import assert from 'node:assert/strict';
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packOnce } from '../support/pack';
import { waitFor } from '../support/wait';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; version: string; bin: Record<string, string>; 'node-red': { nodes: Record<string, string> };
};
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

interface NodeSet { id: string; module: string; types: string[]; enabled: boolean; err?: string }

describe('packaging: npm pack into a real Node-RED 4.1', function () {
  this.timeout(240_000);
  let work: string;
  let tarball: string;
  let red: ChildProcess | undefined;
  let log = '';

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-pack-'));
    tarball = await packOnce(); // shared with the other packaging tests; not inside work
  });

  after(async () => {
    if (red && red.exitCode === null) {
      red.kill('SIGTERM');
      await new Promise((r) => red!.once('exit', r));
    }
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('ships the built nodes, their editor files, catalogs, help, icons and examples, and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    const files = stdout.split('\n').filter(Boolean).map((f) => f.replace(/^package\//, ''));
    for (const type of NODE_TYPES) {
      for (const f of [`dist/nodes/${type}.js`, `dist/nodes/${type}.html`, `dist/nodes/locales/en-US/${type}.json`,
        `dist/nodes/locales/en-US/${type}.html`, `dist/nodes/locales/de/${type}.json`, `dist/nodes/locales/de/${type}.html`]) {
        assert.ok(files.includes(f), `missing ${f}`);
      }
    }
    // Every bin (the simulator, the doctor) too.
    for (const f of ['README.md', 'LICENSE', 'package.json', 'dist/lib/index.js', ...Object.values(pkg.bin)]) assert.ok(files.includes(f), `missing ${f}`);
    assert.ok(files.some((f) => f.startsWith('dist/nodes/icons/')), 'no icons');
    assert.ok(files.some((f) => f.startsWith('examples/') && f.endsWith('.json')), 'no examples');
    assert.deepEqual(files.filter((f) => f.startsWith('test/') || (f.endsWith('.ts') && !f.endsWith('.d.ts'))), []);
  });

  it('loads every node type in Node-RED 4.1 with no error', async () => {
    const userDir = path.join(work, 'userDir');
    fs.mkdirSync(userDir);
    fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'leapcraft-pack-test', private: true }));
    await run('npm', ['install', tarball, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], { cwd: userDir, maxBuffer: 32 * 1024 * 1024 });

    const port = await freePort();
    fs.writeFileSync(path.join(userDir, 'settings.js'),
      `module.exports = { uiHost: '127.0.0.1', uiPort: ${port}, flowFile: 'flows.json', credentialSecret: 'pack-test', logging: { console: { level: 'info' } } };\n`);
    const redMain = require.resolve('node-red/red.js');
    red = spawn(process.execPath, [redMain, '--userDir', userDir, '--settings', path.join(userDir, 'settings.js')], { stdio: ['ignore', 'pipe', 'pipe'] });
    red.stdout!.on('data', (d) => { log += d; });
    red.stderr!.on('data', (d) => { log += d; });

    let sets: NodeSet[] | undefined;
    const proc = red;
    await waitFor(async () => {
      if (proc.exitCode !== null) assert.fail(`Node-RED exited: ${log}`);
      // Not listening yet: no answer.
      const res = await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'application/json' } }).catch(() => undefined);
      if (res?.ok) sets = (await res.json()) as NodeSet[];
      return sets !== undefined;
    }, 60_000, 'Node-RED to answer', 100).catch((err: Error) => assert.fail(`${err.message}: ${log}`));
    assert.ok(sets, `Node-RED did not answer: ${log}`);
    const ours = sets.filter((s) => s.module === pkg.name);
    assert.deepEqual(ours.flatMap((s) => s.types).sort(), [...NODE_TYPES].sort(), log);
    for (const s of ours) {
      assert.equal(s.err, undefined, `${s.id}: ${s.err}`);
      assert.equal(s.enabled, true);
    }
    assert.doesNotMatch(log, /\[error\]/i);

    // The editor can fetch each node set's html and message catalog.
    const html = await (await fetch(`http://127.0.0.1:${port}/nodes`, { headers: { Accept: 'text/html' } })).text();
    for (const type of NODE_TYPES) assert.ok(html.includes(`registerType('${type}'`) || html.includes(`registerType("${type}"`), `${type} editor missing`);
    const catalog = await (await fetch(`http://127.0.0.1:${port}/locales/${pkg.name}/leapcraft-config?lng=en-US`)).json() as Record<string, unknown>;
    assert.ok(catalog.common, 'common catalog served');
  });
});
