/**
 * Frugal polling under simulated time (test/support/sim-clock.ts): the package's poll path
 * (bench/poller.ts: what leapcraft-telemetry runs, from dist/) against simulators in this
 * process whose clock is the same fake one. Each contender has a simulator of its own, all
 * with the same seed and options: the same sensors, reporting at the same instants, and each
 * simulator's request log belongs to one contender.
 *
 * - `compare`: fixed and cadence-aware polling side by side, N devices, one interval; a
 *   contender may have sensors of its own habits (jitter, lost readings, a faster period: the
 *   simulator's options), the rest of the setting the same.
 * - `budget`: the same with the account's request budget, over hours.
 */
import { LeapcraftSimulator } from '../simulator';
import { SimClock } from '../test/support/sim-clock';
import { serve } from './ipc';
import { account, loadLib, TelemetryPoller } from './poller';

const lib = loadLib();

/** A Monday, 08:00 UTC: the simulated building's day starts. */
export const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const MINUTE = 60_000;
const HOUR = 3_600_000;

/** Sensors as they behave in the field: the simulator's options (simulator/types.ts). */
export interface SensorHabits {
  reportIntervalS?: number;
  reportJitterShare?: number;
  lossRate?: number;
}

export interface Contender {
  label: string;
  cadence: boolean;
  budgetPerHour?: number;
  sensors?: SensorHabits;
}

export interface CompareParams {
  devices: number;
  reportIntervalS: number;
  intervalS: number;
  minutes: number;
  concurrency: number;
  /** After this many minutes the steady-state figures start (learning over). */
  steadyFromMinute: number;
  contenders: Contender[];
}

export interface ContenderRun {
  label: string;
  cadence: boolean;
  budgetPerHour?: number;
  /** Telemetry requests the poller started (= the simulator's count of telemetry requests). */
  telemetryRequests: number;
  /** Every request the simulator received from this contender (token, device list, telemetry). */
  apiRequests: number;
  listRequests: number;
  msgs: number;
  errors: number;
  /** Readings already there when polling began (one per device). */
  initialReadings: number;
  /** Readings reported after polling began that reached a msg: each counted once. */
  newReadings: number;
  /** Delay from a new reading's timestamp to its first msg, ms, sorted. */
  delaysMs: number[];
  /** The same after `steadyFromMinute`: requests started and new readings first received in that span. */
  steady: { telemetryRequests: number; newReadings: number };
  /** Round visits answered from the cache (cadence-aware keys), and requests the scheduler counted. */
  servedFromCache: number;
  schedulerFetches: number;
  /** Requests the API received in each clock hour of the run, and the most in any rolling hour. */
  perClockHour: number[];
  maxRollingHour: number;
  /** Per device: telemetry requests answered in each clock hour (min over devices). */
  minReadsPerDeviceHour: number[];
  maxReadsPerDeviceHour: number[];
  /** The budget's view at the end (stretch, planned and needed requests per hour). */
  budget?: { stretch: number; neededPerHour: number; plannedPerHour: number; effectivePerHour?: number };
  /** Requests still not answered when the clock had to move on (0 expected). */
  stuckWaits: number;
  /** The sensors' habits, when not the setting's own. */
  sensors?: SensorHabits;
  /**
   * From `steadyFromMinute` on, per device and poll interval (counted from the start): the fewest
   * and most telemetry requests, and the intervals in which a new reading reached a msg.
   */
  perInterval: { min: number; max: number; withNews: number; intervals: number };
}

export interface CompareResult {
  t0: number;
  devices: number;
  reportIntervalS: number;
  intervalS: number;
  minutes: number;
  steadyFromMinute: number;
  /** Readings the sensors reported within the run (the model's count). */
  reported: number;
  runs: ContenderRun[];
  realMs: number;
}

/** Most entries within any window of `windowMs` (times sorted). */
function maxInWindow(times: number[], windowMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j]! - times[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Per device and poll interval from `from` to `end`: the fewest and most requests, and the intervals with a new reading. */
function perInterval(requestsAt: Map<string, number[]>, newsAt: Map<string, number[]>, p: CompareParams, from: number, end: number): ContenderRun['perInterval'] {
  const intervalMs = p.intervalS * 1000;
  const first = Math.ceil((from - T0) / intervalMs);
  const last = Math.floor((end - T0) / intervalMs);
  const out = { min: Infinity, max: 0, withNews: 0, intervals: 0 };
  for (const id of requestsAt.keys()) {
    const index = (t: number) => Math.floor((t - T0) / intervalMs);
    const requests = new Map<number, number>();
    for (const t of requestsAt.get(id)!) requests.set(index(t), (requests.get(index(t)) ?? 0) + 1);
    const news = new Set((newsAt.get(id) ?? []).map(index));
    for (let k = first; k < last; k++) {
      const n = requests.get(k) ?? 0;
      out.min = Math.min(out.min, n);
      out.max = Math.max(out.max, n);
      if (news.has(k)) out.withNews++;
      out.intervals++;
    }
  }
  if (out.intervals === 0) out.min = 0;
  return out;
}

async function compare(p: CompareParams): Promise<CompareResult> {
  const started = performance.now();
  const end = T0 + p.minutes * MINUTE;
  const steadyFrom = T0 + p.steadyFromMinute * MINUTE;
  const hours = Math.ceil(p.minutes / 60);
  const clock = new SimClock(T0);
  const setups: Array<{
    c: Contender;
    sim: LeapcraftSimulator;
    acct: ReturnType<typeof account>;
    poller?: TelemetryPoller;
    seen: Map<string, Set<number>>;
    run: ContenderRun;
    reads: Map<string, number[]>;
    /** Per device: when each telemetry request started, and when each new reading reached a msg. */
    requestsAt: Map<string, number[]>;
    newsAt: Map<string, number[]>;
  }> = [];
  try {
    for (const c of p.contenders) {
      const sim = new LeapcraftSimulator({
        deviceCount: p.devices, gateways: Math.max(1, Math.ceil(p.devices / 100)), seed: 1, latencyMs: 0,
        reportIntervalMs: (c.sensors?.reportIntervalS ?? p.reportIntervalS) * 1000,
        reportJitterShare: c.sensors?.reportJitterShare ?? 0,
        lossRate: c.sensors?.lossRate ?? 0,
        // One token for the whole run: an expiry would add an exchange and a replay the figures are not about.
        tokenLifetimeMs: 7 * 24 * HOUR,
        now: () => Date.now(),
      });
      const baseUrl = await sim.start();
      const acct = account(lib, { baseUrl, apiKey: sim.apiKey, concurrency: p.concurrency, budgetPerHour: c.budgetPerHour });
      const run: ContenderRun = {
        label: c.label, cadence: c.cadence, telemetryRequests: 0, apiRequests: 0, listRequests: 0, msgs: 0, errors: 0,
        initialReadings: 0, newReadings: 0, delaysMs: [], steady: { telemetryRequests: 0, newReadings: 0 },
        servedFromCache: 0, schedulerFetches: 0, perClockHour: [], maxRollingHour: 0, minReadsPerDeviceHour: [], maxReadsPerDeviceHour: [], stuckWaits: 0,
        perInterval: { min: 0, max: 0, withNews: 0, intervals: 0 },
      };
      if (c.budgetPerHour !== undefined) run.budgetPerHour = c.budgetPerHour;
      if (c.sensors) run.sensors = c.sensors;
      setups.push({ c, sim, acct, seen: new Map(), run, reads: new Map(), requestsAt: new Map(), newsAt: new Map() });
    }
    for (const s of setups) {
      const { run, seen, reads, requestsAt, newsAt } = s;
      s.poller = new TelemetryPoller(lib, s.acct, {
        intervalMs: p.intervalS * 1000,
        cadence: s.c.cadence,
        // The delay from a reading to its msg is what Emit "each new reading" gives; every interval
        // holds a new reading's msg until the interval's own (test/nodes/telemetry-emit.test.ts).
        emit: 'reading',
        track: (kind, request) => clock.track(async () => {
          const at = Date.now();
          if (kind === 'list') run.listRequests++;
          else {
            run.telemetryRequests++;
            if (at >= steadyFrom) run.steady.telemetryRequests++;
          }
          const value = await request();
          if (kind === 'telemetry') {
            const id = (value as { physical_id?: string }).physical_id ?? '?';
            const hour = Math.min(hours - 1, Math.floor((at - T0) / HOUR));
            const perHour = reads.get(id) ?? reads.set(id, Array(hours).fill(0)).get(id)!;
            perHour[hour]!++;
            (requestsAt.get(id) ?? requestsAt.set(id, []).get(id)!).push(at);
          }
          return value;
        }),
        onMsg: (msg) => {
          run.msgs++;
          const id = msg.physical_id!;
          const t = lib.readingTime(msg.payload);
          if (t === undefined) return;
          const known = seen.get(id) ?? seen.set(id, new Set()).get(id)!;
          if (known.has(t)) return;
          known.add(t);
          if (t < T0) {
            run.initialReadings++;
            return;
          }
          run.newReadings++;
          run.delaysMs.push(Date.now() - t);
          (newsAt.get(id) ?? newsAt.set(id, []).get(id)!).push(Date.now());
          if (Date.now() >= steadyFrom) run.steady.newReadings++;
        },
      });
    }
    await clock.runByStep(end);
    for (const s of setups) {
      const { run } = s;
      run.errors = s.poller!.errors;
      run.servedFromCache = s.acct.scheduler.servedFromCache;
      run.schedulerFetches = s.acct.scheduler.fetches;
      if (s.c.budgetPerHour !== undefined) {
        const b = s.acct.scheduler.budgetState();
        run.budget = { stretch: b.stretch, neededPerHour: b.neededPerHour, plannedPerHour: b.plannedPerHour };
        if (b.effectivePerHour !== undefined) run.budget.effectivePerHour = b.effectivePerHour;
      }
      s.poller!.close();
      const log = s.sim.stats.requests.filter((r) => r.at <= end);
      run.apiRequests = log.length;
      const times = log.map((r) => r.at).sort((a, b) => a - b);
      run.perClockHour = Array.from({ length: hours }, (_, h) => times.filter((t) => t >= T0 + h * HOUR && t < T0 + (h + 1) * HOUR).length);
      run.maxRollingHour = maxInWindow(times, HOUR);
      const byHour = [...s.reads.values()];
      const devicesRead = byHour.length;
      for (let h = 0; h < hours; h++) {
        const counts = byHour.map((x) => x[h]!);
        // A device never read in this hour counts as 0.
        run.minReadsPerDeviceHour.push(devicesRead < p.devices ? 0 : Math.min(...counts));
        run.maxReadsPerDeviceHour.push(Math.max(0, ...counts));
      }
      run.delaysMs.sort((a, b) => a - b);
      run.stuckWaits = clock.stuckWaits;
      run.perInterval = perInterval(s.requestsAt, s.newsAt, p, steadyFrom, end);
    }
    const perDevice = Math.floor(p.minutes * 60 / p.reportIntervalS);
    return {
      t0: T0, devices: p.devices, reportIntervalS: p.reportIntervalS, intervalS: p.intervalS, minutes: p.minutes, steadyFromMinute: p.steadyFromMinute,
      reported: p.devices * perDevice, runs: setups.map((s) => s.run), realMs: performance.now() - started,
    };
  } finally {
    for (const s of setups) {
      s.acct.scheduler.close();
      s.acct.client.close();
    }
    clock.restore();
    for (const s of setups) await s.sim.stop();
  }
}

serve({ compare, stop() { /* nothing held between calls */ } });
