/**
 * Issue 5, item 4: secrets, inside a real Node-RED running the packed package with adminAuth.
 *
 * Two accounts poll two simulators (telemetry, alerts) with distinctive keys: one typed into the
 * credential, one given as ${ENV}. The run goes through token expiry, revocation, 5xx bursts,
 * 429s, malformed/HTML/empty bodies, resets, error bodies that echo the token and the key, the
 * key refused and restored, the hostile msgs of input-cases.ts and every admin look-up. Then the
 * keys, every token the simulators issued (and 16-character pieces of each) are looked for in
 * everything that left the nodes or Node-RED: every file of the user directory, GET /flows and
 * the other admin API answers, the log at trace level, every status and debug msg on the
 * editor's socket, every Catch msg. flows_cred.json must be encrypted (and hold the ${ENV}
 * reference, not the key it resolves to).
 *
 * Also: every admin route the package registers (found by loading the packed nodes into the test
 * helper and listing its express router) refuses a request without a token, with a forged or a
 * revoked one (401, nothing sent), works with a valid one, and refuses a typed key to a read-only
 * user; a base URL that is not https and not loopback is refused at deploy. Node-RED runs with
 * HTTP(S)_PROXY pointing to a loopback recorder, so a request that slipped through to
 * example.com or 10.0.0.1 would land there (and be counted) instead of on the network.
 */
import assert from 'node:assert/strict';
import { createDecipheriv, createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { LeapcraftSimulator } from '../../../simulator';
import { helper } from '../../support/nodered';
import { packOnce } from '../../support/pack';
import { RealNodeRed } from '../../support/real-nodered';
import { caseFlow, CaseAnswer, CommsTap, errorText, FlowNode, msgCases, sendCase } from './input-cases';
import { sleep, waitFor } from '../../support/wait';

const ENV_NAME = 'LEAPCRAFT_RELIABILITY_KEY';
const CREDENTIAL_SECRET = 'test-secret';
const TAB = 'sec-tab';
const ACCT_A = 'sec-acct-a';
const ACCT_B = 'sec-acct-b';
const TAP = 'sec-tap';

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const KEY_A = `sk-leapcraft-SECRET-${hex(12)}`;
const KEY_B = `sk-leapcraft-ENVKEY-${hex(12)}`;
/** The password of a base URL with credentials (refused); it must not reach the log or a status either. */
const URL_PASSWORD = `pw-SECRET-${hex(8)}`;

interface Recorder {
  url: string;
  hits: string[];
  close(): Promise<void>;
}

/** A loopback HTTP proxy that answers 502 and records every request (and CONNECT) it gets. */
async function startRecorder(): Promise<Recorder> {
  const hits: string[] = [];
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    req.resume();
    res.writeHead(502, { Connection: 'close' }).end();
  });
  server.on('connect', (req, socket) => {
    hits.push(`CONNECT ${req.url}`);
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

interface Route {
  method: string;
  path: string;
}

/**
 * Every express route the packed package's nodes register on the admin app: the nodes are
 * loaded into the test helper (a fresh express app per load) and its router listed, compared
 * with a load of a core node only.
 */
async function packageAdminRoutes(packageDir: string): Promise<Route[]> {
  const pkg = JSON.parse(fs.readFileSync(path.join(packageDir, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const modules = Object.values(pkg['node-red'].nodes).map((file) => require(path.join(packageDir, file)) as unknown);
  const list = (): Route[] => {
    const app = (helper as unknown as { _httpAdmin: { _router?: { stack: Array<{ route?: { path: string; methods: Record<string, boolean> } }> } } })._httpAdmin;
    return (app._router?.stack ?? []).flatMap((layer) => (layer.route
      ? Object.keys(layer.route.methods).map((m) => ({ method: m.toUpperCase(), path: String(layer.route!.path) }))
      : []));
  };
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  await helper.load(require('@node-red/nodes/core/common/25-catch.js'), []);
  const baseline = new Set(list().map((r) => `${r.method} ${r.path}`));
  await helper.unload();
  await helper.load(modules as never, []);
  const ours = list().filter((r) => !baseline.has(`${r.method} ${r.path}`));
  await helper.unload();
  return ours;
}

/** Node-RED's credential encryption (aes-256-ctr, key sha256(credentialSecret), iv in front). */
function decryptCredentials(file: string, secret: string): Record<string, Record<string, unknown>> {
  const stored = JSON.parse(fs.readFileSync(file, 'utf8')) as { $: string };
  const key = createHash('sha256').update(secret).digest();
  const decipher = createDecipheriv('aes-256-ctr', key, Buffer.from(stored.$.substring(0, 32), 'hex'));
  return JSON.parse(decipher.update(stored.$.substring(32), 'base64', 'utf8') + decipher.final('utf8'));
}

/** Files under `dir`, without node_modules. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules') out.push(...filesUnder(full));
    } else if (entry.isFile()) {
      out.push(full);
    }
  }
  return out;
}

describe('reliability: secrets and admin access through a real Node-RED (issue 5, item 4)', function () {
  this.timeout(180_000);
  let simA: LeapcraftSimulator;
  let simB: LeapcraftSimulator;
  /** Base URLs that must be refused point here when they are loopback; it must see nothing. */
  let simRefused: LeapcraftSimulator;
  let recorder: Recorder;
  let red: RealNodeRed;
  let tap: CommsTap;
  let adminToken: string;
  let routes: Route[] = [];
  /** Everything read back from Node-RED, by where it came from: scanned at the end. */
  const collected: Array<{ source: string; text: string }> = [];
  let caseId = 0;

  const BAD_URLS: Array<(port: number) => string> = [
    () => 'http://example.com/v1',
    () => 'http://10.0.0.1/v1',
    () => 'http://192.168.1.10:8787/v1',
    () => `http://leapuser:${URL_PASSWORD}@example.com/v1`,
    () => `https://leapuser:${URL_PASSWORD}@example.com/v1`,
    (port) => `http://leapuser:${URL_PASSWORD}@127.0.0.1:${port}/v1`,
    // Not a URL at all (a space in the host): the message quotes the start of what was typed.
    () => `http://leapuser:${URL_PASSWORD}@exa mple.com/v1`,
    (port) => `http://127.0.0.1:${port}/v1?api_key=x`,
    (port) => `http://127.0.0.1:${port}/v1#frag`,
    () => 'http://127.0.0.1.nip.io/v1',
    () => 'http://localhost.example.com/v1',
    () => 'http://0.0.0.0/v1',
    (port) => `ftp://127.0.0.1:${port}/v1`,
    () => 'javascript:alert(1)',
    () => 'file:///etc/passwd',
    () => 'data:application/json,[]',
    () => 'not a url',
  ];

  /** An admin API call; its answer is kept for the scan. */
  async function admin(method: string, route: string, token: string | undefined, body?: unknown, accept = 'application/json'): Promise<{ status: number; text: string }> {
    const res = await fetch(`${red.url}${route}`, {
      method,
      headers: {
        Accept: accept,
        'Node-RED-API-Version': 'v2',
        ...(body === undefined ? {} : { 'Content-Type': 'application/json' }),
        ...(token ? { Authorization: `Bearer ${token}` } : {}),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => { headers[name] = value; });
    collected.push({ source: `${method} ${route} (HTTP ${res.status})`, text: `${JSON.stringify(headers)}\n${text}` });
    return { status: res.status, text };
  }

  async function send(target: string, msg: Record<string, unknown> = {}): Promise<CaseAnswer> {
    const answer = await sendCase(red.url, target, ++caseId, msg, { Authorization: `Bearer ${adminToken}` });
    collected.push({ source: `case answer ${target}`, text: JSON.stringify(answer) });
    return answer;
  }

  /** The codes the Catch nodes saw (on the editor socket, via the tap's debug node). */
  function caughtCodes(): Set<string> {
    const codes = new Set<string>();
    for (const e of tap.events) {
      const tapped = e.topic === 'debug' ? (e.data as { msg?: string }).msg : undefined;
      const m = typeof tapped === 'string' ? /"code":"(LEAPCRAFT_[A-Z_]+)"/.exec(tapped) : null;
      if (m) codes.add(m[1]);
    }
    return codes;
  }


  before(async function () {
    simA = new LeapcraftSimulator({ apiKey: KEY_A, deviceCount: 6, gateways: 3 });
    simB = new LeapcraftSimulator({ apiKey: KEY_B, deviceCount: 4, gateways: 2, initialAlerts: 3 });
    simRefused = new LeapcraftSimulator({ apiKey: KEY_A, deviceCount: 2 });
    await Promise.all([simA.start(), simB.start(), simRefused.start()]);
    recorder = await startRecorder();
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bcrypt = require('bcryptjs') as { hashSync(pw: string, rounds: number): string };
    const users = [
      { username: 'admin', password: bcrypt.hashSync('admin-pw', 8), permissions: '*' },
      { username: 'viewer', password: bcrypt.hashSync('viewer-pw', 8), permissions: 'read' },
    ];
    red = new RealNodeRed({
      tarball: await packOnce(),
      settingsSource: [
        // Anonymous users may read the runtime settings only (the harness polls GET /settings).
        `adminAuth: { type: 'credentials', users: ${JSON.stringify(users)}, default: { permissions: 'settings.read' } },`,
        "logging: { console: { level: 'trace', audit: true } },",
        'debugMaxLength: 10000000,',
        // The process environment, as a service file would set it: the key behind ${ENV}, and a
        // proxy that catches any request to a non-loopback host (the client bypasses it for loopback).
        `leapcraftTestEnvironment: (Object.assign(process.env, ${JSON.stringify({
          [ENV_NAME]: KEY_B, HTTP_PROXY: recorder.url, HTTPS_PROXY: recorder.url, http_proxy: recorder.url, https_proxy: recorder.url, NO_PROXY: '', no_proxy: '',
        })}), undefined),`,
      ].join('\n  '),
    });
    await red.start();
    adminToken = await red.login('admin', 'admin-pw', '*');
    routes = await packageAdminRoutes(path.join(red.userDir, 'node_modules', 'node-red-contrib-leapcraft'));

    const refusedPort = simRefused.port;
    const badTargets: Record<string, Record<string, unknown> & { type: string }> = {};
    const badAccounts: FlowNode[] = BAD_URLS.map((url, i) => {
      badTargets[`bad${i}`] = { type: 'leapcraft-devices', account: `sec-bad-${i}`, physicalId: '' };
      // Each holds the real key: if the URL were accepted, the key would travel there.
      return { id: `sec-bad-${i}`, type: 'leapcraft-config', name: `bad ${i}`, baseUrl: url(refusedPort), concurrency: 2, timeout: 5, credentials: { apiKey: KEY_A } };
    });
    const { nodes: cases } = caseFlow({
      tab: TAB,
      prefix: 'sec',
      outputWires: [TAP],
      targets: {
        devices: { type: 'leapcraft-devices', account: ACCT_A, physicalId: '' },
        telemetry: { type: 'leapcraft-telemetry', account: ACCT_A, devices: '', telemetryType: 'latest', resolution: 'daily', from: '-7d', to: 'now', interval: 0, output: 'array' },
        topology: { type: 'leapcraft-topology', account: ACCT_A, topologyId: '', joinDevices: true },
        things: { type: 'leapcraft-things', account: ACCT_A, limit: -1 },
        'devices-b': { type: 'leapcraft-devices', account: ACCT_B, physicalId: '' },
        ...badTargets,
      },
    });
    const flow: FlowNode[] = [
      { id: TAB, type: 'tab', label: 'secrets' },
      { id: ACCT_A, type: 'leapcraft-config', name: 'typed key', baseUrl: simA.baseUrl, concurrency: 4, timeout: 5, credentials: { apiKey: KEY_A } },
      { id: ACCT_B, type: 'leapcraft-config', name: 'env key', baseUrl: simB.baseUrl, concurrency: 4, timeout: 5, credentials: { apiKey: `\${${ENV_NAME}}` } },
      ...badAccounts,
      { id: 'sec-tel-a', type: 'leapcraft-telemetry', z: TAB, name: 'poll A', account: ACCT_A, devices: '', telemetryType: 'latest', interval: 1, output: 'device', cadence: false, wires: [[TAP]] },
      { id: 'sec-tel-b', type: 'leapcraft-telemetry', z: TAB, name: 'poll B', account: ACCT_B, devices: '', telemetryType: 'latest', interval: 1, output: 'metric', cadence: false, wires: [[TAP]] },
      { id: 'sec-ntf-b', type: 'leapcraft-notifications', z: TAB, name: 'alerts B', account: ACCT_B, physicalId: '', interval: 1, emitExisting: true, store: '', wires: [[TAP]] },
      ...cases,
      { id: 'sec-catch-all', type: 'catch', z: TAB, name: '', scope: null, uncaught: false, wires: [[TAP]] },
      { id: 'sec-status-all', type: 'status', z: TAB, name: '', scope: null, wires: [[TAP]] },
      {
        // Everything that left a node, whole (without the http-in request objects): to the
        // editor's debug sidebar, to Node-RED's log (console) and to a file in the user directory.
        id: TAP, type: 'function', z: TAB, name: 'tap', outputs: 1, libs: [],
        func: "var copy = {};\nObject.keys(msg).forEach(function (k) { if (k !== 'req' && k !== 'res') copy[k] = msg[k]; });\nreturn { payload: JSON.stringify(copy), tap: copy };",
        wires: [['sec-debug', 'sec-file']],
      },
      { id: 'sec-debug', type: 'debug', z: TAB, name: 'tap', active: true, tosidebar: true, console: true, tostatus: false, complete: 'tap', targetType: 'msg', wires: [] },
      { id: 'sec-file', type: 'file', z: TAB, name: '', filename: path.join(red.userDir, 'left-nodes.jsonl'), filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
    ];
    const deployed = await admin('POST', '/flows', adminToken, { flows: flow });
    assert.equal(deployed.status, 200, deployed.text);
    tap = await CommsTap.connect(red.url, adminToken);
  });

  after(async () => {
    tap?.close();
    await red?.dispose();
    await Promise.all([simA?.stop(), simB?.stop(), simRefused?.stop(), recorder?.close()]);
  });

  it('finds the package\'s admin routes programmatically', () => {
    console.log(`      measured: admin routes registered by the packed package: ${routes.map((r) => `${r.method} ${r.path}`).join(', ')}`);
    assert.ok(routes.length >= 2, 'at least test-connection and devices');
    for (const r of routes) assert.match(r.path, /^\/leapcraft\//, 'every route lives under leapcraft/');
  });

  it('a base URL that is not https and not loopback (or has credentials, a query, a fragment) is refused at deploy: red, LEAPCRAFT_INVALID_INPUT, nothing sent', async () => {
    await waitFor(() => BAD_URLS.every((_u, i) => tap.statuses().has(`sec-t-bad${i}`)), 10_000, 'the status of every node on a refused account');
    const problems: string[] = [];
    for (const [i, url] of BAD_URLS.entries()) {
      const shown = url(simRefused.port);
      const status = tap.statuses().get(`sec-t-bad${i}`);
      if (status?.fill !== 'red') problems.push(`${shown}: status ${JSON.stringify(status)}`);
      const answer = await send(`bad${i}`);
      const text = errorText(answer.message);
      if (answer.code !== 'LEAPCRAFT_INVALID_INPUT' || !text.startsWith('Invalid baseUrl:')) problems.push(`${shown}: Catch got ${answer.code} ${answer.message}`);
    }
    console.log(`      measured: ${BAD_URLS.length} refused base URLs, each account holding the real key: requests at the loopback ones ${simRefused.stats.total}, ` +
      `at the proxy that stands in for the network ${recorder.hits.length}; problems: ${problems.length}`);
    assert.deepEqual(problems, []);
    assert.equal(simRefused.stats.total, 0);
    assert.deepEqual(recorder.hits, []);
  });

  it('runs token expiry, revocation, 5xx, 429, malformed/HTML/empty bodies, resets and echoing error bodies while polling', async () => {
    const both = [simA, simB];
    await waitFor(() => simA.stats.byEndpoint.telemetry > 6 && simB.stats.byEndpoint.notifications > 1, 15_000, 'both accounts polling');
    const tokens = () => both.map((s) => s.stats.byEndpoint.token ?? 0);
    const faultsUsedUp = (what: string) => waitFor(() => both.every((s) => s.controlStats().activeFaults === 0), 30_000, what);
    for (const s of both) s.set({ tokenLifetimeMs: 700 });
    // Tokens expiring while polling: two renewals on each account.
    const before = tokens();
    await waitFor(() => tokens().every((n, i) => n >= before[i]! + 2), 15_000, 'two token renewals on each account');
    for (const s of both) s.set({ tokenLifetimeMs: 3_600_000 });
    for (const s of both) s.revokeTokens();
    simB.raiseAlert({ type: 'co2_high' });
    // The revoked tokens met and replaced on each account.
    const revoked = tokens();
    await waitFor(() => tokens().every((n, i) => n >= revoked[i]! + 1), 15_000, 'a new token on each account');
    for (const s of both) s.injectFault({ kind: 'status', status: 503, times: 12 });
    await faultsUsedUp('the 503s');
    for (const s of both) s.injectFault({ kind: 'rate-limit', retryAfter: 1, every: 3, times: 4 });
    await faultsUsedUp('the 429s');
    for (const kind of ['malformed', 'html', 'empty', 'reset'] as const) {
      for (const s of both) s.injectFault({ kind, times: 3 });
      await faultsUsedUp(`the ${kind} answers`);
    }
    for (const s of both) s.clearFaults();
    simB.raiseAlert({ type: 'co2_high' });

    // The newest token is account A's own once it reads telemetry again (a token issued into a
    // mangled reply was never received, and was followed by a new exchange).
    const mark = simA.stats.total;
    const okSince = () => {
      const { total, requests } = simA.stats;
      return total === mark ? 0 : requests.slice(-(total - mark)).filter((r) => r.endpoint === 'telemetry' && r.status === 200).length;
    };
    await waitFor(() => okSince() >= 6, 10_000, 'account A reading telemetry again');
    const token = simA.stats.tokensIssued.at(-1)!;
    // An API whose error text echoes the request's own token (cut by the 300-character clip
    // right inside the token) and the key: the Catch node must see neither.
    simA.injectFault({ kind: 'status', status: 400, endpoint: 'things', times: 1, body: JSON.stringify({ message: `${'x'.repeat(260)}${token}` }) });
    const clipped = await send('things');
    simA.injectFault({ kind: 'status', status: 400, endpoint: 'things', times: 1, body: `Authorization: Bearer ${token}; api_key=${KEY_A}` });
    const echoed = await send('things');
    for (const a of [clipped, echoed]) assert.equal(a.code, 'LEAPCRAFT_BAD_REQUEST', a.message);
    assert.match(errorText(echoed.message), /HTTP 400: Authorization: Bearer \[redacted\]; api_key=\[redacted\]/);

    // The hostile msgs of the bad-input suite, on the same Node-RED.
    const [device] = simA.devices();
    const targets = new Set(['devices', 'telemetry', 'topology', 'things']);
    const cases = msgCases({ device: device.physical_id, gateway: device.topology_id }).filter((c) => targets.has(c.target));
    for (const c of cases) await send(c.target, c.msg);
    for (const t of ['devices', 'telemetry', 'topology', 'things', 'devices-b']) assert.equal((await send(t)).kind, 'done', t);

    const codes = caughtCodes();
    console.log(`      measured: faults run on both accounts; tokens issued ${simA.stats.tokensIssued.length} (typed key) + ${simB.stats.tokensIssued.length} (\${ENV} key); ` +
      `${cases.length} hostile msgs; Catch saw ${[...codes].sort().join(', ')}`);
    for (const code of ['LEAPCRAFT_INVALID_INPUT', 'LEAPCRAFT_BAD_REQUEST', 'LEAPCRAFT_BAD_RESPONSE']) assert.ok(codes.has(code), `Catch saw ${code}`);
  });

  it('with adminAuth, every package admin route refuses no token, a forged and a revoked one (401, nothing sent); a valid one works; read-only users cannot use a typed key', async () => {
    const viewer = await red.login('viewer', 'viewer-pw', 'read');
    const revoked = await red.login('admin', 'admin-pw', '*');
    const revokedOk = await admin('POST', '/auth/revoke', revoked, { token: revoked });
    assert.equal(revokedOk.status, 200);
    const forged = [`forged-${hex(8)}`, randomBytes(64).toString('base64'), `${adminToken.slice(0, -4)}AAAA`];
    const typed = { baseUrl: simRefused.baseUrl, apiKey: KEY_A };
    const stored = { id: ACCT_A };
    const problems: string[] = [];
    const expectStatus = (what: string, got: number, want: number) => { if (got !== want) problems.push(`${what}: HTTP ${got}, expected ${want}`); };

    simRefused.resetStats();
    for (const r of routes) {
      const call = (token: string | undefined, body: unknown) => admin(r.method, r.path, token, r.method === 'GET' ? undefined : body);
      for (const body of [stored, typed]) {
        expectStatus(`${r.method} ${r.path} without a token`, (await call(undefined, body)).status, 401);
        for (const f of forged) expectStatus(`${r.method} ${r.path} forged token`, (await call(f, body)).status, 401);
        expectStatus(`${r.method} ${r.path} revoked token`, (await call(revoked, body)).status, 401);
      }
      expectStatus(`${r.method} ${r.path} read-only user, typed key`, (await call(viewer, typed)).status, 401);
    }
    const refusedRequests = simRefused.stats.total;
    for (const r of routes) {
      expectStatus(`${r.method} ${r.path} read-only user, the deployed account`, (await admin(r.method, r.path, viewer, stored)).status, 200);
      expectStatus(`${r.method} ${r.path} admin, the deployed account`, (await admin(r.method, r.path, adminToken, stored)).status, 200);
      expectStatus(`${r.method} ${r.path} admin, the \${ENV} account`, (await admin(r.method, r.path, adminToken, { id: ACCT_B })).status, 200);
      expectStatus(`${r.method} ${r.path} admin, typed key`, (await admin(r.method, r.path, adminToken, { ...typed, refresh: true })).status, 200);
      expectStatus(`${r.method} ${r.path} admin, wrong typed key`, (await admin(r.method, r.path, adminToken, { ...typed, apiKey: `wrong-${hex(4)}` })).status, 401);
    }
    console.log(`      measured: ${routes.length} admin routes × (no token, 3 forged, 1 revoked) × 2 bodies + read-only typed key: all 401, requests sent ${refusedRequests}; ` +
      `valid admin and read-only tokens answered; problems: ${problems.length}`);
    assert.deepEqual(problems, []);
    assert.equal(refusedRequests, 0, 'a refused look-up reached the API');
    assert.ok(simRefused.stats.byEndpoint.token > 0, 'the admin\'s typed-key look-up did reach the API');
  });

  it('the ${ENV} key works, is stored only as the reference, and the key refused then restored leaks neither', async () => {
    // Account B's key came from the environment: it polled and listed devices with it.
    assert.ok(simB.stats.byStatus['200'] > 0 && simB.stats.tokensIssued.length > 0);
    const creds = decryptCredentials(path.join(red.userDir, 'flows_cred.json'), CREDENTIAL_SECRET);
    assert.equal(creds[ACCT_A]?.apiKey, KEY_A);
    assert.equal(creds[ACCT_B]?.apiKey, `\${${ENV_NAME}}`, 'the reference is stored, not the key it resolves to');

    // The key refused (every exchange 401, with an error text echoing it), then restored.
    for (const s of [simA, simB]) {
      s.injectFault({ kind: 'status', status: 401, endpoint: 'token', times: 1, body: JSON.stringify({ message: `api_key ${s.apiKey} is revoked` }) });
      s.setKeyValid(false);
    }
    // The scenario: the key refused for a while as the nodes keep polling (what reaches the log,
    // the statuses and the msgs meanwhile is collected and checked below).
    await sleep(2500);
    for (const s of [simA, simB]) {
      s.setKeyValid(true);
      s.clearFaults();
    }
    const a = await admin('POST', routes[0].path, adminToken, { baseUrl: simA.baseUrl, apiKey: KEY_A });
    assert.equal(a.status, 200, a.text);
    await admin('POST', routes[0].path, adminToken, { id: ACCT_A });
    assert.ok(caughtCodes().has('LEAPCRAFT_AUTH'), 'Catch saw the refused key');
  });

  it('no key, token or URL password anywhere: user directory (flows.json, encrypted flows_cred.json), export, admin API, log, statuses, msgs, errors', async () => {
    for (const [method, route, accept] of [
      ['GET', '/flows', 'application/json'], ['GET', `/flow/${TAB}`, 'application/json'], ['GET', '/nodes', 'application/json'],
      ['GET', '/nodes', 'text/html'], ['GET', '/nodes/node-red-contrib-leapcraft', 'application/json'], ['GET', '/settings', 'application/json'],
      ['GET', '/diagnostics', 'application/json'], ['GET', `/credentials/leapcraft-config/${ACCT_A}`, 'application/json'],
      ['GET', `/credentials/leapcraft-config/${ACCT_B}`, 'application/json'], ['GET', '/credentials/leapcraft-config/sec-bad-0', 'application/json'],
      ['GET', `/context/node/sec-ntf-b`, 'application/json'], ['GET', `/context/flow/${TAB}`, 'application/json'], ['GET', '/context/global', 'application/json'],
    ] as const) {
      const r = await admin(method, route, adminToken, undefined, accept);
      assert.equal(r.status, 200, `${route}: ${r.text.slice(0, 200)}`);
    }
    const credsAnswer = collected.find((c) => c.source.startsWith(`GET /credentials/leapcraft-config/${ACCT_A}`))!;
    assert.match(credsAnswer.text, /"has_apiKey":true/);

    // The last comms messages (statuses) still on their way to the tap.
    await sleep(500);
    tap.close();
    await red.stop();
    const userFiles = filesUnder(red.userDir).filter((f) => path.basename(f) !== 'settings.js');
    const cred = JSON.parse(fs.readFileSync(path.join(red.userDir, 'flows_cred.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(Object.keys(cred), ['$'], 'flows_cred.json is encrypted');
    assert.ok(fs.readFileSync(path.join(red.userDir, 'left-nodes.jsonl'), 'utf8').length > 0, 'the tap file was written');

    const sources = [
      ...userFiles.map((f) => ({ source: path.relative(red.userDir, f), text: fs.readFileSync(f, 'utf8') })),
      { source: 'Node-RED log (trace, audit)', text: red.log },
      { source: 'editor socket (status, debug)', text: tap.frames.join('\n') },
      ...collected,
    ];
    const tokens = [...simA.stats.tokensIssued, ...simB.stats.tokensIssued, ...simRefused.stats.tokensIssued];
    // Whole secrets and 16-character pieces (a clipped or partial leak is a leak).
    const needles = [KEY_A, KEY_B, KEY_A.slice(-24, -8), KEY_B.slice(-24, -8), ...tokens, ...tokens.map((t) => t.slice(8, 24))];
    // The URL password is a plain setting the user typed into the base URL: it is in the flow
    // itself by the user's choice, but must not be echoed by the log, a status or an error.
    const flowCopies = /^(flows\.json|\.flows\.json\.backup|GET \/flows|GET \/flow\/)/;
    let bytes = 0;
    const found: string[] = [];
    for (const { source, text } of sources) {
      bytes += Buffer.byteLength(text);
      const own = flowCopies.test(source) ? needles : [...needles, URL_PASSWORD, URL_PASSWORD.slice(10, 22)];
      for (const needle of own) {
        for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + 1)) {
          found.push(`${source}: …${text.slice(Math.max(0, at - 60), at + needle.length + 20)}…`);
        }
      }
    }
    console.log(`      measured: ${tokens.length} tokens issued, 2 keys, 1 URL password; ${sources.length} sources (${userFiles.length} user-directory files, ` +
      `${tap.frames.length} socket frames, ${collected.length} admin/case answers, the log) = ${bytes} bytes scanned; occurrences of a secret found: ${found.length}`);
    assert.deepEqual(found, []);
    assert.ok(tokens.length >= 10, 'the run renewed tokens many times');
    assert.ok(bytes > 100_000);
  });
});
