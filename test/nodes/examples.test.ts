/**
 * The importable example flows in examples/: well-formed (ids, wires, config references),
 * made only of this package's nodes, Node-RED core nodes, (the dashboard example) FlowFuse
 * Dashboard 2.0 nodes and (the history examples) the nodes of node-red-contrib-influxdb and
 * node-red-contrib-postgresql, with the properties their editors store, free of secrets,
 * covering every node of the package (Flow Library check N02), and loadable by the Node-RED
 * runtime (without the dashboard's and PostgreSQL's nodes).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import vm from 'node:vm';
import sinon from 'sinon';
import { NodeClock } from '../support/node-clock';
import { catchNode, helper } from '../support/nodered';

type FlowNode = Record<string, unknown> & { id: string; type: string };
type NodeModule = (RED: never) => unknown;
interface EditorDef {
  category?: string;
  defaults?: Record<string, { value?: unknown; type?: string; required?: boolean }>;
}

const ROOT = path.join(__dirname, '..', '..');
const EXAMPLES_DIR = path.join(ROOT, 'examples');
// The same files the helper and support/nodered.ts load, so a module is never registered twice.
const CORE_DIR = path.resolve(path.dirname(require.resolve('@node-red/nodes/core/common/25-catch.js')), '..');
const SIMULATOR_URL = 'http://127.0.0.1:8787/v1';
/** The account every example brings: one id, so the editor's import keeps the one already there. */
const ACCOUNT = {
  id: 'c0a1e0d1f00000aa', type: 'leapcraft-config', name: 'Leapcraft account', baseUrl: '${LEAPCRAFT_BASE_URL}',
  concurrency: 8, timeout: 30, budget: '', redisUrl: '', credentials: { apiKey: '${LEAPCRAFT_API_KEY}' },
};
// FlowFuse Dashboard 2.0 (a devDependency), which the dashboard example needs.
const DASHBOARD_DIR = path.join(ROOT, 'node_modules', '@flowfuse', 'node-red-dashboard', 'nodes');
// node-red-contrib-influxdb (a devDependency), which the InfluxDB history example needs.
const INFLUXDB_DIR = path.join(ROOT, 'node_modules', 'node-red-contrib-influxdb');

// ---- what the package and Node-RED core provide ----------------------------------------

const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const PACKAGE_TYPES = Object.keys(pkg['node-red'].nodes);

function walk(dir: string, ext: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return walk(full, ext);
    return e.name.endsWith(ext) ? [full] : [];
  });
}

const REGISTER_TYPE = /registerType\(\s*(['"])([^'"]+)\1/g;
function registeredTypes(html: string): string[] {
  return [...html.matchAll(REGISTER_TYPE)].map((m) => m[2]);
}

/** Core node type → the runtime file that registers it (beside its editor .html). */
const CORE_FILES = new Map<string, string>();
for (const htmlFile of walk(CORE_DIR, '.html')) {
  for (const type of registeredTypes(fs.readFileSync(htmlFile, 'utf8'))) {
    CORE_FILES.set(type, htmlFile.replace(/\.html$/, '.js'));
  }
}
const CORE_TYPES = new Set([...CORE_FILES.keys(), 'tab']);

/** Dashboard 2.0 node type → its editor .html, found the same way. */
const DASHBOARD_FILES = new Map<string, string>();
for (const htmlFile of fs.existsSync(DASHBOARD_DIR) ? walk(DASHBOARD_DIR, '.html') : []) {
  for (const type of registeredTypes(fs.readFileSync(htmlFile, 'utf8'))) DASHBOARD_FILES.set(type, htmlFile);
}
const DASHBOARD_TYPES = new Set(DASHBOARD_FILES.keys());

/** node-red-contrib-influxdb's node types → its editor .html (one file, beside influxdb.js). */
const INFLUXDB_HTML = path.join(INFLUXDB_DIR, 'influxdb.html');
const INFLUXDB_TYPES = new Set(fs.existsSync(INFLUXDB_HTML) ? registeredTypes(fs.readFileSync(INFLUXDB_HTML, 'utf8')) : []);

/**
 * node-red-contrib-postgresql, which the PostgreSQL history example targets (what users install),
 * is not in this machine's npm registry: its editor's defaults, as its postgresql.html (0.14)
 * registers them, stand in for reading them, so the example's properties and config reference
 * are checked all the same. Its nodes stay out of the runtime load, like the dashboard's.
 */
const POSTGRESQL_DEFS = new Map<string, EditorDef>([
  ['postgreSQLConfig', {
    category: 'config',
    defaults: Object.fromEntries([
      'name', 'host', 'hostFieldType', 'port', 'portFieldType', 'database', 'databaseFieldType', 'ssl', 'sslFieldType', 'applicationName',
      'applicationNameType', 'max', 'maxFieldType', 'idle', 'idleFieldType', 'connectionTimeout', 'connectionTimeoutFieldType', 'user',
      'userFieldType', 'password', 'passwordFieldType',
    ].map((k) => [k, {}])),
  }],
  ['postgresql', {
    category: 'storage',
    defaults: { name: {}, query: {}, postgreSQLConfig: { type: 'postgreSQLConfig', required: true }, split: {}, rowsPerMsg: {}, outputs: {} },
  }],
]);
const POSTGRESQL_TYPES = new Set(POSTGRESQL_DEFS.keys());
/** Node types of other packages the examples may use. */
const isOtherPackageType = (type: string): boolean => DASHBOARD_TYPES.has(type) || INFLUXDB_TYPES.has(type) || POSTGRESQL_TYPES.has(type);
/** Left out of the runtime load: they need more than the test helper gives (dashboard), or are not installed (PostgreSQL). */
const isUnloadedType = (type: string): boolean => DASHBOARD_TYPES.has(type) || POSTGRESQL_TYPES.has(type);

/** Anything: every property, call and construction gives another one. Stands in for the editor's globals. */
function anything(): unknown {
  const fn = function () { /* stub */ };
  return new Proxy(fn, {
    get: (_target, key) => (key === Symbol.toPrimitive ? () => '' : key === 'then' ? undefined : anything()),
    apply: () => anything(),
    construct: () => anything() as object,
  });
}

/**
 * The definitions an editor .html passes to RED.nodes.registerType, found by running its
 * scripts against a stub editor: the `defaults` are the properties the editor stores.
 */
function editorDefs(htmlFile: string): Map<string, EditorDef> {
  const defs = new Map<string, EditorDef>();
  const nodes = new Proxy({}, {
    get: (_t, key) => (key === 'registerType' ? (type: string, def: EditorDef) => { defs.set(type, def); } : anything()),
  });
  const RED = new Proxy({}, { get: (_t, key) => (key === 'nodes' ? nodes : anything()) });
  const html = fs.readFileSync(htmlFile, 'utf8');
  for (const m of html.matchAll(/<script\s+type=["'](?:text|application)\/javascript["'][^>]*>([\s\S]*?)<\/script>/g)) {
    const context = vm.createContext({
      RED, $: anything(), jQuery: anything(), window: anything(), document: anything(), navigator: anything(),
      localStorage: anything(), d3: anything(), console, setTimeout, clearTimeout, setInterval, clearInterval,
    });
    try {
      vm.runInContext(m[1], context, { filename: htmlFile, timeout: 1000 });
    } catch {
      // A core editor script that needs more of the editor than the stub gives: its types
      // stay without a known definition, and their properties are not checked.
    }
  }
  return defs;
}

const PACKAGE_DEFS = new Map<string, EditorDef>();
for (const type of PACKAGE_TYPES) {
  const htmlFile = path.join(ROOT, 'nodes', `${type}.html`);
  for (const [t, def] of editorDefs(htmlFile)) PACKAGE_DEFS.set(t, def);
}
const CORE_DEFS = new Map<string, EditorDef>();
for (const htmlFile of new Set([...CORE_FILES.values()].map((js) => js.replace(/\.js$/, '.html')))) {
  for (const [t, def] of editorDefs(htmlFile)) CORE_DEFS.set(t, def);
}
// The dashboard's editor scripts run against the stub editor too, so its nodes' properties and
// config references (ui-group, ui-page, ui-base, ui-theme) are checked like the others.
const DASHBOARD_DEFS = new Map<string, EditorDef>();
for (const htmlFile of new Set(DASHBOARD_FILES.values())) {
  for (const [t, def] of editorDefs(htmlFile)) if (DASHBOARD_TYPES.has(t)) DASHBOARD_DEFS.set(t, def);
}
const INFLUXDB_DEFS = new Map<string, EditorDef>();
if (fs.existsSync(INFLUXDB_HTML)) for (const [t, def] of editorDefs(INFLUXDB_HTML)) if (INFLUXDB_TYPES.has(t)) INFLUXDB_DEFS.set(t, def);
const defOf = (type: string): EditorDef | undefined =>
  PACKAGE_DEFS.get(type) ?? CORE_DEFS.get(type) ?? DASHBOARD_DEFS.get(type) ?? INFLUXDB_DEFS.get(type) ?? POSTGRESQL_DEFS.get(type);
const isConfigType = (type: string): boolean => defOf(type)?.category === 'config';

/** Properties every node may carry besides its editor defaults. */
const COMMON_PROPS = new Set(['id', 'type', 'z', 'g', 'x', 'y', 'w', 'h', 'wires', 'd', 'l', 'info']);

// ---- the examples ------------------------------------------------------------------------

const EXAMPLE_FILES = fs.existsSync(EXAMPLES_DIR)
  ? walk(EXAMPLES_DIR, '.json').map((f) => path.relative(EXAMPLES_DIR, f)).sort()
  : [];

function readExample(file: string): unknown {
  return JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8'));
}
function nodesOf(file: string): FlowNode[] {
  return readExample(file) as FlowNode[];
}
const isFlowNode = (n: FlowNode): boolean => n.type !== 'tab' && !isConfigType(n.type);

/** Every string in a value, with the path that leads to it. */
function strings(value: unknown, at: string): Array<[string, string]> {
  if (typeof value === 'string') return [[at, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => strings(v, `${at}[${i}]`));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => strings(v, `${at}.${k}`));
  return [];
}

function loadModule(file: string): NodeModule {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(file) as NodeModule | { default: NodeModule };
  return typeof mod === 'function' ? mod : mod.default;
}

describe('example flows', function () {
  it('the package defines its node types in editor files the tests can read', () => {
    assert.deepEqual([...PACKAGE_DEFS.keys()].sort(), [...PACKAGE_TYPES].sort());
    for (const type of PACKAGE_TYPES) assert.ok(defOf(type)?.defaults, `${type}: no defaults found in its .html`);
    for (const type of ['inject', 'debug', 'catch', 'comment', 'switch', 'change', 'split', 'mqtt out', 'mqtt-broker', 'http request']) {
      assert.ok(CORE_TYPES.has(type), `core node ${type} not found`);
      assert.ok(defOf(type)?.defaults, `core node ${type}: no defaults found`);
    }
  });

  it('the FlowFuse Dashboard 2.0 node types the examples use have editor defaults the tests can read', () => {
    for (const type of ['ui-base', 'ui-theme', 'ui-page', 'ui-group', 'ui-chart', 'ui-gauge', 'ui-table']) {
      assert.ok(DASHBOARD_TYPES.has(type), `dashboard node ${type} not found in ${DASHBOARD_DIR}`);
    }
    const used = [...new Set(EXAMPLE_FILES.flatMap((f) => nodesOf(f).map((n) => n.type)))].filter((t) => DASHBOARD_TYPES.has(t));
    assert.ok(used.length > 0, 'no example uses the dashboard');
    // So the property and config-reference checks below cover them (none skipped).
    for (const type of used) assert.ok(defOf(type)?.defaults, `dashboard node ${type}: no defaults found`);
    for (const type of ['ui-base', 'ui-theme', 'ui-page', 'ui-group']) assert.ok(isConfigType(type), `${type} is a config node`);
    for (const type of ['ui-chart', 'ui-gauge', 'ui-table']) assert.ok(!isConfigType(type), `${type} is a flow node`);
  });

  it('the database node types the history examples use have editor defaults the tests can read', () => {
    for (const type of ['influxdb', 'influxdb batch']) {
      assert.ok(INFLUXDB_TYPES.has(type), `InfluxDB node ${type} not found in ${INFLUXDB_HTML}`);
      assert.ok(defOf(type)?.defaults, `InfluxDB node ${type}: no defaults found`);
    }
    assert.ok(isConfigType('influxdb') && !isConfigType('influxdb batch'));
    assert.ok(isConfigType('postgreSQLConfig') && !isConfigType('postgresql'));
    const used = new Set(EXAMPLE_FILES.flatMap((f) => nodesOf(f).map((n) => n.type)));
    for (const type of ['influxdb', 'influxdb batch', 'postgreSQLConfig', 'postgresql']) assert.ok(used.has(type), `no example uses ${type}`);
  });

  it('there are examples', () => {
    assert.ok(EXAMPLE_FILES.length > 0, 'examples/ holds no .json file');
  });

  it('together they use every non-config node of the package (Flow Library check N02)', () => {
    const used = new Set(EXAMPLE_FILES.flatMap((f) => nodesOf(f).map((n) => n.type)));
    const flowTypes = PACKAGE_TYPES.filter((t) => !isConfigType(t));
    assert.ok(flowTypes.length >= 5);
    assert.deepEqual(flowTypes.filter((t) => !used.has(t)), []);
  });

  it('each example has ids of its own but for the one account they all share with each other and with the npm start demo', () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { demoFlow } = require('../../scripts/start.js') as { demoFlow: (o: object) => Array<Record<string, unknown>> };
    const demo = demoFlow({});
    assert.deepEqual(demo.find((n) => n.id === ACCOUNT.id), ACCOUNT, 'the demo\'s account is the examples\' account');
    const demoIds = new Set(demo.map((n) => n.id as string));
    const seen = new Map<string, string>();
    for (const file of EXAMPLE_FILES) {
      for (const node of nodesOf(file)) {
        if (node.id === ACCOUNT.id) continue;
        assert.ok(!demoIds.has(node.id), `${file}: ${node.id} (${node.type}) is also a node of the npm start demo`);
        assert.ok(!seen.has(node.id), `${file}: ${node.id} (${node.type}) is also in ${seen.get(node.id)}`);
        seen.set(node.id, file);
      }
    }
  });

  for (const file of EXAMPLE_FILES) {
    describe(file, function () {
      it('is an array of nodes with string ids and types', () => {
        const data = readExample(file);
        assert.ok(Array.isArray(data), 'not an array');
        assert.ok(data.length > 0, 'empty');
        for (const n of data as unknown[]) {
          assert.ok(n && typeof n === 'object' && !Array.isArray(n), `not a node: ${JSON.stringify(n)}`);
          const node = n as Record<string, unknown>;
          assert.equal(typeof node.id, 'string', `id of ${JSON.stringify(n)}`);
          assert.equal(typeof node.type, 'string', `type of ${node.id}`);
        }
      });

      it('has unique ids of 16 hex digits', () => {
        const ids = nodesOf(file).map((n) => n.id);
        assert.deepEqual(ids.filter((id, i) => ids.indexOf(id) !== i), [], 'duplicate ids');
        for (const id of ids) assert.match(id, /^[0-9a-f]{16}$/);
      });

      it('opens with a comment that explains it and how to set up the account', () => {
        const nodes = nodesOf(file);
        const first = nodes[0];
        assert.equal(first.type, 'comment');
        assert.ok(typeof first.name === 'string' && first.name.trim() !== '', 'the comment has no name');
        const info = String(first.info ?? '');
        for (const needed of ['demo-key', '${LEAPCRAFT_API_KEY}', 'npm run simulator']) {
          assert.ok(info.includes(needed), `the comment's info does not mention ${needed}`);
        }
      });

      it('uses only this package\'s nodes, Node-RED core nodes, FlowFuse Dashboard 2.0 nodes and InfluxDB/PostgreSQL nodes', () => {
        for (const n of nodesOf(file)) {
          assert.ok(PACKAGE_TYPES.includes(n.type) || CORE_TYPES.has(n.type) || isOtherPackageType(n.type), `${n.id}: unknown node type ${n.type}`);
        }
      });

      it('keeps its context in the default store (no store a vanilla Node-RED lacks)', () => {
        for (const n of nodesOf(file)) {
          if (n.type === 'leapcraft-notifications' || n.type === 'leapcraft-telemetry') assert.equal(n.store, '', `${n.id}: a named context store`);
          for (const key of ['func', 'initialize', 'finalize']) {
            const code = typeof n[key] === 'string' ? (n[key] as string) : '';
            // get(key, 'store') / set(key, value, 'store') / keys('store')
            assert.doesNotMatch(code, /\b(?:context|flow|global)\.(?:get\([^,()]+,\s*['"`]|set\([^,()]+,[^,()]+,\s*['"`]|keys\(\s*['"`])/,
              `${n.id}: ${key} names a context store`);
          }
        }
      });

      it('wires, catch scopes and link targets point at nodes of the file', () => {
        const nodes = nodesOf(file);
        const ids = new Set(nodes.map((n) => n.id));
        for (const n of nodes) {
          if (n.wires === undefined) continue;
          assert.ok(Array.isArray(n.wires) && n.wires.every((port) => Array.isArray(port)), `${n.id}: wires is not an array of arrays`);
          for (const target of (n.wires as unknown[][]).flat()) {
            assert.ok(typeof target === 'string' && ids.has(target), `${n.id}: wired to missing node ${String(target)}`);
            assert.notEqual(target, n.id, `${n.id}: wired to itself`);
          }
          for (const key of ['scope', 'links']) {
            const list = n[key];
            if (Array.isArray(list)) for (const target of list) assert.ok(ids.has(target as string), `${n.id}: ${key} names missing node ${String(target)}`);
          }
        }
      });

      it('every account is a leapcraft-config node of the file, every config reference resolves', () => {
        const nodes = nodesOf(file);
        const byId = new Map(nodes.map((n) => [n.id, n]));
        for (const n of nodes) {
          if ('account' in n) {
            const target = byId.get(n.account as string);
            assert.equal(target?.type, 'leapcraft-config', `${n.id}: account ${String(n.account)} is not a leapcraft-config node of the file`);
          }
          for (const [key, spec] of Object.entries(defOf(n.type)?.defaults ?? {})) {
            if (typeof spec?.type !== 'string' || !defOf(spec.type) || !isConfigType(spec.type)) continue;
            const value = n[key];
            if (value === undefined || value === '' || value === null) {
              assert.ok(!spec.required, `${n.id}: ${key} (a ${spec.type}) is required`);
              continue;
            }
            assert.equal(byId.get(value as string)?.type, spec.type, `${n.id}: ${key} ${String(value)} is not a ${spec.type} node of the file`);
          }
        }
        // Every node of ours that has an account (the air-quality node has none: it needs no API).
        for (const n of nodes.filter((x) => PACKAGE_TYPES.includes(x.type) && !isConfigType(x.type) && 'account' in (defOf(x.type)?.defaults ?? {}))) {
          assert.ok(typeof n.account === 'string' && n.account !== '', `${n.id}: no account`);
        }
      });

      it('brings the shared account: key and base URL from Node-RED\'s environment (${LEAPCRAFT_API_KEY}, ${LEAPCRAFT_BASE_URL})', () => {
        const accounts = nodesOf(file).filter((n) => n.type === 'leapcraft-config');
        assert.deepEqual(accounts, [ACCOUNT], 'one account, the same in every example (a config node scoped to a flow would not be shared)');
      });

      it('holds no credentials but the account\'s ${LEAPCRAFT_API_KEY}, and no API key outside the comments\' help text', () => {
        for (const n of nodesOf(file)) {
          if (n.id !== ACCOUNT.id) assert.ok(!('credentials' in n), `${n.id}: has a credentials property`);
          for (const [where, text] of strings(n, n.id)) {
            if (n.type === 'comment' && where === `${n.id}.info`) continue;
            assert.ok(!text.includes('demo-key'), `${where} contains the API key`);
          }
        }
      });

      it('places every flow node (x/y), leaves config nodes unplaced', () => {
        for (const n of nodesOf(file)) {
          if (isFlowNode(n)) {
            assert.ok(Number.isFinite(n.x) && Number.isFinite(n.y), `${n.id} (${n.type}): no x/y`);
            assert.ok(Array.isArray(n.wires), `${n.id} (${n.type}): no wires`);
          } else {
            assert.ok(!('x' in n) && !('y' in n) && !('wires' in n), `${n.id} (${n.type}): a config node with x/y/wires`);
          }
        }
      });

      it('stores exactly the properties each node\'s editor defines', () => {
        for (const n of nodesOf(file)) {
          const defaults = defOf(n.type)?.defaults;
          // Dashboard and database editors evaluate with the stub (checked above), so theirs are checked too.
          if (isOtherPackageType(n.type)) assert.ok(defaults, `${n.id} (${n.type}): the editor's defaults were not read`);
          if (!defaults) continue;
          const known = Object.keys(defaults);
          // The account's credentials: only its ${LEAPCRAFT_API_KEY} (checked above).
          const extra = Object.keys(n).filter((k) => !COMMON_PROPS.has(k) && !known.includes(k) && !(k === 'credentials' && n.id === ACCOUNT.id));
          assert.deepEqual(extra, [], `${n.id} (${n.type}): properties its editor does not define`);
          if (PACKAGE_TYPES.includes(n.type)) {
            // Ours completely: an example is also the documentation of a node's settings.
            assert.deepEqual(known.filter((k) => !(k in n)), [], `${n.id} (${n.type}): settings missing`);
          }
        }
      });

      describe('in the Node-RED runtime', function () {
        let sandbox: sinon.SinonSandbox;
        let time: NodeClock | undefined;
        afterEach(async () => {
          time?.stop();
          time = undefined;
          await helper.unload();
          sandbox?.restore();
        });

        it('creates every node, without a settings error and without touching the network', async () => {
          const TAB = 'f0f0f0f0f0f0f0f0';
          // Dashboard 2.0's nodes stay out of the loaded copy, with the wires to them: they need
          // a full Node-RED editor/server runtime (ui-base serves its app and socket.io on
          // Node-RED's HTTP server and registers with the editor), which the test helper does not
          // provide. test/system/browser.test.ts runs them for real in the npm start demo. Every other
          // node, every one of ours among them, is loaded and checked.
          // node-red-contrib-postgresql is not installed here: its nodes stay out the same way.
          const dropped = new Set(nodesOf(file).filter((n) => isUnloadedType(n.type)).map((n) => n.id));
          const nodes = nodesOf(file).filter((n) => !dropped.has(n.id)).map((n) => {
            if (!Array.isArray(n.wires)) return n;
            return { ...n, wires: (n.wires as string[][]).map((port) => port.filter((id) => !dropped.has(id))) };
          });
          for (const n of nodes) {
            for (const [key, value] of Object.entries(n)) {
              if (key !== 'id' && typeof value === 'string') assert.ok(!dropped.has(value), `${n.id}: ${key} refers to the unloaded node ${value}`);
            }
          }
          assert.ok(nodes.some((n) => PACKAGE_TYPES.includes(n.type)), 'none of our nodes left to load');
          assert.ok(!nodes.some((n) => n.id === TAB));
          const flow: Array<Record<string, unknown>> = [{ id: TAB, type: 'tab', label: file }];
          for (const n of nodes) {
            const copy: Record<string, unknown> = structuredClone(n);
            if (isFlowNode(n)) {
              copy.z = TAB;
              // In a tab, a flow node without x and y is taken for a config node.
              copy.x ??= 100;
              copy.y ??= 100;
            }
            // The broker is a placeholder: stay disconnected.
            if (n.type === 'mqtt-broker') copy.autoConnect = false;
            flow.push(copy);
          }

          const modules = new Set<NodeModule>([catchNode as NodeModule]);
          for (const type of new Set(nodes.map((n) => n.type))) {
            if (PACKAGE_TYPES.includes(type)) modules.add(loadModule(path.join(ROOT, 'nodes', type)));
            else if (CORE_FILES.has(type)) modules.add(loadModule(CORE_FILES.get(type)!));
            else if (INFLUXDB_TYPES.has(type)) modules.add(loadModule(path.join(INFLUXDB_DIR, 'influxdb.js')));
          }

          sandbox = sinon.createSandbox();
          const connect = sandbox.spy(net.Socket.prototype, 'connect');
          // Simulated time (no account has a key: no request to wait for), so the nodes' first
          // rounds and the minute after them take no real time.
          const clock = time = new NodeClock([]);
          // The base URL from the environment; LEAPCRAFT_API_KEY not set: the account has no
          // API key, so nothing is ever sent.
          sandbox.stub(process, 'env').value({ ...process.env, LEAPCRAFT_BASE_URL: SIMULATOR_URL, LEAPCRAFT_API_KEY: undefined });
          await helper.load([...modules] as never, flow as never);

          for (const n of nodes) {
            assert.ok(helper.getNode(n.id), `${n.id} (${n.type}) was not created`);
          }
          // The polling nodes' first rounds (they fail at once for want of a key), and a minute more.
          await clock.run(60_000);
          for (const n of nodes.filter((x) => PACKAGE_TYPES.includes(x.type))) {
            const node = helper.getNode(n.id);
            const calls = (node.error as unknown as sinon.SinonSpy).getCalls().filter((c) => c.thisValue === node);
            const codes = calls.map((c) => (c.args[0] as { code?: string })?.code ?? String(c.args[0]));
            assert.deepEqual(codes.filter((c) => c !== 'LEAPCRAFT_AUTH'), [], `${n.id} (${n.type}) reported errors`);
          }
          assert.equal(connect.callCount, 0, 'a socket was opened');
        });
      });
    });
  }
});
