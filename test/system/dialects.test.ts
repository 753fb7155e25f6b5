/**
 * The issue's acceptance test: every flow node (devices, telemetry in each output mode and as
 * averages, topology, notifications, things, the Home Assistant bridge) runs in ONE real
 * Node-RED, with ONE flow and the same settings throughout, against the simulator speaking
 * each reading of every point the API docs leave open (simulator/dialect.ts), one at a time,
 * plus one run with every default. For each reading:
 *
 * - a fresh simulator on the same port speaks it (a different server, as far as the flow can
 *   tell: the account's token from the last one is refused), with tokens living 3 s;
 * - a full deploy of the unchanged flow restarts every node against it;
 * - the devices msg lists every device exactly once; topology and things msgs arrive whole;
 * - a token expires (the simulator refuses a request with the reading's status) and readings
 *   keep arriving after the renewal from every device, in device, array and metric mode and
 *   as Home Assistant states;
 * - four alerts raised after the deploy, in two batches, are each emitted exactly once and
 *   nothing else is (matched by id, or by content where the reading hides ids);
 * - the averages node gives numeric metric msgs with topic `<name>/<metric>` for each metric;
 * - the Catch node sees nothing, no node of ours turns red or yellow, the Node-RED log shows
 *   no error, no unhandled/uncaught one and no warning the reading does not explain, and the
 *   simulator answered nothing but 200s, expired tokens and what the reading refuses.
 *
 * The account's key is right, so the refusedKey readings change nothing in these runs: they are
 * met in the wrong-key count below, where each of them refuses a wrong key.
 *
 * Then three counts, each printed: device-list requests for 237 devices (limit=-1 accepted, and
 * the paging fallback when it is refused), token requests over 30 s of a wrong key refused
 * with 400 (and 401, 403, 200 without a token) in a second real Node-RED running meanwhile (three
 * nodes per account polling every second), and token requests
 * for 10 full redeploys of an unchanged account.
 *
 * Node-RED loads the package from dist/ (the working tree, linked): npm test builds before
 * mocha runs; run on its own, the test builds first when dist/ is missing or older than lib/
 * and nodes/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { LeapcraftClient } from '../../lib';
import {
  DEFAULT_DIALECT, DIALECTS, LeapcraftSimulator, type Alert, type DeviceListItem, type Dialect, type RequestLogEntry, type SimulatorOptions,
} from '../../simulator';
import { dialectFlow, JsonLinesTail, wrongKeyFlow, wrongKeyNodes, type Captured, type FlowNode } from '../support/dialects-flow';
import { freePort, RealNodeRed } from '../support/real-nodered';
import { sleep, waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '..', '..');

/** More than the API's default page (100), so a server refusing limit=-1 is paged through. */
const DEVICE_COUNT = 110;
const GATEWAYS = 4;
/** The simulator's default number of things. */
const THING_COUNT = 15;
const SEED = 11;
const TOKEN_LIFETIME_MS = 3000;
const TELEMETRY_INTERVAL_S = 2;
const ALERTS_INTERVAL_S = 1;
const ALERT_TYPES = ['co2_high', 'temperature_high', 'humidity_high', 'co2_normal'];
const METRICS_BY_TYPE: Record<string, string[]> = {
  airbird: ['battery', 'co2', 'humidity', 'temperature'],
  ambinode: ['co2', 'humidity', 'noise', 'pm2_5', 'temperature'],
};
const DAY = 86_400_000;
/** The estate of the 429 run (the first devices of the same seed: the averages node's among them). */
const LIMITED_DEVICES = 24;
/** A request the server receives this soon after it answered a 429 left the client before it (see the 429 run). */
const REQUEST_ON_THE_WIRE_MS = 100;

// ---- building -----------------------------------------------------------------------------

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

/** Builds unless every node's dist file exists and is newer than every source file (npm test has just built). */
function ensureBuilt(): void {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
  const outputs = [...Object.values(pkg['node-red'].nodes), 'dist/lib/index.js'].map((f) => path.join(ROOT, f));
  const sources = Math.max(newestMtime(path.join(ROOT, 'lib')), newestMtime(path.join(ROOT, 'nodes')));
  const stale = outputs.some((f) => !fs.existsSync(f) || fs.statSync(f).mtimeMs < sources);
  if (stale) execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
}

// ---- small helpers ------------------------------------------------------------------------

/** The token answer tells the token's lifetime (every form but the docs' sample). */
const tellsLifetime = (dialect: Dialect): boolean => dialect.tokenBody !== 'sample';

const sorted = (xs: readonly string[]) => [...xs].sort();
const dupes = (xs: readonly unknown[]) => xs.filter((x, i) => xs.indexOf(x) !== i);
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1]!;

/** How long within [from, to] the 429s' announced resets held every request (the union of [429, reset]). */
function heldBetween(limited: readonly RequestLogEntry[], from: number, to: number): number {
  const spans = limited.map((r) => [Math.max(from, r.at), Math.min(to, r.resetAt!)] as const).filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let held = 0;
  let until = from;
  for (const [a, b] of spans) {
    if (b <= until) continue;
    held += b - Math.max(a, until);
    until = b;
  }
  return held;
}

/** What identifies an alert when the API sends no id: its content, without the time field. */
function alertContent(a: Record<string, unknown>): string {
  return JSON.stringify([a.physical_id, a.type, a.message, a.value ?? null, a.threshold ?? null]);
}

/** Log lines of Node-RED at warn or error level, and any mention of an unhandled or uncaught error. */
function logProblems(log: string): { errors: string[]; warnings: string[] } {
  const lines = log.split('\n');
  return {
    errors: lines.filter((l) => /\[error\]|unhandled|uncaught/i.test(l)),
    warnings: lines.filter((l) => /\[warn\]/.test(l)),
  };
}

interface Reading {
  /** The reading's name ('defaults' for the run with every default). */
  name: string;
  dialect: Dialect;
  /** Warnings in the Node-RED log this reading explains. */
  expectedWarnings: RegExp[];
  /** Simulator answers (4xx besides an expired token's) this reading explains. */
  expectedRefusal: (r: RequestLogEntry) => boolean;
}

function readingsToRun(): Reading[] {
  const none = () => false;
  const runs: Reading[] = [{ name: 'defaults', dialect: { ...DEFAULT_DIALECT }, expectedWarnings: [], expectedRefusal: none }];
  for (const d of DIALECTS) {
    if (d.isDefault) continue;
    const dialect = { ...DEFAULT_DIALECT, [d.point]: d.value } as Dialect;
    let expectedWarnings: RegExp[] = [];
    let expectedRefusal: Reading['expectedRefusal'] = none;
    if (d.name === 'limit-all-refused') {
      expectedWarnings = [/refused limit=-1 \(HTTP 400\): the device list is read page by page/];
      expectedRefusal = (r) => r.endpoint === 'devices' && r.status === 400 && /[?&]limit=-1(&|$)/.test(r.rawUrl);
    }
    if (d.name === 'dates-zone-required') {
      // The docs' zone-less date-times, refused once per request in flight before the Z is learnt.
      expectedRefusal = (r) => r.endpoint === 'telemetry' && r.status === 400 && /type=averages/.test(r.rawUrl) && !/from=[^&]*(Z|%2B|\+)/.test(r.rawUrl);
    }
    runs.push({ name: d.name, dialect, expectedWarnings, expectedRefusal });
  }
  return runs;
}

// ---- the test -----------------------------------------------------------------------------

describe('every flow node against every dialect, in a real Node-RED (the acceptance test)', function () {
  this.timeout(300_000);

  let red: RealNodeRed;
  let sim: LeapcraftSimulator | undefined;
  let simPort = 0;
  let tail: JsonLinesTail;
  let captureFile = '';
  let deployedOnce = false;
  let averagesDevices: DeviceListItem[] = [];
  const printed: string[] = [];

  // The wrong-key scenario runs in a second Node-RED while the dialect runs go on.
  let wrongKeyRed: RealNodeRed | undefined;
  const wrongKeySims = new Map<string, LeapcraftSimulator>();
  let wrongKeyResult: Promise<WrongKeyResult> | undefined;

  /** The flow, the same every time; the key is sent with the first deploy only, as the editor does. */
  function flow(): FlowNode[] {
    const nodes = dialectFlow({
      baseUrl: `http://127.0.0.1:${simPort}/v1`,
      apiKey: deployedOnce ? undefined : 'demo-key',
      file: captureFile,
      intervalS: TELEMETRY_INTERVAL_S,
      alertsIntervalS: ALERTS_INTERVAL_S,
      averagesDevices: averagesDevices.map((d) => d.physical_id),
    });
    deployedOnce = true;
    return nodes;
  }

  /** A fresh simulator on the same port: the same estate (seed), the given dialect and token lifetime. */
  async function swapSimulator(options: SimulatorOptions): Promise<LeapcraftSimulator> {
    await sim?.stop();
    sim = new LeapcraftSimulator({ port: simPort, deviceCount: DEVICE_COUNT, gateways: GATEWAYS, seed: SEED, ...options });
    await sim.start();
    return sim;
  }

  before(async function () {
    this.timeout(240_000);
    ensureBuilt();
    simPort = await freePort();
    // Three devices for the averages node: both kinds (their metrics differ).
    const estate = new LeapcraftSimulator({ deviceCount: DEVICE_COUNT, gateways: GATEWAYS, seed: SEED }).devices();
    const airbird = estate.find((d) => d.type === 'airbird')!;
    const ambinodes = estate.filter((d) => d.type === 'ambinode').slice(0, 2);
    averagesDevices = [airbird, ...ambinodes];
    assert.equal(averagesDevices.length, 3);
    red = new RealNodeRed();
    captureFile = path.join(red.userDir, 'captured.jsonl');
    tail = new JsonLinesTail(captureFile);
    wrongKeyRed = new RealNodeRed();
    await Promise.all([red.start(), wrongKeyRed.start()]);
    wrongKeyResult = runWrongKey(wrongKeyRed, wrongKeySims);
    // Awaited by its own test; a failure before then must not count as an unhandled rejection.
    wrongKeyResult.catch(() => undefined);
  });

  after(async function () {
    this.timeout(60_000);
    await Promise.all([red?.dispose(), wrongKeyRed?.dispose()]);
    await sim?.stop();
    await Promise.all([...wrongKeySims.values()].map((s) => s.stop()));
    if (printed.length) console.log(`      summary:\n${printed.map((l) => `        ${l}`).join('\n')}`);
  });

  // ---- one run per reading ----------------------------------------------------------------

  for (const [index, reading] of readingsToRun().entries()) {
    it(`${reading.name}: every node copes, with the same flow and settings`, async function () {
      this.timeout(90_000);
      const t0 = Date.now();
      const logMark = red.log.length;
      // The very first run brings a backlog: with emitExisting off it must not be emitted.
      const s = await swapSimulator({ dialect: reading.dialect, tokenLifetimeMs: TOKEN_LIFETIME_MS, initialAlerts: index === 0 ? 6 : 0 });
      const devices = s.devices();
      const ids = devices.map((d) => d.physical_id);
      const byId = new Map(devices.map((d) => [d.physical_id, d]));
      await red.deploy(flow(), 'full');
      // The deploy answers once the old nodes stopped: whatever the simulator sees from now on is the new ones'.
      const live = Date.now();

      const [alerts, tokens] = await Promise.all([exerciseAlerts(s, live, index, ids), exerciseTokenExpiry(s, reading.dialect, ids, live)]);

      // Lists (inject once at deploy): whole, each entry once.
      await waitFor(() => tail.since(live, 'devices').length > 0 && tail.since(live, 'topology').length > 0 && tail.since(live, 'things').length > 0,
        15_000, 'the devices, topology and things msgs');
      const deviceMsgs = tail.since(live, 'devices');
      assert.equal(deviceMsgs.length, 1, 'one devices msg for the one inject');
      const listed = deviceMsgs[0]!.ids as string[];
      assert.deepEqual(dupes(listed), [], 'no device listed twice');
      assert.deepEqual(sorted(listed), sorted(ids), 'every device listed');
      const topo = tail.since(live, 'topology')[0]!;
      const gateways = [...new Set(devices.map((d) => d.topology_id))];
      assert.deepEqual(sorted(topo.gws as string[]), sorted(gateways), 'every gateway once');
      assert.equal(topo.devices, DEVICE_COUNT, 'every device in the topologies');
      assert.equal(topo.named, DEVICE_COUNT, 'every topology device joined with its name');
      const things = tail.since(live, 'things')[0]!.ids as string[];
      assert.equal(things.length, THING_COUNT);
      assert.deepEqual(dupes(things), []);
      assert.ok(things.every((t) => typeof t === 'string' && t !== ''), 'things have ids');

      // Averages: numeric metric msgs for every metric of each device, topped <name>/<metric>.
      const expectedMetrics = new Map(averagesDevices.map((d) => [d.physical_id, METRICS_BY_TYPE[d.type]!]));
      const averagesSeen = () => {
        const seen = new Map<string, Set<string>>();
        for (const m of tail.since(live, 'avg')) {
          const set = seen.get(m.id as string) ?? new Set<string>();
          set.add(m.metric as string);
          seen.set(m.id as string, set);
        }
        return seen;
      };
      await waitFor(() => {
        const seen = averagesSeen();
        return [...expectedMetrics].every(([id, metrics]) => metrics.every((m) => seen.get(id)?.has(m)));
      }, 15_000, 'averages of every metric of each averages device');
      const avg = tail.since(live, 'avg');
      for (const m of avg) {
        const device = byId.get(m.id as string);
        assert.ok(device && expectedMetrics.has(device.physical_id), `averages msg for ${String(m.id)}`);
        assert.ok(typeof m.value === 'number' && Number.isFinite(m.value), `numeric averages payload: ${JSON.stringify(m)}`);
        assert.equal(m.topic, `${device.name}/${String(m.metric)}`);
        assert.ok(typeof m.ts === 'number' && m.ts >= live - 8 * DAY && m.ts <= Date.now() + 60_000, `averages time within the last week: ${JSON.stringify(m)}`);
      }
      for (const [id, metrics] of expectedMetrics) assert.deepEqual(sorted([...averagesSeen().get(id)!]), metrics, `metrics of ${id}`);

      // Every telemetry msg of the run: readable, named, of a known device.
      for (const m of tail.since(live, 'tel-device')) {
        assert.ok(byId.has(m.id as string) && m.pid === m.id, `device msg for a known device: ${JSON.stringify(m)}`);
        assert.ok(typeof m.co2 === 'number', `readings readable in device mode: ${JSON.stringify(m)}`);
        assert.equal(m.named, true, 'msg.device carries the device-list entry');
      }
      for (const m of tail.since(live, 'tel-metric')) {
        const device = byId.get(m.id as string);
        assert.ok(device, `metric msg for a known device: ${JSON.stringify(m)}`);
        assert.ok(typeof m.value === 'number' && Number.isFinite(m.value), `numeric metric payload: ${JSON.stringify(m)}`);
        assert.equal(m.topic, `${device.name}/${String(m.metric)}`);
      }
      for (const m of tail.since(live, 'tel-array')) {
        const arr = m.ids as string[];
        assert.deepEqual(dupes(arr), [], 'an array holds each device once');
        assert.equal(m.errors, 0, 'no device failed in an array round');
        assert.ok(arr.every((id) => byId.has(id)));
      }
      const haStates = tail.since(live, 'ha').filter((m) => m.kind === 'state' && m.id !== undefined);
      for (const m of haStates) {
        const state = JSON.parse(m.state as string) as Record<string, unknown>;
        assert.ok(typeof state.co2 === 'number', `a Home Assistant state with readings: ${m.state as string}`);
      }
      const haConfigs = new Set(tail.since(live, 'ha').filter((m) => m.kind === 'config' && m.id !== undefined).map((m) => m.id as string));
      assert.deepEqual(sorted([...haConfigs]), sorted(ids), 'Home Assistant discovery configs for every device');

      // Nothing went wrong anywhere.
      const caught = tail.since(t0, 'catch');
      assert.deepEqual(caught, [], 'the Catch node caught nothing');
      const statuses = tail.since(t0, 'status');
      assert.deepEqual(statuses, [], 'no node of ours turned red or yellow');
      const { errors, warnings } = logProblems(red.log.slice(logMark));
      assert.deepEqual(errors, [], 'no error, unhandled or uncaught in the Node-RED log');
      const unexplained = warnings.filter((w) => !reading.expectedWarnings.some((re) => re.test(w)));
      assert.deepEqual(unexplained, [], 'no warning the reading does not explain');
      for (const re of reading.expectedWarnings) assert.ok(warnings.some((w) => re.test(w)), `the warning ${String(re)} was logged`);
      const requests = s.stats.requests.filter((r) => r.at >= live);
      // A token that tells its lifetime is renewed before it ends: no request is refused for it. (Before this
      // server's first token, the account's token from the last server is refused: that is no expiry.)
      const firstGrant = requests.find((r) => r.endpoint === 'token' && r.status === 200)!.at;
      const expiredStatus = tellsLifetime(reading.dialect) ? undefined : reading.dialect.expiredToken;
      const stale = (r: RequestLogEntry) => r.status === reading.dialect.expiredToken && r.at <= firstGrant;
      const odd = requests.filter((r) => r.status !== 200 && r.status !== expiredStatus && !stale(r) && !reading.expectedRefusal(r));
      assert.deepEqual(odd.map((r) => `${r.status} ${r.rawUrl}`), [], `no answer besides 200s, ${expiredStatus ? 'expired tokens' : 'no expired token'} and what the reading refuses`);
      const refused = requests.filter(reading.expectedRefusal);
      if (reading.name === 'limit-all-refused' || reading.name === 'dates-zone-required') assert.ok(refused.length > 0, 'the reading was met');

      const deviceListRequests = requests.filter((r) => r.endpoint === 'devices').length;
      const line = `${reading.name}: ${ids.length} devices listed once (${deviceListRequests} device-list requests); ` +
        `${tokens.expiredAfterMs === undefined ? `token renewed after ${secs(tokens.renewedAfterMs)} of its told ${secs(TOKEN_LIFETIME_MS)}, none refused` : `token expired after ${secs(tokens.expiredAfterMs)} (${reading.dialect.expiredToken}), renewed`}, ` +
        `then readings from all ${ids.length} devices in every mode ` +
        `(${tokens.exchanges} token requests); ${alerts.raised} alerts raised, each emitted once (by ${reading.dialect.alertIds ? 'id' : 'content'}); ` +
        `${avg.length} averages msgs; ${haStates.length} HA states; ${refused.length} refusals the reading explains; ${secs(Date.now() - t0)}`;
      console.log(`      ${line}`);
      printed.push(line);
    });
  }

  /** Raises two alerts, waits for them, two more, waits, and checks each came once and nothing else did. */
  async function exerciseAlerts(s: LeapcraftSimulator, live: number, run: number, ids: string[]): Promise<{ raised: number }> {
    const checks = (after: number) => s.stats.requests.filter((r) => r.endpoint === 'notifications' && r.status === 200 && r.at > after);
    // Raised after the node's first check, so they are new to it even on its very first start.
    await waitFor(() => checks(live).length > 0, 15_000, 'the first alerts check after the deploy');
    const withIds = s.dialect.alertIds;
    const raise = (i: number): Alert => s.raiseAlert({ id: `dl-${run}-${i}`, physical_id: ids[(run * 7 + i * 29) % ids.length], type: ALERT_TYPES[i % ALERT_TYPES.length] });
    const matches = (emitted: Captured, raised: Alert) => {
      const a = emitted.alert as Record<string, unknown>;
      return withIds ? a.id === raised.id : a.id === undefined && alertContent(a) === alertContent(raised as unknown as Record<string, unknown>);
    };
    const emittedFor = (raised: Alert[]) => tail.since(live, 'alert').filter((e) => raised.some((r) => matches(e, r)));
    const raised = [raise(0), raise(1)];
    await waitFor(() => emittedFor(raised).length >= 2, 15_000, 'the first two alerts');
    raised.push(raise(2), raise(3));
    await waitFor(() => emittedFor(raised).length >= 4, 15_000, 'the next two alerts');
    // Three more checks: an alert emitted twice would show by then.
    const lastEmitted = Math.max(...emittedFor(raised).map((e) => e.at));
    await waitFor(() => checks(lastEmitted).length >= 3, 15_000, 'three more alerts checks');
    const emitted = tail.since(live, 'alert');
    for (const r of raised) {
      const got = emitted.filter((e) => matches(e, r));
      assert.equal(got.length, 1, `alert ${r.id} (${r.type} on ${r.physical_id}) emitted once, got ${got.length}`);
      assert.equal(got[0]!.topic, r.physical_id, 'msg.topic is the alert\'s device');
    }
    const strays = emitted.filter((e) => !raised.some((r) => matches(e, r)));
    assert.deepEqual(strays.map((e) => e.alert), [], 'nothing emitted but the alerts raised (no backlog, no repeat)');
    return { raised: raised.length };
  }

  /**
   * Waits for a token to expire (a request refused with the reading's status after the token's
   * lifetime) and be renewed, then for readings from every device after the renewal: device,
   * array and metric mode, and Home Assistant states. A token whose answer tells its lifetime
   * is renewed before it ends instead, no request refused.
   */
  async function exerciseTokenExpiry(s: LeapcraftSimulator, dialect: Dialect, ids: string[], live: number): Promise<{ expiredAfterMs?: number; renewedAfterMs: number; exchanges: number }> {
    const tokenGrants = () => s.stats.requests.filter((r) => r.endpoint === 'token' && r.status === 200);
    await waitFor(() => tokenGrants().length > 0, 15_000, 'a token');
    const first = tokenGrants()[0]!.at;
    let expiredAt: number | undefined;
    if (tellsLifetime(dialect)) {
      await waitFor(() => tokenGrants().length > 1, TOKEN_LIFETIME_MS + 15_000, 'the token renewed as its told lifetime ran out');
    } else {
      const expiry = () => s.stats.requests.find((r) => r.endpoint !== 'token' && r.status === dialect.expiredToken && r.at >= first + TOKEN_LIFETIME_MS);
      await waitFor(() => expiry() !== undefined, TOKEN_LIFETIME_MS + 15_000, `a request refused with ${dialect.expiredToken} for an expired token`);
      expiredAt = expiry()!.at;
      await waitFor(() => tokenGrants().some((t) => t.at >= expiredAt!), 15_000, 'the token renewed after it expired');
    }
    const renewed = tokenGrants().find((t) => t.at > first && t.at >= (expiredAt ?? first))!.at;
    const missing = (src: string, pick: (c: Captured) => boolean = () => true) => {
      const seen = new Set(tail.since(renewed, src).filter(pick).map((c) => c.id as string));
      return ids.filter((id) => !seen.has(id)).length;
    };
    const gaps = () => ({
      'device mode': missing('tel-device'),
      'metric mode': missing('tel-metric'),
      'array mode': tail.since(renewed, 'tel-array').some((c) => (c.ids as string[]).length === ids.length) ? 0 : ids.length,
      'Home Assistant states': missing('ha', (c) => c.kind === 'state'),
    });
    await waitFor(() => Object.values(gaps()).every((n) => n === 0), 20_000,
      'readings from every device after the renewal: device, array and metric mode, Home Assistant states').catch((err: Error) => {
      const left = Object.entries(gaps()).filter(([, n]) => n > 0).map(([what, n]) => `${what}: ${n} of ${ids.length} devices missing`);
      throw new Error(`${err.message} (${left.join('; ')})`);
    });
    return { expiredAfterMs: expiredAt === undefined ? undefined : expiredAt - first, renewedAfterMs: renewed - first, exchanges: s.stats.byEndpoint.token };
  }

  // ---- the three counts ---------------------------------------------------------------------

  it('counts device-list requests for 237 devices: limit=-1 accepted, and the paging fallback when it is refused', async () => {
    const big = new LeapcraftSimulator({ deviceCount: 237, gateways: 5, seed: 3 });
    await big.start();
    try {
      const all = sorted(big.devices().map((d) => d.physical_id));
      const cases: Array<{ label: string; dialect: Partial<Dialect>; first: number; again: number; complete: boolean }> = [
        { label: 'limit=-1 accepted', dialect: {}, first: 1, again: 1, complete: true },
        { label: 'limit=-1 accepted, enveloped', dialect: { lists: 'envelope' }, first: 1, again: 1, complete: true },
        { label: 'limit=-1 accepted, cumulative pages', dialect: { devicePaging: 'cumulative' }, first: 1, again: 1, complete: true },
        { label: 'limit=-1 accepted, page ignored', dialect: { devicePaging: 'ignored' }, first: 1, again: 1, complete: true },
        // 1 refused, then pages 1, 2, 3 of 100.
        { label: 'limit=-1 refused: offset pages', dialect: { allDevices: 'refused' }, first: 4, again: 3, complete: true },
        { label: 'limit=-1 refused: offset pages, enveloped', dialect: { allDevices: 'refused', lists: 'envelope' }, first: 4, again: 3, complete: true },
        // 1 refused, then pages 1 (100), 2 (the first 200: cumulative), 4 (the first 400: all 237).
        { label: 'limit=-1 refused: cumulative pages', dialect: { allDevices: 'refused', devicePaging: 'cumulative' }, first: 4, again: 3, complete: true },
        // 1 refused, page 1, page 2 = page 1 again: the server cannot give more than 100.
        { label: 'limit=-1 refused: page ignored', dialect: { allDevices: 'refused', devicePaging: 'ignored' }, first: 3, again: 2, complete: false },
      ];
      const results: string[] = [];
      for (const c of cases) {
        big.set({ dialect: { ...DEFAULT_DIALECT, ...c.dialect } });
        const warnings: string[] = [];
        const client = new LeapcraftClient({ baseUrl: big.baseUrl, apiKey: big.apiKey, onWarning: (w) => warnings.push(w) });
        try {
          await client.authenticate();
          big.resetStats();
          const listed = (await client.listDevices()).map((d) => d.physical_id);
          const first = big.stats.byEndpoint.devices;
          big.resetStats();
          const again = (await client.listDevices()).map((d) => d.physical_id);
          const second = big.stats.byEndpoint.devices;
          assert.deepEqual(dupes(listed), [], `${c.label}: no device twice`);
          assert.deepEqual(again, listed, `${c.label}: the same list again`);
          if (c.complete) {
            assert.deepEqual(sorted(listed), all, `${c.label}: every device once`);
            assert.deepEqual(warnings.filter((w) => /ignores page/.test(w)), [], `${c.label}: no warning of an incomplete list`);
          } else {
            // A server that only pages and ignores page= cannot hand out more than its first page: said in a warning.
            assert.equal(listed.length, 100, c.label);
            assert.ok(warnings.some((w) => /ignores page=, so only the first 100 devices are known/.test(w)), `${c.label}: warned (${warnings.join(' | ')})`);
          }
          assert.equal(first, c.first, `${c.label}: device-list requests for the first list`);
          assert.equal(second, c.again, `${c.label}: device-list requests for a later list (the refusal remembered)`);
          results.push(`${first}${second !== first ? ` then ${second}` : ''} (${c.label}${c.complete ? '' : `: ${listed.length} of 237, warned`})`);
        } finally {
          client.close();
        }
      }
      const line = `device-list requests for 237 devices: ${results.join(', ')}`;
      console.log(`      ${line}`);
      printed.push(line);
    } finally {
      await big.stop();
    }
  });

  it('counts token requests over 30 s of a wrong key refused with 400 (and 401, 403, 200 without a token): at most 2', async function () {
    this.timeout(120_000);
    const result = await wrongKeyResult!;
    const [of400, ...others] = result.accounts;
    const label = (r: Dialect['refusedKey']) => (r === '200-no-token' ? '200 without a token' : String(r));
    const line = `token requests over 30 s of a wrong key refused with 400: ${of400!.count30s} ` +
      `(refused with ${others.map((a) => `${label(a.refusal)}: ${a.count30s}`).join(', ')}; each account polled every second by 3 nodes; ` +
      `within 35 s, the cool-down over: ${result.accounts.map((a) => a.count35s).join(', ')}); ` +
      `Catch heard ${result.accounts.map((a) => `${a.caught.all}+${a.caught.byId}+${a.caught.alerts}`).join(', ')} (every device + by id + alerts)`;
    console.log(`      ${line}`);
    printed.push(line);
    assert.equal(of400!.refusal, 400);
    for (const a of result.accounts) {
      const what = `refused with ${label(a.refusal)}`;
      assert.ok(a.count30s >= 1, `${what}: the key was tried`);
      assert.ok(a.count30s <= 2, `${what}: ${a.count30s} token requests in 30 s`);
      assert.equal(a.otherRequests, 0, `${what}: nothing but the token exchange is sent without a token`);
      assert.deepEqual(a.codes, ['LEAPCRAFT_AUTH'], `${what}: Catch heard LEAPCRAFT_AUTH only`);
      // Once per node (once per device for the node polling by id), not at every poll.
      assert.ok(a.caught.all >= 1 && a.caught.all <= 2, `${what}: every-device node reported ${a.caught.all} times`);
      assert.ok(a.caught.alerts >= 1 && a.caught.alerts <= 2, `${what}: alerts node reported ${a.caught.alerts} times`);
      assert.ok(a.caught.byId >= 1 && a.caught.byIdDupes === 0, `${what}: by-id node reported ${a.caught.byId} times, ${a.caught.byIdDupes} repeats`);
    }
    assert.equal(result.msgs, 0, 'nothing emitted without a token');
    assert.deepEqual(result.logErrors, [], 'no unhandled or uncaught error in the second Node-RED');
  });

  it('counts token requests for 10 full redeploys of an unchanged account: 0', async function () {
    this.timeout(180_000);
    const logMark = red.log.length;
    const s = await swapSimulator({ tokenLifetimeMs: 3_600_000 });
    const ids = s.devices().map((d) => d.physical_id);
    let t = Date.now();
    await red.deploy(flow(), 'full');
    const working = (since: number) => {
      const seen = new Set(tail.since(since, 'tel-device').map((c) => c.id as string));
      return tail.since(since, 'devices').length > 0 && ids.every((id) => seen.has(id));
    };
    await waitFor(() => working(t), 30_000, 'the flow working against the account');
    assert.ok(s.stats.byEndpoint.token >= 1, 'the account has its first token');
    const tokensBefore = s.stats.tokensIssued.length;
    s.resetStats();
    for (let i = 0; i < 10; i++) {
      t = Date.now();
      await red.deploy(flow(), 'full');
      await waitFor(() => working(t), 30_000, `redeploy ${i + 1}: the devices listed and a reading from every device`);
    }
    const stats = s.stats;
    const line = `token requests for 10 full redeploys of an unchanged account: ${stats.byEndpoint.token} ` +
      `(${stats.byEndpoint.devices} device-list and ${stats.byEndpoint.telemetry} telemetry requests meanwhile)`;
    console.log(`      ${line}`);
    printed.push(line);
    assert.equal(stats.byEndpoint.token, 0);
    assert.equal(s.stats.tokensIssued.length, tokensBefore);
    assert.ok(stats.byEndpoint.devices >= 10, 'each redeploy listed the devices again');
    // (0: a request a redeploy cut short, as nodes stop.)
    assert.deepEqual(stats.requests.filter((r) => r.status !== 200 && r.status !== 0).map((r) => `${r.status} ${r.rawUrl}`), [], 'every request answered 200: the token was good');
    assert.deepEqual(tail.since(t, 'catch'), []);
    assert.deepEqual(logProblems(red.log.slice(logMark)).errors, []);
  });

  // ---- 429s that carry only a reset time ------------------------------------------------------

  it('429s with a reset time only, 1 request in 7: alerts within 2 × their interval + the reset wait, telemetry at ≥ 80 % of its rate, nothing sent before a reset', async function () {
    this.timeout(240_000);
    const logMark = red.log.length;
    // Sensors every 10 s (as the field's), so the flow's keys plan their checks within a minute of the
    // deploy. The server's resets allow at most 7 requests per reset wait (1–2 s): the estate is sized
    // to fit in that, as an account's polls fit in a real quota. What is tested is the client's part:
    // no ratchet, alert checks first, nothing early.
    const s = await swapSimulator({ deviceCount: LIMITED_DEVICES, reportIntervalMs: 10_000, tokenLifetimeMs: 3_600_000 });
    const ids = s.devices().map((d) => d.physical_id);
    await red.deploy(flow(), 'full');
    const live = Date.now();
    // Warm-up: every device read twice in device mode, the alert checks going.
    const twice = () => {
      const counts = new Map<string, number>();
      for (const m of tail.since(live, 'tel-device')) counts.set(m.id as string, (counts.get(m.id as string) ?? 0) + 1);
      return ids.every((id) => (counts.get(id) ?? 0) >= 2);
    };
    await waitFor(twice, 30_000, 'every device read twice');
    await waitFor(() => s.stats.requests.some((r) => r.endpoint === 'notifications' && r.at > live), 15_000, 'the alert checks');
    // The sensors' period learnt (two readings 10 s apart): about one request per device per 10 s, not five.
    const lastTenSeconds = () => s.stats.requests.filter((r) => r.endpoint === 'telemetry' && r.at > Date.now() - 10_000).length;
    await waitFor(() => Date.now() - live > 20_000 && lastTenSeconds() <= 1.5 * ids.length, 60_000, 'the checks planned on the sensors\' period');

    // One minute with every 7th request answered 429, X-RateLimit-Remaining: 0 and an epoch reset 1 s ahead (no Retry-After).
    s.resetStats();
    const from = Date.now();
    s.injectFault({ kind: 'rate-limit', every: 7, resetAfter: 1, resetHeaders: 'x-ratelimit-epoch' });
    const raised: Array<{ alert: Alert; at: number }> = [];
    let n = 0;
    while (Date.now() < from + 60_000) {
      raised.push({ alert: s.raiseAlert({ id: `rl-${n}`, physical_id: ids[n % ids.length], type: ALERT_TYPES[n % ALERT_TYPES.length] }), at: Date.now() });
      n++;
      // 3.5 to 4.5 s apart, so the alerts meet the checks (every second) at every phase.
      await sleep(3500 + ((n * 389) % 1000));
    }
    const to = Date.now();
    s.clearFaults();
    const emittedOf = (a: Alert) => tail.since(from, 'alert').filter((e) => (e.alert as Alert).id === a.id);
    await waitFor(() => raised.every((r) => emittedOf(r.alert).length > 0), 30_000, 'every alert raised emitted');
    const log = s.stats.requests;

    // What the server said: the 429s it chose (1 in 7) and the resets they announced.
    const limited = log.filter((r) => r.status === 429 && !r.beforeReset);
    const shareLimited = limited.length / log.filter((r) => !r.beforeReset).length;
    assert.ok(limited.length >= 20 && shareLimited > 0.12 && shareLimited < 0.16, `${limited.length} chosen 429s, ${(100 * shareLimited).toFixed(1)} % of the requests`);
    assert.ok(limited.every((r) => r.resetAt !== undefined && r.resetAt >= r.at + 1000), 'each announced a reset 1 s ahead or more');

    // No request sent before an announced reset. A request already on the wire when the 429 came
    // (the account sends up to 8 at once) reaches the server just after it and meets the spent
    // window: those are counted apart, and only within REQUEST_ON_THE_WIRE_MS of the 429.
    const answered429 = log.filter((r) => r.status === 429 && r.resetAt !== undefined);
    const early = log.filter((r) => answered429.some((l) => r.at > l.at && r.at < l.resetAt!));
    const onTheWire = early.filter((r) => answered429.some((l) => r.at > l.at && r.at <= l.at + REQUEST_ON_THE_WIRE_MS && r.at < l.resetAt!));
    const tooSoon = early.filter((r) => !onTheWire.includes(r));
    assert.deepEqual(tooSoon.map((r) => `${r.at - from} ms ${r.status} ${r.rawUrl}`), [], 'no request sent between a 429 and the reset it announced');

    // Alerts: each emitted once, within 2 × the alert interval + the time the server's resets held every request.
    const held = (a: number, b: number) => heldBetween(answered429, a, b);
    const delays = raised.map((r) => {
      const emitted = emittedOf(r.alert);
      assert.equal(emitted.length, 1, `alert ${r.alert.id} emitted once`);
      const delay = emitted[0]!.at - r.at;
      return { delay, held: held(r.at, emitted[0]!.at) };
    });
    for (const [i, d] of delays.entries()) {
      assert.ok(d.delay - d.held <= 2 * ALERTS_INTERVAL_S * 1000, `alert ${i}: emitted after ${d.delay} ms, ${d.held} ms of it held by resets`);
    }

    // Telemetry: device-mode msgs over the minute, against one per device per interval.
    const msgs = tail.since(from, 'tel-device').filter((m) => m.at < to).length;
    const nominal = (ids.length * (to - from)) / (TELEMETRY_INTERVAL_S * 1000);
    assert.ok(msgs >= 0.8 * nominal, `${msgs} device msgs in ${secs(to - from)}, ${Math.round(nominal)} at the set interval`);

    // Nothing went wrong: the transport waited for every reset, so no request failed.
    assert.deepEqual(tail.since(from, 'catch'), [], 'the Catch node caught nothing');
    assert.deepEqual(tail.since(from, 'status').filter((st) => st.fill === 'red'), [], 'no node turned red');
    assert.deepEqual(logProblems(red.log.slice(logMark)).errors, []);

    const maxDelay = Math.max(...delays.map((d) => d.delay));
    const maxBeyond = Math.max(...delays.map((d) => d.delay - d.held));
    const line = `429 with a reset only, 1 in 7 (${limited.length} of ${log.length} requests over ${secs(to - from)}, ${LIMITED_DEVICES} devices): `
      + `${raised.length} alerts each emitted once, within ${secs(maxDelay)} (at most ${secs(maxBeyond)} beyond the resets' hold; median ${secs(median(delays.map((d) => d.delay)))}); `
      + `telemetry ${msgs} device msgs of ${Math.round(nominal)} (${Math.round((100 * msgs) / nominal)} %); `
      + `${tooSoon.length} requests before a reset (${onTheWire.length} already on the wire at the 429)`;
    console.log(`      ${line}`);
    printed.push(line);
  });

  it('the whole run: no unhandled or uncaught error in the Node-RED log', () => {
    assert.doesNotMatch(red.log, /unhandled|uncaught/i);
  });
});

// ---- the wrong-key scenario -----------------------------------------------------------------

interface WrongKeyResult {
  accounts: Array<{
    refusal: Dialect['refusedKey'];
    count30s: number;
    count35s: number;
    otherRequests: number;
    caught: { all: number; byId: number; byIdDupes: number; alerts: number };
    codes: string[];
  }>;
  msgs: number;
  logErrors: string[];
}

/**
 * Four simulators, each refusing the key its own way (400 first, then 401, 403, 200 without a
 * token), each polled every second by three nodes (telemetry of every device, telemetry by
 * device id, alerts) on an account holding a wrong key. Token requests are counted over the 30 s
 * from each account's first one, and over 35 s (the cool-down over).
 */
async function runWrongKey(red: RealNodeRed, sims: Map<string, LeapcraftSimulator>): Promise<WrongKeyResult> {
  const refusals: Array<Dialect['refusedKey']> = [400, 401, 403, '200-no-token'];
  for (const refusal of refusals) {
    const s = new LeapcraftSimulator({ deviceCount: 5, dialect: { refusedKey: refusal } });
    sims.set(String(refusal), s);
    await s.start();
  }
  const file = path.join(red.userDir, 'wrong-key.jsonl');
  const accounts = refusals.map((r) => {
    const s = sims.get(String(r))!;
    return { id: String(r), baseUrl: s.baseUrl, deviceIds: s.devices().map((d) => d.physical_id) };
  });
  await red.deploy(wrongKeyFlow(accounts, 'not-the-key', file), 'full');
  const tokenTimes = (s: LeapcraftSimulator) => s.stats.requests.filter((r) => r.endpoint === 'token').map((r) => r.at);
  await waitFor(() => [...sims.values()].every((s) => tokenTimes(s).length > 0), 20_000, 'each wrong-key account trying its key');
  const firsts = new Map([...sims].map(([k, s]) => [k, tokenTimes(s)[0]!]));
  // A count over a span of time: this waits the span out.
  const end = Math.max(...firsts.values()) + 35_000;
  await sleep(Math.max(0, end - Date.now()) + 200);
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Captured) : [];
  return {
    accounts: refusals.map((refusal) => {
      const s = sims.get(String(refusal))!;
      const first = firsts.get(String(refusal))!;
      const times = tokenTimes(s);
      const nodes = wrongKeyNodes(String(refusal));
      const caught = lines.filter((c) => c.src === 'catch' && Object.values(nodes).includes(c.source as string));
      const from = (id: string) => caught.filter((c) => c.source === id);
      const byIdDevices = from(nodes.byId).map((c) => String(c.pid));
      return {
        refusal,
        count30s: times.filter((t) => t <= first + 30_000).length,
        count35s: times.filter((t) => t <= first + 35_000).length,
        otherRequests: s.stats.requests.filter((r) => r.endpoint !== 'token').length,
        caught: { all: from(nodes.all).length, byId: byIdDevices.length, byIdDupes: dupes(byIdDevices).length, alerts: from(nodes.alerts).length },
        codes: [...new Set(caught.map((c) => String(c.code)))],
      };
    }),
    msgs: lines.filter((c) => c.src === 'msg').length,
    logErrors: red.log.split('\n').filter((l) => /unhandled|uncaught/i.test(l)),
  };
}
