/**
 * When does a device's next reading appear? A sensor that reports every 5 minutes, polled
 * every minute, costs five requests per new reading, four of them wasted. The learner reads
 * the reporting period from the readings' own timestamps and says when the key next needs a
 * request: just after the next reading is due. It is pure (no clock, no timer): it is fed
 * each fetch result of one key as `(readingTime, observedAt)` and asked `nextCheckAt(now)`,
 * so tests drive it with plain numbers.
 *
 * The rules (docs in the scheduler's header say what a flow sees):
 * - Period: from the deltas between distinct reading timestamps (the last few). A delta may
 *   be a small multiple of the period (a missed report, or checks stretched by a budget).
 *   One delta is enough to plan on (a wrong guess costs one late reading, bounded by the
 *   heartbeat below); from three on, all but one must agree and the latest must.
 *   A key with no period of its own yet may plan on a `hintPeriodMs` other keys agree on.
 * - Margin: how long after its due time a reading becomes visible (the API's lag and the
 *   sensor's jitter): the 90th percentile of the last 8 samples, bounded (1-30 s). A reading
 *   found after a miss is sampled at its lag (the doubling re-checks bracket it tightly); one
 *   found at the first check only proves the margin was enough and is sampled at half of it,
 *   so the margin comes down again (halving every 8 readings) when the lag does.
 * - Fixed interval: no timestamps, irregular deltas, no period yet, or a period shorter
 *   than the interval (every round finds a new reading anyway): the key follows the rounds.
 * - Heartbeat: a key is checked at least every min(5 intervals, 10 min), so a change of
 *   cadence is noticed (up to a margin later when a due check then serves as the heartbeat).
 * - Aliasing: checks only at due times cannot see readings between them, so a period that
 *   is really two periods (a report skipped while learning) would stick. A period is verified
 *   when it fits the period the account's keys agree on, or by the key itself: two deltas of
 *   it, one of them trusted (a check after mid-delta still saw the older reading, as the
 *   fixed interval's checks do). Until then, and again every 24 readings (a device of the
 *   account reporting twice as often as the others), one check goes mid-period (when half
 *   the period is at least the interval: below, the interval could not see it anyway).
 * - Late: a reading not there at due + margin is re-checked after margin, then doubling,
 *   capped at the interval (at once the interval while the period is tentative: one delta,
 *   or the hint); once it is a whole period overdue (a skipped report, a device
 *   that stopped), only at the heartbeat and just after each later due time.
 *   Never two checks closer than the minimum margin: never a tight loop.
 */

export interface CadenceOptions {
  /** Reading-to-reading deltas kept for the period; default 5. */
  deltas?: number;
  /** Deltas agree when within this share of the period...; default 0.1. */
  tolerance?: number;
  /** ...or within this many ms, whichever is more; default 2 s. */
  toleranceMs?: number;
  /** Margin samples kept; default 8. */
  marginSamples?: number;
  minMarginMs?: number;
  maxMarginMs?: number;
  /** The margin before any sample; default 2 s. */
  initialMarginMs?: number;
  /** Heartbeat: at least one check every this many intervals...; default 5. */
  heartbeatIntervals?: number;
  /** ...or this long, whichever is shorter; default 10 min. */
  heartbeatMaxMs?: number;
}

/** What the scheduler knows beyond this key: a period other keys agree on, the budget's stretch. */
export interface CadenceContext {
  hintPeriodMs?: number;
  /** Every planned gap is this many times longer (the account's budget); default 1. */
  stretch?: number;
}

/**
 * `learning`: not enough readings yet; `regular`: its own period is known; `irregular`: its
 * deltas disagree; `no-timestamps`: the last answer had no reading time.
 */
export type CadenceMode = 'learning' | 'regular' | 'irregular' | 'no-timestamps';

export const CADENCE_DEFAULTS: Required<CadenceOptions> = {
  deltas: 5,
  tolerance: 0.1,
  toleranceMs: 2000,
  marginSamples: 8,
  minMarginMs: 1000,
  maxMarginMs: 30_000,
  initialMarginMs: 2000,
  heartbeatIntervals: 5,
  heartbeatMaxMs: 600_000,
};

const HOUR_MS = 3_600_000;
/** A delta up to this many periods long still counts as the period (missed reports). */
const MAX_MULTIPLE = 4;
/** A verified period is probed mid-period again after this many readings. */
const REVERIFY_READINGS = 24;

export class CadenceLearner {
  private readonly o: Required<CadenceOptions>;
  private lastReading?: number;
  private lastCheck?: number;
  private readonly deltas: number[] = [];
  private readonly samples: number[] = [];
  private missing = false;
  /** Checks since the current reading was due that did not find the next one. */
  private late = 0;
  private own?: { periodMs: number; regular: boolean };
  /** The latest check that still saw `lastReading` as the newest. */
  private stillSeenAt?: number;
  /** Readings since the period was verified (see the header: aliasing); undefined: it is not. */
  private sinceVerified?: number;
  /** Distinct readings seen and checks observed: for tests and benchmarks. */
  readings = 0;
  checks = 0;

  constructor(options: CadenceOptions = {}) {
    this.o = { ...CADENCE_DEFAULTS, ...options };
  }

  get mode(): CadenceMode {
    if (this.missing) return 'no-timestamps';
    if (!this.own) return 'learning';
    return this.own.regular ? 'regular' : 'irregular';
  }

  /** The key's own period, when its readings agree on one. */
  get ownPeriodMs(): number | undefined {
    return this.own?.regular ? this.own.periodMs : undefined;
  }

  /** True when its own period has been verified (see the header: aliasing). */
  get verified(): boolean {
    return this.own?.regular === true && this.sinceVerified !== undefined;
  }

  /** The period planned on: its own, else (no deltas yet) the hint; never when irregular. */
  periodMs(context: CadenceContext = {}): number | undefined {
    if (this.missing) return undefined;
    if (this.own) return this.own.regular ? this.own.periodMs : undefined;
    return context.hintPeriodMs;
  }

  get marginMs(): number {
    if (this.samples.length === 0) return this.o.initialMarginMs;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const p90 = sorted[Math.ceil(0.9 * sorted.length) - 1]!;
    return Math.min(this.o.maxMarginMs, Math.max(this.o.minMarginMs, p90));
  }

  /** The newest reading's time, and when the key was last checked. */
  get lastReadingAt(): number | undefined {
    return this.lastReading;
  }

  get lastCheckAt(): number | undefined {
    return this.lastCheck;
  }

  /** True when the key plans its own checks; false when it follows the fixed interval. */
  plans(intervalMs: number, context: CadenceContext = {}): boolean {
    const period = this.periodMs(context);
    return this.lastReading !== undefined && period !== undefined && period >= intervalMs;
  }

  /** The heartbeat: the longest gap between two checks. */
  heartbeatMs(intervalMs: number, context: CadenceContext = {}): number {
    return Math.min(this.o.heartbeatIntervals * intervalMs, this.o.heartbeatMaxMs) * stretchOf(context);
  }

  /** Requests per hour the key is expected to need (unstretched), for the budget's plan. */
  expectedPerHour(intervalMs: number, context: CadenceContext = {}): number {
    if (!this.plans(intervalMs, context)) return HOUR_MS / intervalMs;
    return HOUR_MS / Math.min(this.periodMs(context)!, this.heartbeatMs(intervalMs));
  }

  /**
   * A fetch result: the reading's time (undefined when the answer had none) and when it was
   * observed. Returns true when it is a new reading.
   */
  observe(readingTimeMs: number | undefined, observedAtMs: number, context: CadenceContext = {}): boolean {
    const previousCheck = this.lastCheck;
    this.lastCheck = previousCheck === undefined ? observedAtMs : Math.max(previousCheck, observedAtMs);
    this.checks++;
    if (readingTimeMs === undefined || !Number.isFinite(readingTimeMs)) {
      this.missing = true;
      return false;
    }
    this.missing = false;
    const last = this.lastReading;
    if (last === undefined || readingTimeMs < last) {
      // The first reading, or time went backwards (a replaced device, a clock fix): start over.
      if (last !== undefined) {
        this.deltas.length = 0;
        this.own = undefined;
        this.sinceVerified = undefined;
      }
      this.lastReading = readingTimeMs;
      this.stillSeenAt = observedAtMs;
      this.late = 0;
      this.readings++;
      return true;
    }
    const period = this.periodMs(context);
    if (readingTimeMs === last) {
      if (period !== undefined && observedAtMs >= last + period) this.late++;
      this.stillSeenAt = Math.max(this.stillSeenAt ?? observedAtMs, observedAtMs);
      return false;
    }
    if (period !== undefined && previousCheck !== undefined) this.sampleMargin(readingTimeMs, last, period, observedAtMs, previousCheck);
    const delta = readingTimeMs - last;
    // No reading fell between: a check after mid-delta still saw the last one.
    const trusted = this.stillSeenAt !== undefined && this.stillSeenAt >= last + delta / 2 + this.marginMs;
    const before = this.own?.regular ? this.own.periodMs : undefined;
    this.deltas.push(delta);
    if (this.deltas.length > this.o.deltas) this.deltas.shift();
    const own = fitPeriod(this.deltas, this.o)!;
    this.own = own;
    const learnt = own.regular ? own.periodMs : undefined;
    const onePeriod = learnt !== undefined && this.isOnePeriod(delta, learnt);
    const changed = learnt === undefined || before === undefined || !this.isOnePeriod(learnt, before);
    if (onePeriod && trusted && this.deltas.filter((d) => this.isOnePeriod(d, learnt!)).length >= 2) {
      this.sinceVerified = 0; // verified by the key itself
    } else if (onePeriod && (changed || this.sinceVerified === undefined) && this.agreed(learnt!, context)) {
      this.sinceVerified = 0; // vouched for by the account's keys, until the next look mid-period
    } else if (changed) {
      this.sinceVerified = undefined;
    } else if (this.sinceVerified !== undefined) {
      this.sinceVerified++;
    }
    this.stillSeenAt = observedAtMs;
    this.lastReading = readingTimeMs;
    this.late = 0;
    this.readings++;
    return true;
  }

  private isOnePeriod(delta: number, period: number): boolean {
    return Math.round(delta / period) === 1 && fits(delta, period, this.o);
  }

  /** The period fits the one the account's keys agree on. */
  private agreed(period: number, context: CadenceContext): boolean {
    return context.hintPeriodMs !== undefined && this.isOnePeriod(period, context.hintPeriodMs);
  }

  /**
   * How far after its due time a reading became visible. A reading found by the first check
   * after it was due only proves the margin was enough: it is sampled at half of it, so the
   * margin probes downward. One found after a miss is bracketed between the miss and the find:
   * the find is sampled when the bracket is tight (the doubling re-checks make it so).
   */
  private sampleMargin(reading: number, last: number, period: number, observedAt: number, previousCheck: number): void {
    const due = last + Math.max(1, Math.round((reading - last) / period)) * period;
    const after = observedAt - due;
    if (after <= 0) return; // found before it was due: says nothing of the lag
    let sample: number | undefined;
    if (previousCheck >= due) {
      if (after <= 2 * (previousCheck - due) + this.o.minMarginMs) sample = after;
    } else {
      sample = Math.min(after, this.marginMs) / 2;
    }
    if (sample === undefined) return;
    this.samples.push(sample);
    if (this.samples.length > this.o.marginSamples) this.samples.shift();
  }

  private needsProbe(period: number, intervalMs: number): boolean {
    if (period / 2 < intervalMs) return false;
    // Planning on the period the account's keys agree on: vouched for by them.
    if (!this.own) return false;
    return this.sinceVerified === undefined || this.sinceVerified >= REVERIFY_READINGS;
  }

  /**
   * When the key next needs a request. Fixed interval: the last check + the interval (the
   * scheduler's rounds do it). Planned: just after the next unseen reading is due, or the
   * late re-check, never after the heartbeat, never sooner than the minimum margin.
   */
  nextCheckAt(now: number, intervalMs: number, context: CadenceContext = {}): number {
    const lastCheck = this.lastCheck;
    if (lastCheck === undefined) return now;
    const stretch = stretchOf(context);
    if (!this.plans(intervalMs, context)) return lastCheck + intervalMs * stretch;
    const period = this.periodMs(context)!;
    const last = this.lastReading!;
    const margin = this.marginMs;
    const heartbeat = this.heartbeatMs(intervalMs, context);
    // The first due time the last check did not cover.
    const k = Math.max(1, Math.floor((lastCheck - margin - last) / period) + 1);
    const nextDue = last + k * period + margin;
    let plan: number;
    if (k === 1) {
      plan = nextDue;
      // A budget stretches the gaps: the next check waits for it, then takes the reading due.
      if (stretch > 1) plan = Math.max(plan, lastCheck + Math.min(period, this.heartbeatMs(intervalMs)) * stretch);
      else if (this.needsProbe(period, intervalMs)) {
        const mid = last + period / 2 + margin;
        if ((this.stillSeenAt ?? lastCheck) < mid) plan = mid;
      }
    } else if (lastCheck - (last + period) < period) {
      // Checked after it was due and not there: late. Back off from the margin; on a period
      // from one delta or from other keys, a miss as likely means a wrong period: the interval.
      const tentative = this.deltas.length < 2;
      const backoff = tentative ? intervalMs * stretch : Math.min(margin * 2 ** Math.max(0, this.late - 1), intervalMs * stretch);
      plan = Math.min(lastCheck + backoff, nextDue);
    } else {
      // A whole period overdue: a skipped report or a device that stopped. The heartbeat,
      // and a look just after each later due time in case it resumes on its cadence.
      plan = nextDue;
    }
    // The heartbeat waits up to the margin for a due check, which then serves as both: a
    // heartbeat just before the reading is visible would only add a late re-check.
    const latest = nextDue > lastCheck + heartbeat && nextDue <= lastCheck + heartbeat + margin ? nextDue : lastCheck + heartbeat;
    return Math.max(Math.min(plan, latest), lastCheck + this.o.minMarginMs);
  }
}

function stretchOf(context: CadenceContext): number {
  return context.stretch !== undefined && context.stretch > 1 ? context.stretch : 1;
}

function fits(delta: number, period: number, o: Required<CadenceOptions>): boolean {
  const k = Math.max(1, Math.round(delta / period));
  if (k > MAX_MULTIPLE) return false;
  return Math.abs(delta - k * period) <= Math.max(o.tolerance * k * period, o.toleranceMs);
}

/**
 * The period the deltas agree on: each delta is tried as the period, the one most deltas fit
 * (as one to four periods) wins, the longer on a tie. Regular when all fit (up to two deltas)
 * or all but one (three on), the latest included.
 */
export function fitPeriod(deltas: readonly number[], options: CadenceOptions = {}): { periodMs: number; regular: boolean } | undefined {
  const o = { ...CADENCE_DEFAULTS, ...options };
  if (deltas.length === 0) return undefined;
  const best = bestFit(deltas, deltas, o);
  if (!best) return { periodMs: 0, regular: false };
  const n = deltas.length;
  const enough = n <= 2 ? best.fitting === n : best.fitting >= n - 1;
  return { periodMs: best.periodMs, regular: enough && fits(deltas[n - 1]!, best.periodMs, o) };
}

/**
 * The period most keys agree on, for keys with none of their own yet (one product line
 * reports at one cadence): at least three keys, two thirds of them fitting it. Candidates
 * are a few quantiles, so a thousand keys cost a few thousand comparisons, not a million.
 */
export function commonPeriod(periods: readonly number[], options: CadenceOptions = {}): number | undefined {
  if (periods.length < 3) return undefined;
  const o = { ...CADENCE_DEFAULTS, ...options };
  const sorted = [...periods].sort((a, b) => a - b);
  const candidates = [0, 0.1, 0.25, 0.5, 0.75].map((q) => sorted[Math.floor(q * (sorted.length - 1))]!);
  const best = bestFit(periods, candidates, o);
  return best && best.fitting * 3 >= periods.length * 2 ? best.periodMs : undefined;
}

function bestFit(values: readonly number[], candidates: readonly number[], o: Required<CadenceOptions>): { periodMs: number; fitting: number } | undefined {
  let best: { candidate: number; fitting: number[] } | undefined;
  for (const candidate of candidates) {
    if (!(candidate > 0)) continue;
    const fitting = values.filter((v) => fits(v, candidate, o));
    if (!best || fitting.length > best.fitting.length || (fitting.length === best.fitting.length && candidate > best.candidate)) {
      best = { candidate, fitting };
    }
  }
  if (!best) return undefined;
  const unit = best.candidate;
  return { periodMs: median(best.fitting.map((v) => v / Math.max(1, Math.round(v / unit)))), fitting: best.fitting.length };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
