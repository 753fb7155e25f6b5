#!/usr/bin/env node
/**
 * `npm start`: the whole package running, for a look and for a demo.
 *
 *   1. builds the package (`npm run build`; `--no-build` skips it),
 *   2. starts the Leapcraft API simulator in this process (127.0.0.1:8787, key `demo-key`,
 *      alerts raised from its readings, a meeting in one room after another every 4 minutes so
 *      CO2 alerts come and go at any hour, and a backlog of alerts), unless LEAPCRAFT_API_KEY is
 *      set: then the demo talks to the real API (https://api.leapcraft.com/v1, or
 *      LEAPCRAFT_BASE_URL) with it,
 *   3. starts Node-RED 4.1 (the devDependency) on 127.0.0.1:1880 with its user directory in
 *      `.demo/`, where this package and FlowFuse Dashboard 2.0 are linked from the working tree,
 *      and LEAPCRAFT_API_KEY and LEAPCRAFT_BASE_URL in its environment (the simulator's key and
 *      URL, or yours): the account every example brings reads them,
 *   4. deploys the demo through the admin API, as the editor does: the tab "Leapcraft nodes"
 *      from scripts/demo/flow.json, and the tab "Leapcraft dashboard" filled with the example
 *      examples/dashboard.json (the one copy of the dashboard flow), both on the examples'
 *      account (key and base URL from the environment),
 *   5. prints where everything is, and on Ctrl-C (SIGINT) or SIGTERM stops all it started, also when
 *      the signal went to the `npm start` process alone (npm then exits without passing it on).
 *
 * Each run replaces the demo's own two tabs and its config nodes (the account, the dashboard's
 * settings) and keeps everything else in the user directory: your tabs, subflows and config nodes
 * with their credentials, and their context. Edits to the demo tabs do not survive (export them,
 * or copy them to a tab of your own).
 *
 * Environment:
 *   PORT                      Node-RED port (1880)
 *   LEAPCRAFT_SIMULATOR_PORT  simulator port (8787)
 *   LEAPCRAFT_DEMO_DIR        Node-RED user directory (.demo in the repository)
 *   LEAPCRAFT_API_KEY         use the real Leapcraft API with this key instead of the simulator
 *   LEAPCRAFT_BASE_URL        the API's base URL with LEAPCRAFT_API_KEY (https://api.leapcraft.com/v1)
 *
 * `require('./scripts/start').startDemo(options)` does the same without signal handling and
 * resolves with the URLs and a stop() function.
 */
'use strict';

const crypto = require('node:crypto');
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..');
const PACKAGE = 'node-red-contrib-leapcraft';
const DASHBOARD = '@flowfuse/node-red-dashboard';
const FLOW_FILE = path.join(__dirname, 'demo', 'flow.json');
/** The dashboard example, deployed as it is (its ids too) on the demo's dashboard tab. */
const DASHBOARD_FLOW_FILE = path.join(ROOT, 'examples', 'dashboard.json');
const DASHBOARD_TAB = 'demo-tab-dashboard';
/** The demo's own tabs: replaced on every run, with every node on them. */
const DEMO_TABS = ['demo-tab-nodes', DASHBOARD_TAB];
const PARENT_WATCH = path.join(__dirname, 'demo', 'parent-watch.js');
const REAL_API = 'https://api.leapcraft.com/v1';
/**
 * The account every example brings, with this id in each, so the editor's import keeps the one
 * already there instead of adding another; the demo's nodes use it too.
 */
const ACCOUNT_ID = 'c0a1e0d1f00000aa';
/** A meeting in one room after another (see simulator/meetings.ts): CO2 alerts within minutes, at any hour. */
const MEETING_EVERY_MS = 4 * 60_000;
/** Fixed on purpose: the demo's flows_cred.json must decrypt on every run. Not for production. */
const CREDENTIAL_SECRET = 'leapcraft-demo-not-a-secret';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 15_000;

function portFrom(value, fallback, name, min = 1) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 65535) throw new Error(`${name} must be a port number (${min}-65535), not ${JSON.stringify(value)}`);
  return n;
}

/** The demo's settings from the environment; explicit options win. */
function resolveOptions(options = {}, env = process.env) {
  const apiKey = options.apiKey ?? (env.LEAPCRAFT_API_KEY || undefined);
  return {
    build: options.build ?? true,
    port: options.port ?? portFrom(env.PORT, 1880, 'PORT'),
    simulatorPort: options.simulatorPort ?? portFrom(env.LEAPCRAFT_SIMULATOR_PORT, 8787, 'LEAPCRAFT_SIMULATOR_PORT', 0),
    demoDir: path.resolve(ROOT, options.demoDir ?? (env.LEAPCRAFT_DEMO_DIR || '.demo')),
    apiKey,
    baseUrl: options.baseUrl ?? (apiKey ? env.LEAPCRAFT_BASE_URL || REAL_API : undefined),
    log: options.log ?? ((line) => process.stdout.write(`${line}\n`)),
    // Extra environment for Node-RED (npm run cluster: LEAPCRAFT_REDIS_URL), and a simulator
    // started by the caller to share (it stops it itself).
    env: options.env ?? {},
    simulator: options.simulator,
  };
}

/** The demo's simulator: alerts from its readings, meetings, new readings every 10 s, a week of alerts. */
function demoSimulator(port) {
  const simModule = path.join(ROOT, 'dist', 'simulator', 'index.js');
  if (!fs.existsSync(simModule)) throw new Error('dist/ is missing: run npm run build (or npm start without --no-build)');
  const { LeapcraftSimulator } = require(simModule);
  return new LeapcraftSimulator({
    host: '127.0.0.1',
    port,
    autoAlerts: true,
    meetingEveryMs: MEETING_EVERY_MS,
    // New readings every 10 s (the dashboard polls every 10 s), and a week of alerts to show.
    reportIntervalMs: 10_000,
    initialAlerts: 30,
  });
}

function build(log) {
  log('Building the package (npm run build) ...');
  const npm = process.env.npm_execpath;
  // Under `npm start`, npm_execpath is npm's own cli.js: run it with this node.
  const [cmd, args] = npm && /\.c?js$/.test(npm)
    ? [process.execPath, [npm, 'run', '--silent', 'build']]
    : [process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build']];
  const res = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit', shell: process.platform === 'win32' });
  if (res.error) throw res.error;
  if (res.status !== 0) throw new Error(`npm run build failed (exit code ${res.status})`);
}

/** A fresh symlink (a junction on Windows) at `link` pointing at `target`. */
function link(target, linkPath) {
  fs.mkdirSync(path.dirname(linkPath), { recursive: true });
  fs.rmSync(linkPath, { recursive: true, force: true });
  fs.symlinkSync(target, linkPath, process.platform === 'win32' ? 'junction' : 'dir');
}

function settingsSource(port) {
  return `// Written by scripts/start.js on every run: edit that script, not this file.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    // Fixed so that the demo's flows_cred.json decrypts on every run. A demo, not a secret.
    credentialSecret: ${JSON.stringify(CREDENTIAL_SECRET)},
    // Persistent by default: the dashboard example keeps its alert list, and the alerts nodes
    // their memory of what they have sent, in the default store (a vanilla Node-RED keeps it in
    // memory), so here they survive a restart.
    contextStorage: {
        default: { module: 'localfilesystem' }
    },
    telemetry: { enabled: false, updateNotification: false },
    diagnostics: { enabled: false },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    editorTheme: {
        tours: false,
        projects: { enabled: false },
        palette: { categories: ['Leapcraft', 'subflows', 'common', 'function', 'network', 'sequence', 'parser', 'storage'] }
    }
};
`;
}

/**
 * The user directory: package.json, settings.js, links to this package and to the dashboard.
 * The flows, their credentials and context stay as the last run (and the user) left them: the
 * demo is deployed once Node-RED runs, replacing only its own tabs and config nodes.
 */
function prepareUserDir(o) {
  const dir = o.demoDir;
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify({
    name: 'leapcraft-demo-userdir',
    description: 'Node-RED user directory of npm start (node-red-contrib-leapcraft demo)',
    private: true,
  }, null, 2)}\n`);
  fs.writeFileSync(path.join(dir, 'settings.js'), settingsSource(o.port));
  link(ROOT, path.join(dir, 'node_modules', PACKAGE));
  const dashboard = path.join(ROOT, 'node_modules', ...DASHBOARD.split('/'));
  if (!fs.existsSync(path.join(dashboard, 'package.json'))) {
    throw new Error(`${DASHBOARD} is not installed in ${path.join(ROOT, 'node_modules')}: run npm install first`);
  }
  link(dashboard, path.join(dir, 'node_modules', ...DASHBOARD.split('/')));
  if (!o.apiKey) {
    // The simulator starts afresh every run (its alert ids start again at 1), so what the demo's
    // alerts nodes and alert list remember from an earlier run would hide its alerts: their
    // context (localfilesystem keeps a folder per tab) starts from nothing. Other tabs keep theirs.
    for (const tab of DEMO_TABS) fs.rmSync(path.join(dir, 'context', tab), { recursive: true, force: true });
  }
}

/**
 * The tab "Leapcraft nodes" (scripts/demo/flow.json, with both tab nodes) and the dashboard
 * example on the tab "Leapcraft dashboard": its flow nodes (those placed, with x/y) get that tab
 * as `z`, its config nodes (dashboard settings, the account) stay global; no id changes.
 */
function readDemoFlow() {
  const flow = JSON.parse(fs.readFileSync(FLOW_FILE, 'utf8'));
  if (!flow.some((n) => n.id === DASHBOARD_TAB && n.type === 'tab')) throw new Error(`${FLOW_FILE} has no tab ${DASHBOARD_TAB}`);
  const dashboard = JSON.parse(fs.readFileSync(DASHBOARD_FLOW_FILE, 'utf8'));
  for (const n of dashboard) {
    if (n.type === 'tab' || n.type === 'subflow' || n.z !== undefined) throw new Error(`${DASHBOARD_FLOW_FILE}: ${n.id} is not a node for one tab`);
    if (n.x !== undefined && n.y !== undefined) n.z = DASHBOARD_TAB;
  }
  const all = flow.concat(dashboard);
  const ids = new Set();
  for (const n of all) {
    if (ids.has(n.id)) throw new Error(`node id ${n.id} is in both ${FLOW_FILE} and ${DASHBOARD_FLOW_FILE}`);
    ids.add(n.id);
  }
  // One account for the whole demo.
  for (const n of all) {
    if (n.account !== undefined && n.account !== ACCOUNT_ID) throw new Error(`${n.id}: account ${n.account}, not the demo's account ${ACCOUNT_ID}`);
  }
  // The example's nodes get ids of their own in the demo, so that importing the dashboard
  // example into the demo meets no "nodes already exist" conflict, but for the account: every
  // example shares it, and the import keeps the one there.
  const renamed = new Set(dashboard.map((n) => n.id).filter((id) => id !== ACCOUNT_ID));
  const rename = (value) => {
    if (typeof value === 'string') return renamed.has(value) ? demoNodeId(value) : value;
    if (Array.isArray(value)) return value.map(rename);
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rename(v)]));
    return value;
  };
  return all.map(rename);
}

/** The id the demo gives a node of examples/dashboard.json (16 hex digits, as Node-RED's own). */
function demoNodeId(exampleId) {
  return crypto.createHash('sha1').update(`leapcraft-demo:${exampleId}`).digest('hex').slice(0, 16);
}

/**
 * The demo flow. With the simulator as it is; for a real account (LEAPCRAFT_API_KEY) without the
 * inject of a simulator device id, and polling once a minute rather than every 10 s.
 */
function demoFlow(o) {
  const flow = readDemoFlow();
  const account = flow.find((n) => n.id === ACCOUNT_ID && n.type === 'leapcraft-config');
  if (!account) throw new Error(`${DASHBOARD_FLOW_FILE} has no account ${ACCOUNT_ID}`);
  if (!o.apiKey) return flow;
  const simulatorOnly = new Set(['demo-inject-device']);
  const real = flow.filter((n) => !simulatorOnly.has(n.id));
  for (const n of real) {
    if (Array.isArray(n.wires)) n.wires = n.wires.map((out) => out.filter((id) => !simulatorOnly.has(id)));
    if ((n.type === 'leapcraft-telemetry' || n.type === 'leapcraft-notifications') && Number(n.interval) > 0 && Number(n.interval) < 60) {
      n.interval = 60;
      n.name = String(n.name || '').replace(/every \d+ s/, 'every 60 s');
    }
  }
  return real;
}

/**
 * The flows to deploy: what runs now (`current`, as GET /flows gives it) without the demo's own
 * tabs, the nodes on them and the demo's config nodes, then the demo afresh. Everything else (the
 * user's tabs, subflows, config nodes, in their order) stays; nodes sent without `credentials`
 * keep the ones Node-RED has stored.
 */
function mergeDemo(current, demo) {
  const tabs = new Set(demo.filter((n) => n.type === 'tab').map((n) => n.id));
  const own = new Set(demo.map((n) => n.id));
  // The account's id in demos before the examples shared it.
  own.add(demoNodeId(ACCOUNT_ID));
  const kept = current.filter((n) => !own.has(n.id) && !(n.z !== undefined && tabs.has(n.z)));
  return kept.concat(demo);
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function tail(text, lines = 30) {
  return text.split('\n').slice(-lines).join('\n');
}

/**
 * Starts the demo. Resolves with {editorUrl, dashboardUrl, apiUrl, apiKey, simulator, demoDir,
 * logFile, nodeRed (the child process), stop()}; on failure, stops what it had started and rejects.
 */
async function startDemo(options = {}) {
  const o = resolveOptions(options);
  const log = o.log;
  const started = Date.now();
  let simulator;
  let red;
  let stopping;

  async function stop() {
    if (stopping) return stopping;
    stopping = (async () => {
      if (red && red.exitCode === null && red.signalCode === null) {
        const exited = new Promise((resolve) => red.once('exit', resolve));
        red.kill('SIGINT'); // graceful: nodes close, context stores flush
        const timer = setTimeout(() => red.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      if (simulator && simulator !== o.simulator) await simulator.stop();
    })();
    return stopping;
  }

  try {
    if (o.build) build(log);

    let apiUrl = o.baseUrl;
    if (o.simulator) {
      simulator = o.simulator;
      apiUrl = simulator.baseUrl;
    } else if (!o.apiKey) {
      simulator = demoSimulator(o.simulatorPort);
      try {
        apiUrl = await simulator.start();
      } catch (err) {
        const inUse = err && err.code === 'EADDRINUSE';
        simulator = undefined;
        throw new Error(inUse
          ? `port ${o.simulatorPort} is in use (another simulator?): stop it or set LEAPCRAFT_SIMULATOR_PORT`
          : `the simulator did not start: ${err && err.message}`);
      }
    }

    prepareUserDir(o);
    // Node-RED writes its log straight to a file: no pipe to break if this process dies first.
    const logFile = path.join(o.demoDir, 'node-red.log');
    const logFd = fs.openSync(logFile, 'w');
    try {
      red = spawn(process.execPath, [
        '--require', PARENT_WATCH,
        require.resolve('node-red/red.js', { paths: [ROOT] }),
        '--userDir', o.demoDir,
        '--settings', path.join(o.demoDir, 'settings.js'),
        '--port', String(o.port),
      ], {
        cwd: o.demoDir,
        stdio: ['ignore', logFd, logFd],
        // What the examples' account reads: ${LEAPCRAFT_API_KEY}, ${LEAPCRAFT_BASE_URL}.
        env: { ...process.env, ...o.env, LEAPCRAFT_API_KEY: o.apiKey ?? simulator.apiKey, LEAPCRAFT_BASE_URL: apiUrl },
      });
    } finally {
      fs.closeSync(logFd);
    }
    const output = () => {
      try {
        return fs.readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    };

    const editorUrl = `http://127.0.0.1:${o.port}/`;
    const until = Date.now() + START_TIMEOUT_MS;
    for (;;) {
      if (red.exitCode !== null || red.signalCode !== null) {
        const inUse = /EADDRINUSE|address already in use|port in use/i.test(output());
        throw new Error(inUse
          ? `port ${o.port} is in use (another Node-RED?): stop it or set PORT\n${tail(output(), 10)}`
          : `Node-RED exited (code ${red.exitCode}):\n${tail(output())}`);
      }
      try {
        const res = await fetch(`${editorUrl}settings`, { headers: { Accept: 'application/json' } });
        if (res.ok && /Started flows/.test(output())) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > until) throw new Error(`Node-RED did not start within ${START_TIMEOUT_MS / 1000} s:\n${tail(output())}`);
      await sleep(150);
    }

    const nodes = await (await fetch(`${editorUrl}nodes`, { headers: { Accept: 'application/json' } })).json();
    const modules = new Set(nodes.map((n) => n.module));
    for (const name of [PACKAGE, DASHBOARD]) {
      if (!modules.has(name)) throw new Error(`Node-RED did not load ${name}:\n${tail(output())}`);
    }

    const api = { 'Node-RED-API-Version': 'v2' };
    const running = await fetch(`${editorUrl}flows`, { headers: { ...api, Accept: 'application/json' } });
    if (!running.ok) throw new Error(`reading the flows failed: HTTP ${running.status} ${await running.text()}`);
    const current = await running.json();
    const res = await fetch(`${editorUrl}flows`, {
      method: 'POST',
      headers: { ...api, 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'full' },
      body: JSON.stringify({ rev: current.rev, flows: mergeDemo(current.flows, demoFlow(o)) }),
    });
    if (!res.ok) throw new Error(`deploying the demo flow failed: HTTP ${res.status} ${await res.text()}`);

    const dashboardUrl = `${editorUrl}dashboard`;
    const rel = path.relative(process.cwd(), o.demoDir) || '.';
    const shown = rel.startsWith('..') ? o.demoDir : rel;
    log([
      '',
      `Leapcraft demo running (started in ${((Date.now() - started) / 1000).toFixed(1)} s)`,
      `  Node-RED editor:  ${editorUrl}`,
      `  Dashboard:        ${dashboardUrl}`,
      simulator
        ? `  Simulator:        ${apiUrl}  (API key: ${simulator.apiKey}, control: ${apiUrl.replace(/\/v1$/, '')}/__sim/stats)`
        : `  Leapcraft API:    ${apiUrl}  (API key from LEAPCRAFT_API_KEY)`,
      `  User directory:   ${shown}  (Node-RED log: ${path.join(shown, 'node-red.log')})`,
      '',
      'Press Ctrl+C to stop.',
    ].join('\n'));

    return {
      editorUrl,
      dashboardUrl,
      apiUrl,
      apiKey: simulator ? simulator.apiKey : undefined,
      simulator,
      demoDir: o.demoDir,
      logFile,
      nodeRed: red,
      output,
      stop,
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: npm start [-- --no-build]\nEnvironment: PORT, LEAPCRAFT_SIMULATOR_PORT, LEAPCRAFT_DEMO_DIR, LEAPCRAFT_API_KEY, LEAPCRAFT_BASE_URL (see scripts/start.js)\n');
    return;
  }
  const unknown = args.filter((a) => a !== '--no-build');
  if (unknown.length) throw new Error(`unknown argument ${unknown[0]} (try --help)`);

  let demo;
  let stopping = false;
  let interrupted;
  const shutdown = (signal) => {
    if (stopping) {
      // A second Ctrl-C: out now, taking Node-RED along.
      if (demo && demo.nodeRed.exitCode === null) demo.nodeRed.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    if (!demo) {
      interrupted = signal; // startDemo is still running: stop once it returns or fails
      return;
    }
    process.stdout.write(`\n${signal}: stopping Node-RED and the simulator ...\n`);
    demo.stop().then(() => {
      process.stdout.write('Stopped.\n');
      process.exit(0);
    }, (err) => {
      process.stderr.write(`stop failed: ${err && err.message}\n`);
      process.exit(1);
    });
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
  // npm does not pass a SIGINT or SIGTERM sent to `npm start` alone on to this script: npm
  // exits and this process is left to init. Its parent changing is the sign to stop too.
  const parent = process.ppid;
  const parentWatch = setInterval(() => {
    if (process.ppid !== parent) {
      clearInterval(parentWatch);
      shutdown('parent process gone');
    }
  }, 500);
  parentWatch.unref();
  // Last resort, whatever the reason this process goes: no Node-RED left behind.
  process.on('exit', () => {
    if (demo && demo.nodeRed.exitCode === null && demo.nodeRed.signalCode === null) demo.nodeRed.kill('SIGKILL');
  });

  demo = await startDemo({ build: !args.includes('--no-build') });
  if (interrupted) {
    stopping = false;
    shutdown(interrupted);
    return;
  }
  demo.nodeRed.once('exit', (code, signal) => {
    if (stopping) return;
    process.stderr.write(`\nNode-RED stopped unexpectedly (${signal || `exit code ${code}`}); see ${demo.logFile}\n`);
    stopping = true;
    demo.stop().finally(() => process.exit(1));
  });
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`npm start: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

module.exports = { startDemo, demoSimulator, resolveOptions, demoNodeId, demoFlow, mergeDemo, ACCOUNT_ID, DEMO_TABS };
