/**
 * The Flow Library scorecard, as flows.nodered.org computes it for a published package: `node-red-dev
 * validate` (0.1.6) on the files `npm pack` ships (the tarball, extracted), with its JSON output (`-o`).
 * Any check with `"test": false` fails this test — node-red-dev itself exits 0 on warnings.
 *
 * Network: the catalogue look-up (catalogue.nodered.org, checks P08 and N01) is answered with an empty
 * catalogue by a preload (test/support/catalogue-stub.js, NODE_OPTIONS=--require); any request other than the
 * catalogue and the npm registry fails at once. The npm registry (P06/P07 Node-RED and Node versions, D02 tree
 * walk, D03 latest versions) is used for real when it answers; when it does not (or with
 * LEAPCRAFT_SCORECARD_REGISTRY=stub) it is answered from package-lock.json, which makes D03 "latest" mean
 * "the locked version". LEAPCRAFT_SCORECARD_REGISTRY=real forces the real registry.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ROOT, extract, packOnce } from '../support/pack';

const STUB = path.join(__dirname, '..', 'support', 'catalogue-stub.js');
const NODE_RED_DEV = path.join(ROOT, 'node_modules', 'node-red-dev', 'bin', 'run');
const REGISTRY_HOST = 'registry.npmjs.org';
/** Every check node-red-dev 0.1.6 runs (P02 is disabled in it). */
const CHECKS = ['P01', 'P03', 'P04', 'P05', 'P06', 'P07', 'P08', 'N01', 'N02', 'D01', 'D02', 'D03'];

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
  name: string; keywords?: string[]; 'node-red': { nodes: Record<string, string> };
};
const NODE_TYPES = Object.keys(pkg['node-red'].nodes);

interface Check { test: boolean; [k: string]: unknown }
type Scorecard = Record<string, Check>;
interface StubLogEntry { url: string; action: 'catalogue' | 'registry-stub' | 'pass' | 'blocked'; status?: number }
interface ValidateRun { code: number | null; output: string; scorecard?: Record<string, unknown>; requests: StubLogEntry[] }

/** Checks with "test": false, by id. */
function failingChecks(scorecard: Record<string, unknown>): Record<string, Check> {
  const failing: Record<string, Check> = {};
  for (const [id, value] of Object.entries(scorecard)) {
    if (value && typeof value === 'object' && (value as Check).test === false) failing[id] = value as Check;
  }
  return failing;
}

/** a > b, for plain x.y.z versions. */
function newer(a: string, b: string): boolean {
  const [x, y] = [a, b].map((v) => v.split('.').map(Number));
  for (let i = 0; i < 3; i++) if (x[i] !== y[i]) return x[i] > y[i];
  return false;
}

/** Packuments ({name, dist-tags, versions}) for every package in package-lock.json, for the stubbed registry. */
function packumentsFromLock(): Record<string, unknown> {
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { name?: string; version?: string; dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>; engines?: Record<string, string>; link?: boolean }>;
  };
  // No prototype: a package may be called "constructor" or "toString".
  const byName: Record<string, { name: string; 'dist-tags': { latest: string }; versions: Record<string, unknown> }> = Object.create(null);
  for (const [key, entry] of Object.entries(lock.packages)) {
    if (!key.includes('node_modules/') || entry.link || !entry.version || !/^\d+\.\d+\.\d+$/.test(entry.version)) continue;
    const name = entry.name ?? key.slice(key.lastIndexOf('node_modules/') + 'node_modules/'.length);
    const doc = byName[name] ??= { name, 'dist-tags': { latest: entry.version }, versions: {} };
    doc.versions[entry.version] = { name, version: entry.version, dependencies: entry.dependencies ?? {},
      optionalDependencies: entry.optionalDependencies ?? {}, engines: entry.engines ?? {} };
    if (newer(entry.version, doc['dist-tags'].latest)) doc['dist-tags'].latest = entry.version;
  }
  // The registry's latest Node-RED is 5 (node-red@5.0.7, which test/system/node-versions.test.ts runs),
  // no dependency of this repository: P07 checks the package's engines against its Node (>= 22.9).
  const red = byName['node-red'];
  red.versions['5.0.7'] = { name: 'node-red', version: '5.0.7', dependencies: {}, optionalDependencies: {}, engines: { node: '>=22.9' } };
  red['dist-tags'].latest = '5.0.7';
  return byName;
}

async function registryAnswers(): Promise<boolean> {
  try {
    const res = await fetch(`https://${REGISTRY_HOST}/-/ping`, { signal: AbortSignal.timeout(10_000) });
    return res.ok;
  } catch {
    return false;
  }
}

async function validate(pkgDir: string, work: string, opts: { catalogue?: unknown; stubRegistry: boolean }): Promise<ValidateRun> {
  const out = path.join(work, `scorecard-${Date.now()}.json`);
  const logFile = path.join(work, `stub-log-${Date.now()}.jsonl`);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --require ${JSON.stringify(STUB)}`.trim(),
    CATALOGUE_STUB_LOG: logFile,
    CATALOGUE_STUB_DIR: work,
    CATALOGUE_STUB_REGISTRY_HOSTS: [REGISTRY_HOST, registryHostFromEnv()].filter(Boolean).join(','),
  };
  delete env.CATALOGUE_STUB_FILE;
  delete env.CATALOGUE_STUB_REGISTRY_FILE;
  if (opts.catalogue !== undefined) {
    env.CATALOGUE_STUB_FILE = path.join(work, 'catalogue.json');
    fs.writeFileSync(env.CATALOGUE_STUB_FILE, JSON.stringify(opts.catalogue));
  }
  if (opts.stubRegistry) {
    env.CATALOGUE_STUB_REGISTRY_FILE = path.join(work, 'registry.json');
    if (!fs.existsSync(env.CATALOGUE_STUB_REGISTRY_FILE)) fs.writeFileSync(env.CATALOGUE_STUB_REGISTRY_FILE, JSON.stringify(packumentsFromLock()));
  }
  const child = spawn(process.execPath, [NODE_RED_DEV, 'validate', '-p', pkgDir, '-o', out], { cwd: work, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d) => { output += d; });
  child.stderr.on('data', (d) => { output += d; });
  const timer = setTimeout(() => child.kill('SIGKILL'), 180_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const requests = fs.existsSync(logFile)
    ? fs.readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as StubLogEntry)
    : [];
  const scorecard = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, 'utf8')) as Record<string, unknown> : undefined;
  return { code, output, scorecard, requests };
}

/** The host of the registry npm is configured with, when run through npm (registry-url reads it too). */
function registryHostFromEnv(): string | undefined {
  const url = process.env.npm_config_registry;
  try {
    return url ? new URL(url).hostname : undefined;
  } catch {
    return undefined;
  }
}

function describeRun(r: ValidateRun): string {
  return `exit ${r.code}\n--- node-red-dev output ---\n${r.output}\n--- requests ---\n${r.requests.map((q) => `${q.action} ${q.url}`).join('\n')}`;
}

describe('Flow Library scorecard: node-red-dev validate on the packed package', function () {
  this.timeout(240_000);
  let work: string;
  let pkgDir: string;
  let result: ValidateRun;
  let scorecard: Scorecard;
  let registryMode: 'real' | 'stub';

  before(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-scorecard-'));
    pkgDir = await extract(await packOnce(), work);
    const wanted = process.env.LEAPCRAFT_SCORECARD_REGISTRY;
    if (wanted === 'real' || wanted === 'stub') registryMode = wanted;
    else registryMode = (await registryAnswers()) ? 'real' : 'stub';
    const started = Date.now();
    result = await validate(pkgDir, work, { stubRegistry: registryMode === 'stub' });
    assert.ok(result.scorecard, `node-red-dev wrote no scorecard: ${describeRun(result)}`);
    scorecard = result.scorecard as Scorecard;
    console.log(`      scorecard of ${pkg.name} (node-red-dev 0.1.6, catalogue stubbed empty, npm registry ${registryMode}, ${Date.now() - started} ms):`);
    for (const id of [...new Set([...CHECKS, ...Object.keys(scorecard).filter((k) => k !== 'package')])]) {
      const check = scorecard[id];
      const { test, ...detail } = check ?? { test: undefined };
      console.log(`        ${id} ${check ? (test ? 'pass' : 'FAIL') : 'MISSING'}${Object.keys(detail).length ? ` ${JSON.stringify(detail)}` : ''}`);
    }
  });

  after(() => {
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  it('runs every check to completion, contacting only the (stubbed) catalogue and the npm registry', () => {
    assert.equal(result.code, 0, describeRun(result));
    assert.deepEqual(CHECKS.filter((id) => !(id in scorecard)), [], `checks missing from the scorecard: ${describeRun(result)}`);
    assert.deepEqual(scorecard.package as unknown, { name: pkg.name, version: (JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { version: string }).version });
    // P08 and N01 each read the catalogue; nothing else left the machine except the registry.
    assert.equal(result.requests.filter((r) => r.action === 'catalogue' && r.status === 200).length, 2, describeRun(result));
    assert.deepEqual(result.requests.filter((r) => r.action === 'blocked'), [], describeRun(result));
    // D02's tree walk logs "could not load <dep>" and carries on: a dependency it could not read was not checked.
    assert.doesNotMatch(result.output, /could not load /, describeRun(result));
    const registry = result.requests.filter((r) => r.action === (registryMode === 'real' ? 'pass' : 'registry-stub'));
    for (const needed of ['/node-red', ...Object.keys((JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> }).dependencies ?? {}).map((d) => `/${d}`)]) {
      assert.ok(registry.some((r) => new URL(r.url).pathname === needed), `registry not asked for ${needed}: ${describeRun(result)}`);
    }
  });

  it('passes every check (no "test": false)', () => {
    const failing = failingChecks(scorecard);
    assert.deepEqual(Object.keys(failing), [], `failing scorecard checks:\n${Object.entries(failing).map(([id, c]) => `${id}: ${JSON.stringify(c)}`).join('\n')}\n\n${describeRun(result)}`);
  });

  it('parses every shipped editor file and finds an example for every flow node (N02 is not vacuous)', () => {
    assert.doesNotMatch(result.output, /Unable to parse/, describeRun(result));
    const flowTypes = NODE_TYPES.filter((type) => {
      const html = fs.readFileSync(path.join(pkgDir, pkg['node-red'].nodes[type].replace(/\.js$/, '.html')), 'utf8');
      return !/category\s*:\s*['"]config['"]/.test(html);
    });
    assert.ok(flowTypes.length > 0 && flowTypes.length < NODE_TYPES.length, `flow node types: ${flowTypes.join(', ')}`);
    assert.deepEqual([...(scorecard.N02.nodes as string[])].sort(), [...flowTypes].sort());
  });

  it('has the node-red keyword (P05, which node-red-dev 0.1.6 passes even without it)', () => {
    const shipped = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8')) as { keywords?: string[] };
    assert.ok(shipped.keywords?.includes('node-red'), `keywords: ${JSON.stringify(shipped.keywords)}`);
  });

  it('the harness reports a failing check: a catalogue that already has one of our node types fails N01', async () => {
    const clash = await validate(pkgDir, work, {
      stubRegistry: true,
      catalogue: { modules: [{ id: 'node-red-contrib-someone-else', types: [NODE_TYPES[1]] }, { id: pkg.name, types: NODE_TYPES }] },
    });
    assert.ok(clash.scorecard, describeRun(clash));
    assert.deepEqual(failingChecks(clash.scorecard), { N01: { test: false, nodes: ['node-red-contrib-someone-else'] } }, describeRun(clash));
  });
});
