/**
 * Faults through a real Node-RED (issue 5, item 1). One Node-RED process with the packed
 * package and one deployment live through every fault in turn, as a building's flow would:
 * telemetry of 12 devices on 3 gateways and the alerts node, both polling every second on one
 * account (concurrency 4, timeout 2 s). Per fault: inject, keep it until its symptoms show,
 * clear, then check from outside that Node-RED stayed up, the status told the truth, Catch got
 * the code, polling came back without a redeploy, every reading the simulator served reached
 * the flow once, every alert was emitted once, and the requests stayed within the account's
 * concurrency without a burst at recovery.
 *
 * Short form by default (npm test); `LEAPCRAFT_RELIABILITY=full` keeps each fault longer and
 * takes the API down for a whole minute. The figures go to stdout ("measured:") and to
 * .artifacts/reliability/faults.json, from which docs/RELIABILITY.md's table is filled.
 */
import assert from 'node:assert/strict';

import { IDS } from './support/flow';
import {
  between, distinct, lastStatus, matchAlerts, matchReadings, recoveryMs, requestRate, seconds, type CaughtLine, type StatusLine,
} from './support/measure';
import { FULL, ReliabilityRig } from './support/rig';
import { codeText, KEY_REFUSED_TEXT, recordFigures, TELEMETRY_FAILING } from './support/report';
import { sleep, waitFor } from '../../support/wait';

const CONCURRENCY = 4;
const TIMEOUT_S = 2;
/** Normal operation measured before each fault. */
const STEADY_MS = 1500;
/** Normal operation kept after recovery before the books are closed. */
const AFTER_MS = FULL ? 10_000 : 2000;
/** Transient faults (handled without an error) are kept this long. */
const TRANSIENT_MS = FULL ? 30_000 : 6000;
/** Faults that end in an error are kept this much longer once the error showed. */
const LINGER_MS = FULL ? 20_000 : 1000;
const OUTAGE_MS = FULL ? 60_000 : 10_000;
/** Long enough in the full form for a second refusal (the cool-down doubles to 60 s). */
const KEY_REFUSED_MS = FULL ? 45_000 : 3000;
/** The client's retries of a transient failure (lib/api/client.ts maxRetries). */
const MAX_RETRIES = 3;
/** The client's cool-down after the API refused the key (lib/api/client.ts authRetryBaseMs). */
const AUTH_COOLDOWN_MS = 30_000;

interface Scenario {
  name: string;
  /** What was injected, for the table. */
  injected: string;
  inject(rig: ReliabilityRig): void | Promise<void>;
  clear(rig: ReliabilityRig): void | Promise<void>;
  /** Codes that must reach Catch during the fault (none: the fault must be absorbed). */
  codes: string[];
  /** Codes that may reach Catch as well. */
  mayCodes?: string[];
  /** Shortest time the fault is kept (from injection). */
  holdMs: number;
  /** After clearing, before recovery is awaited (e.g. the user presses Test connection). */
  afterClear?(rig: ReliabilityRig): Promise<string>;
  recoveryTimeoutMs?: number;
  /** Scenario-specific checks on the requests the simulator saw during the fault. */
  check?(w: Window): string;
}

interface Window {
  rig: ReliabilityRig;
  faultAt: number;
  clearAt: number;
  recoveredAt: number;
}

describe('reliability: faults through a real Node-RED', function () {
  this.timeout(FULL ? 1_800_000 : 600_000);
  const rig = new ReliabilityRig({
    concurrency: CONCURRENCY,
    timeoutS: TIMEOUT_S,
    intervalS: 1,
    // A new reading per device every second, so a reading that went missing cannot hide behind
    // its repeat; a backlog of alerts that must not be emitted at start.
    simulator: { deviceCount: 12, gateways: 3, reportIntervalMs: 1000, initialAlerts: 25 },
  });
  let failed = false;

  before(async function () {
    await rig.start();
    await rig.deploy();
    await rig.waitAlertsPrimed();
    await rig.waitHealthy();
  });

  /** The running test's title up to its colon or bracket: `--fgrep` it to rerun that scenario alone. */
  let testName = '';
  beforeEach(function () {
    testName = (this.currentTest?.title ?? '').split(/[:(]/)[0]!.trim();
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed') return;
    failed = true;
    // A scenario that failed half-way may have left its fault in place: the next one starts clean.
    await rig.heal();
  });

  after(async function () {
    if (failed) {
      const dir = rig.saveArtifacts('faults');
      if (dir) console.log(`      (Node-RED log and observed files kept in ${dir})`);
    }
    await rig.dispose();
  });

  async function run(s: Scenario): Promise<void> {
    const ids = rig.deviceIds();
    await rig.waitHealthy();
    rig.resetStats();
    const steadyFrom = Date.now();
    // A measurement window: the steady request rate before the fault.
    await sleep(STEADY_MS);
    rig.raiseAlert();
    // The scenario: an alert raised just before the fault (it may be read before or after it).
    await sleep(300);

    const faultAt = Date.now();
    await s.inject(rig);
    // The scenario: an alert raised while the fault is on.
    await sleep(Math.min(1000, s.holdMs / 2));
    rig.raiseAlert();
    const symptomsShown = () => {
      if (s.codes.length === 0) return true;
      const seen = new Set(between(rig.caught(), faultAt).map((c) => c.code));
      const statuses = between(rig.statuses(), faultAt);
      return s.codes.every((c) => seen.has(c)) && [IDS.telemetry, IDS.notifications].every((id) => statuses.some((x) => x.source === id && x.fill === 'red'));
    };
    await waitFor(() => Date.now() - faultAt >= s.holdMs && symptomsShown(), s.holdMs + 90_000, `${s.name}: ${s.codes.join(', ')} at Catch and red status`);
    // The scenario: the fault goes on a while after its symptoms showed.
    if (s.codes.length > 0) await sleep(LINGER_MS);

    const clearAt = Date.now();
    await s.clear(rig);
    rig.raiseAlert();
    const afterClear = s.afterClear ? await s.afterClear(rig) : '';
    const recoveredNow = () => {
      const statuses = rig.statuses();
      return recoveryMs(rig.telemetry(), ids, clearAt) !== undefined &&
        lastStatus(statuses, IDS.telemetry)?.fill === 'green' && lastStatus(statuses, IDS.notifications)?.fill === 'green';
    };
    await waitFor(recoveredNow, s.recoveryTimeoutMs ?? 60_000, `${s.name}: every device emitting and both nodes green again`);
    const recoveredAt = Date.now();
    // A measurement window: the rate after recovery.
    await sleep(AFTER_MS);
    rig.raiseAlert();
    // Alerts still on their way get a few seconds; a lost one fails below with the counts.
    await waitFor(() => matchAlerts(rig.raised, rig.alerts()).lost === 0, 10_000, 'every raised alert').catch(() => undefined);
    const cut = Date.now();
    // Readings served by the cut are in the file; a lost one fails below with the counts.
    await waitFor(() => matchReadings(rig.requests(), rig.telemetry(), cut).lost === 0, 10_000, 'every reading served by the cut').catch(() => undefined);

    // ---- the books -------------------------------------------------------------------
    const requests = rig.requests();
    const telemetry = rig.telemetry();
    const caught = between(rig.caught(), faultAt);
    const statuses = between(rig.statuses(), faultAt, recoveredAt + 1);
    const steady = requestRate(requests, steadyFrom, faultAt);
    const during = requestRate(requests, faultAt, clearAt);
    const atRecovery = requestRate(requests, clearAt, clearAt + 5000);
    const readings = matchReadings(requests, telemetry, cut);
    const alerts = matchAlerts(rig.raised, rig.alerts());
    const recovery = recoveryMs(telemetry, ids, clearAt);
    const alertsBack = requests.find((r) => r.endpoint === 'notifications' && r.status === 200 && r.at >= clearAt);
    const redAfter = (id: string) => {
      const red = statuses.find((x) => x.source === id && x.fill === 'red');
      return red ? (red.at - faultAt) / 1000 : null;
    };
    const codes = distinct(caught.map((c) => c.code ?? '(none)'));
    const maxConcurrent = rig.sim.maxConcurrent;
    const extra = [afterClear, s.check?.({ rig, faultAt, clearAt, recoveredAt }) ?? ''].filter(Boolean).join('; ');

    const figures = {
      scenario: s.name,
      fgrep: testName,
      injected: s.injected,
      faultSeconds: (clearAt - faultAt) / 1000,
      requests: { steadyPerSecond: steady.perSecond, during: during.total, duringPerSecond: during.perSecond, duringPeak: during.peakPerSecond, atRecoveryPerSecond: atRecovery.perSecond, atRecoveryPeak: atRecovery.peakPerSecond, maxConcurrent, concurrency: CONCURRENCY },
      catch: codes,
      caughtCount: caught.length,
      recoverySeconds: recovery === undefined ? null : recovery / 1000,
      alertsRecoverySeconds: alertsBack ? (alertsBack.at - clearAt) / 1000 : null,
      redAfterSeconds: { telemetry: redAfter(IDS.telemetry), alerts: redAfter(IDS.notifications) },
      readings: { served: readings.served, emitted: readings.emitted, lost: readings.lost, duplicated: readings.duplicated },
      alerts,
      extra,
    };
    recordFigures('faults', figures);
    console.log(`      measured: ${s.name}: fault ${seconds(clearAt - faultAt)}; requests ${steady.perSecond.toFixed(1)}/s steady, ` +
      `${during.total} during (${during.perSecond.toFixed(1)}/s, peak ${during.peakPerSecond}/s), ${atRecovery.perSecond.toFixed(1)}/s at recovery ` +
      `(peak ${atRecovery.peakPerSecond}/s); max concurrent ${maxConcurrent}/${CONCURRENCY}; Catch ${caught.length} (${codes.join(', ') || 'none'}); ` +
      `recovery ${seconds(recovery)} (alerts ${alertsBack ? seconds(alertsBack.at - clearAt) : 'n/a'}); readings served ${readings.served}, ` +
      `lost ${readings.lost}, duplicated ${readings.duplicated}; alerts ${alerts.raised} raised, lost ${alerts.lost}, twice ${alerts.duplicated}, ` +
      `unexpected ${alerts.unexpected}${extra ? `; ${extra}` : ''}`);

    // ---- the verdict -----------------------------------------------------------------
    assert.ok(await rig.red.alive(), 'Node-RED is still running and answering');
    assert.deepEqual(rig.crashLines(), [], 'no crash or unhandled error in the Node-RED log');
    const allowed = new Set([...s.codes, ...(s.mayCodes ?? [])]);
    assert.deepEqual(codes.filter((c) => !allowed.has(c)), [], `only ${[...allowed].join(', ') || 'no codes'} at Catch`);
    for (const code of s.codes) assert.ok(codes.includes(code), `${code} reached Catch`);
    if (s.codes.length > 0) {
      // A fault is news once: each failing device (and the alerts check) reaches Catch once per
      // code, not at every poll for as long as the fault lasts.
      const repeats = repeatedReports(caught);
      assert.deepEqual(repeats, [], 'each failing source reported once per code');
    }
    checkStatuses(s, statuses, caught.length > 0);
    assert.equal(readings.lost, 0, `every reading served reached the flow (${readings.examples.join('; ')})`);
    assert.equal(readings.duplicated, 0, `no reading emitted twice (${readings.examples.join('; ')})`);
    assert.ok(readings.served > 0, 'readings were served');
    assert.deepEqual({ lost: alerts.lost, duplicated: alerts.duplicated, unexpected: alerts.unexpected }, { lost: 0, duplicated: 0, unexpected: 0 }, 'each alert exactly once');
    assert.ok(maxConcurrent <= CONCURRENCY, `at most ${CONCURRENCY} requests at once (saw ${maxConcurrent})`);
    // No retry storm: by design a poll costs at most 1 + 3 retries requests, so the busiest
    // second stays within that multiple of normal polling (a retry loop would be far beyond).
    const stormBound = (1 + MAX_RETRIES) * Math.max(steady.peakPerSecond, ids.length + 1) + CONCURRENCY;
    assert.ok(during.peakPerSecond <= stormBound, `no storm during the fault: peak ${during.peakPerSecond}/s <= ${stormBound}/s`);
    assert.ok(atRecovery.peakPerSecond <= stormBound, `no storm at recovery: peak ${atRecovery.peakPerSecond}/s <= ${stormBound}/s`);
  }

  /** Sources (node and device) that reached Catch more than once with the same code. */
  function repeatedReports(caught: CaughtLine[]): string[] {
    const counts = new Map<string, number>();
    for (const c of caught) {
      const key = `${c.source} ${c.physical_id ?? ''} ${c.code}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].filter(([, n]) => n > 1).map(([key, n]) => `${key} x${n}`);
  }

  /**
   * Red with the code's own text while the fault lasted; no red at all for an absorbed fault
   * (unless one of its tolerated errors did reach Catch: then red may say so).
   */
  function checkStatuses(s: Scenario, statuses: StatusLine[], anyCaught: boolean): void {
    for (const id of [IDS.telemetry, IDS.notifications]) {
      const red = statuses.filter((x) => x.source === id && x.fill === 'red');
      if (s.codes.length === 0 && !anyCaught) {
        assert.deepEqual(red.map((x) => x.text), [], `${id} never red during an absorbed fault`);
        continue;
      }
      // A refused key shows as the account's "API key refused" on every node, or as the node's own LEAPCRAFT_AUTH.
      const texts = s.codes.flatMap((code) => (code === 'LEAPCRAFT_AUTH' ? [codeText(code), KEY_REFUSED_TEXT] : [codeText(code)]));
      if (texts.length > 0) {
        assert.ok(red.some((x) => texts.includes(String(x.text))), `${id} showed ${texts.join(' / ')} (red: ${distinct(red.map((x) => x.text)).join(', ')})`);
      }
      const allowed = [...texts, ...(s.mayCodes ?? []).flatMap((code) => (code === 'LEAPCRAFT_AUTH' ? [codeText(code), KEY_REFUSED_TEXT] : [codeText(code)]))];
      for (const x of red) {
        assert.ok(allowed.includes(String(x.text)) || (id === IDS.telemetry && TELEMETRY_FAILING.test(String(x.text))), `${id} red status tells the fault: ${x.text}`);
      }
    }
  }

  const count = (rig: ReliabilityRig, from: number, to: number, pick: (r: { endpoint: string; status: number }) => boolean) =>
    rig.requests().filter((r) => r.at >= from && r.at < to && pick(r)).length;

  // ---- the scenarios -------------------------------------------------------------------

  it('token expiry every 3 s: renewed without an error, one exchange per expiry', async function () {
    const lifetimeMs = 3000;
    await run({
      name: 'token expiry every 3 s',
      injected: `token lifetime 3 s (POST /__sim/set tokenLifetimeMs) for ${TRANSIENT_MS / 1000} s`,
      inject: (r) => r.sim.set({ tokenLifetimeMs: lifetimeMs }),
      clear: (r) => r.sim.set({ tokenLifetimeMs: 3_600_000 }),
      codes: [],
      holdMs: TRANSIENT_MS,
      check: ({ rig: r, faultAt, clearAt }) => {
        const refused = count(r, faultAt, clearAt + 1000, (x) => x.status === 401);
        const exchanges = count(r, faultAt, clearAt + 1000, (x) => x.endpoint === 'token');
        const expiries = Math.ceil((clearAt - faultAt) / lifetimeMs);
        assert.ok(refused > 0, 'expired tokens were refused (the fault bit)');
        assert.ok(exchanges <= expiries + 2, `one exchange per expiry, not per request: ${exchanges} for ${expiries} expiries`);
        return `${refused} requests refused with 401, ${exchanges} token exchanges for ${expiries} expiries`;
      },
    });
  });

  it('every token revoked at once (twice): one exchange each, no error', async function () {
    await run({
      name: 'all tokens revoked',
      injected: 'revokeTokens() at the start and again after 3 s',
      inject: async (r) => {
        r.sim.revokeTokens();
        setTimeout(() => r.sim.revokeTokens(), 3000).unref();
      },
      clear: () => undefined,
      codes: [],
      holdMs: TRANSIENT_MS,
      check: ({ rig: r, faultAt, clearAt }) => {
        const refused = count(r, faultAt, clearAt + 1000, (x) => x.status === 401);
        const exchanges = count(r, faultAt, clearAt + 1000, (x) => x.endpoint === 'token');
        assert.ok(refused > 0, 'revoked tokens were refused (the fault bit)');
        assert.ok(exchanges >= 2 && exchanges <= 3, `one exchange per revocation: ${exchanges} for 2`);
        return `${refused} requests refused with 401, ${exchanges} token exchanges for 2 revocations`;
      },
    });
  });

  it('429 with Retry-After 1 s on 1 in 8 requests: waited out, nothing lost', async function () {
    await run({
      name: '429 on 1 in 8',
      injected: `HTTP 429 Retry-After: 1 on every 8th request, every endpoint, for ${TRANSIENT_MS / 1000} s`,
      inject: (r) => { r.sim.injectFault({ kind: 'rate-limit', every: 8, retryAfter: 1 }); },
      clear: (r) => r.sim.clearFaults(),
      codes: [],
      // Four 429s in a row for one request are possible (then the scheduler waits it out).
      mayCodes: ['LEAPCRAFT_RATE_LIMITED'],
      holdMs: TRANSIENT_MS,
      check: ({ rig: r, faultAt, clearAt }) => {
        const log = r.requests().filter((x) => x.at >= faultAt && x.at < clearAt + 1000);
        const limited = log.filter((x) => x.status === 429);
        // Sent while the account should have been pausing: more than 50 ms after a 429 and within its second.
        const early = log.filter((x) => limited.some((l) => x.at > l.at + 50 && x.at < l.at + 950)).length;
        assert.ok(limited.length > 0, 'requests were rate-limited (the fault bit)');
        return `${limited.length} of ${log.length} answered 429; ${early} sent inside a Retry-After pause`;
      },
    });
  });

  it('a 5xx burst longer than the retries: LEAPCRAFT_UNAVAILABLE, then back by itself', async function () {
    await run({
      name: '503 burst',
      injected: 'HTTP 503 on every request, every endpoint, until the error showed (beyond 3 retries)',
      inject: (r) => { r.sim.injectFault({ kind: 'status', status: 503 }); },
      clear: (r) => r.sim.clearFaults(),
      codes: ['LEAPCRAFT_UNAVAILABLE'],
      holdMs: 4000,
    });
  });

  it(`hanging requests (account timeout ${TIMEOUT_S} s): LEAPCRAFT_TIMEOUT, slots freed, back by itself`, async function () {
    await run({
      name: 'hanging requests',
      injected: `no answer at all to any request, account timeout ${TIMEOUT_S} s, until the error showed`,
      inject: (r) => { r.sim.injectFault({ kind: 'hang' }); },
      clear: (r) => r.sim.clearFaults(),
      codes: ['LEAPCRAFT_TIMEOUT'],
      holdMs: 4000,
      check: ({ rig: r, faultAt, clearAt }) => `${count(r, faultAt, clearAt, (x) => x.status === 0)} requests hung`,
    });
  });

  it('connections reset mid-response: retried, then LEAPCRAFT_UNAVAILABLE, back by itself', async function () {
    await run({
      name: 'resets mid-response',
      injected: 'headers and half the body, then a TCP reset, on every request, until the error showed',
      inject: (r) => { r.sim.injectFault({ kind: 'reset' }); },
      clear: (r) => r.sim.clearFaults(),
      codes: ['LEAPCRAFT_UNAVAILABLE'],
      holdMs: 3000,
    });
  });

  it('malformed JSON bodies: LEAPCRAFT_BAD_RESPONSE, nothing emitted from them', async function () {
    await run({
      name: 'malformed bodies',
      injected: '200 with truncated JSON on every request, until the error showed',
      inject: (r) => { r.sim.injectFault({ kind: 'malformed' }); },
      clear: (r) => r.sim.clearFaults(),
      codes: ['LEAPCRAFT_BAD_RESPONSE'],
      holdMs: 3000,
    });
  });

  it('HTML bodies (a proxy error page): LEAPCRAFT_BAD_RESPONSE, back by itself', async function () {
    await run({
      name: 'HTML bodies',
      injected: '200 text/html proxy error page on every request, until the error showed',
      inject: (r) => { r.sim.injectFault({ kind: 'html' }); },
      clear: (r) => r.sim.clearFaults(),
      codes: ['LEAPCRAFT_BAD_RESPONSE'],
      holdMs: 3000,
    });
  });

  it(`the API down and back (${OUTAGE_MS / 1000} s): LEAPCRAFT_UNAVAILABLE, then back by itself`, async function () {
    await run({
      name: `API down ${OUTAGE_MS / 1000} s`,
      injected: `simulator stopped (connections refused) for ${OUTAGE_MS / 1000} s, then started on the same port`,
      inject: (r) => r.sim.stop(),
      clear: async (r) => { await r.sim.start(); },
      codes: ['LEAPCRAFT_UNAVAILABLE'],
      holdMs: OUTAGE_MS,
    });
  });

  it('deployed while the API is down: LEAPCRAFT_UNAVAILABLE, polling starts by itself once it is back', async function () {
    await run({
      name: 'deployed during an outage',
      injected: 'simulator stopped, then a full deploy (every node starts without the device list), simulator started after 5 s',
      inject: async (r) => {
        await r.sim.stop();
        await r.deploy();
      },
      clear: async (r) => { await r.sim.start(); },
      codes: ['LEAPCRAFT_UNAVAILABLE'],
      holdMs: 5000,
      // Without a retry of the first fetch, "every device" waits for the device list's next
      // refresh: ten minutes.
      recoveryTimeoutMs: 60_000,
    });
  });

  it('the key refused, then restored: LEAPCRAFT_AUTH, no hammering, back after the cool-down', async function () {
    await run({
      name: 'key refused, then restored',
      injected: `setKeyValid(false) (tokens revoked, every exchange 401) for ${KEY_REFUSED_MS / 1000} s, then setKeyValid(true)`,
      inject: (r) => r.sim.setKeyValid(false),
      clear: (r) => r.sim.setKeyValid(true),
      codes: ['LEAPCRAFT_AUTH'],
      holdMs: KEY_REFUSED_MS,
      recoveryTimeoutMs: AUTH_COOLDOWN_MS * 4 + 30_000,
      check: ({ rig: r, faultAt, clearAt, recoveredAt }) => {
        const refusedExchanges = count(r, faultAt, clearAt, (x) => x.endpoint === 'token' && x.status === 401);
        const quiet = count(r, faultAt + 2000, clearAt, () => true);
        // Once, then once per cool-down (30 s, doubling): never at every poll.
        const allowed = 1 + Math.floor((clearAt - faultAt) / AUTH_COOLDOWN_MS);
        assert.ok(refusedExchanges >= 1 && refusedExchanges <= allowed, `the refused key is not hammered: ${refusedExchanges} exchanges, at most ${allowed}`);
        return `${refusedExchanges} refused exchange(s), ${quiet} requests in the rest of the fault; restored key used after ${seconds(recoveredAt - clearAt)}`;
      },
    });
  });

  it('Test connection once the refused key is restored: back at once, not after the cool-down', async function () {
    await run({
      name: 'key restored + Test connection',
      injected: 'as above; after restoring, POST leapcraft/test-connection {id} (the account\'s button)',
      inject: (r) => r.sim.setKeyValid(false),
      clear: (r) => r.sim.setKeyValid(true),
      codes: ['LEAPCRAFT_AUTH'],
      holdMs: 3000,
      afterClear: async (r) => {
        const res = await fetch(`${r.red.url}/leapcraft/test-connection`, {
          method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ id: IDS.account }),
        });
        const body = (await res.json()) as { ok?: boolean; code?: string };
        assert.equal(res.status, 200, `Test connection tries the restored key at once: ${JSON.stringify(body)}`);
        assert.equal(body.ok, true);
        return `Test connection answered ${res.status}`;
      },
      // Well inside the 30 s cool-down the key would otherwise wait out.
      recoveryTimeoutMs: AUTH_COOLDOWN_MS / 2,
    });
  });
});
