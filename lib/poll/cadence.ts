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
 *   be a small multiple of the period (a missed report, or checks stretched by a budget), and
 *   may stray from it by the sensor's jitter (up to 35 % of the period). One delta is enough to
 *   plan on (a wrong guess costs one late reading, bounded by the heartbeat below); from three
 *   on, all but one must agree and the latest must. The period is the fitting deltas' total over
 *   the periods they span, so a jittery sensor's period is as exact as its span allows.
 *   A key with no period of its own yet may plan on a `hintPeriodMs` other keys agree on.
 * - Spread: how far each reading came from where the last one and the period planned with put
 *   it (signed, from the timestamps alone: the sensor's jitter, and the period's own error). A
 *   slot's first check goes at its 85th percentile, the re-check after a miss at the latest seen:
 *   one request per reading for a punctual sensor, at most one extra for a jittery one.
 * - Margin: how long after its timestamp a reading becomes visible (the API's lag): the 90th
 *   percentile of the last 8 samples, bounded (1-30 s). A reading found after a miss is sampled
 *   at its lag when the checks bracket it tightly, at twice the miss when they do not (so a lag
 *   that grew is caught up with in a few readings); one found at the first check only proves the
 *   margin was enough and is sampled at half of it, so the margin comes down again (halving
 *   every 8 readings) when the lag does.
 * - Fixed interval: no timestamps, irregular deltas, no period yet, or a period under 1.25
 *   intervals (as a budget stretches them): a sensor faster than the interval (it shows as one
 *   interval, or less) has a new reading at every round, and the round's own request hands the
 *   flow the freshest one each interval; the key follows the rounds.
 * - Heartbeat: a key is checked at least every min(5 intervals, 10 min), so a change of
 *   cadence is noticed (up to a margin and the spread later when a due check then serves as
 *   the heartbeat).
 * - Aliasing: checks only at due times cannot see readings between them, so a period that
 *   is really two periods (a report skipped while learning) would stick. A period is verified
 *   when it fits the period the account's keys agree on, or by the key itself: two deltas of
 *   it, one of them trusted (a check after mid-delta still saw the older reading, as the
 *   fixed interval's checks do). Until then, and again every 24 readings (a device of the
 *   account reporting twice as often as the others), one check goes mid-period: a sensor
 *   faster than the checks (each finds a new reading, so the period is only their gap) shows
 *   there, and its period halves until it is under 1.25 intervals, where the rounds take it.
 * - Late: a reading not there at its slot's first check is looked for once more, at the
 *   latest the spread has seen plus the margin (at least 5 % of the period after the first
 *   look, so a lag that spiked is caught); not there either (lost, or a device that
 *   stopped), the next look is the next slot's, and so on: a lost reading costs at most two
 *   requests, not a backoff series. While the period is tentative (one delta, or the hint) a
 *   miss as likely means a wrong period: the key is checked every interval until the next slot.
 *   Never two checks closer than the minimum margin: never a tight loop.
 */

export interface CadenceOptions {
  /** Reading-to-reading deltas kept for the period; default 8. */
  deltas?: number;
  /** Deltas agree when within this share of the period (the sensor's jitter)...; default 0.35. */
  tolerance?: number;
  /** ...or within this many ms, whichever is more; default 2 s. */
  toleranceMs?: number;
  /** Margin samples kept; default 8. */
  marginSamples?: number;
  /** Spread samples kept; default 16. */
  spreadSamples?: number;
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
  deltas: 8,
  tolerance: 0.35,
  toleranceMs: 2000,
  marginSamples: 8,
  spreadSamples: 16,
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
/** A learnt period further than this share from the one verified is a changed cadence (jitter moves it less). */
const PERIOD_CHANGE_SHARE = 0.1;
/** A period under this many intervals follows the rounds (see the header: fixed interval). */
const PLAN_FROM_INTERVALS = 1.25;
/** A slot's re-check goes at least this share of the period after the first (a lag that spiked is still caught). */
const RECHECK_SHARE = 0.05;
/** A slot's first check goes at this quantile of the spread. */
const FIRST_CHECK_QUANTILE = 0.85;

export class CadenceLearner {
  private readonly o: Required<CadenceOptions>;
  private lastReading?: number;
  private lastCheck?: number;
  private readonly deltas: number[] = [];
  private readonly samples: number[] = [];
  /** How far each reading came from where the one before and the period put it (signed ms). */
  private readonly spreads: number[] = [];
  private missing = false;
  /** Checks in the first slot after the newest reading that did not find the next one. */
  private slotMisses = 0;
  private own?: { periodMs: number; regular: boolean };
  /** The latest check that still saw `lastReading` as the newest. */
  private stillSeenAt?: number;
  /** Readings since the period was verified (see the header: aliasing); undefined: it is not. */
  private sinceVerified?: number;
  /** The period as it was when last verified: one that moved further than jitter could make it needs verifying again. */
  private verifiedPeriod?: number;
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
    return Math.min(this.o.maxMarginMs, Math.max(this.o.minMarginMs, quantile(this.samples, 0.9)));
  }

  /** Where a slot's first check and its re-check go, from where the period puts the reading (ms; 0 for a punctual sensor). */
  get spreadMs(): { first: number; latest: number } {
    const n = this.spreads.length;
    if (n === 0) return { first: 0, latest: 0 };
    const max = Math.max(...this.spreads);
    // n samples seldom hold the latest a reading can come: allow for the part of the range they leave unseen.
    return { first: quantile(this.spreads, FIRST_CHECK_QUANTILE), latest: max + (max - Math.min(...this.spreads)) / n };
  }

  /** The newest reading's time, and when the key was last checked. */
  get lastReadingAt(): number | undefined {
    return this.lastReading;
  }

  get lastCheckAt(): number | undefined {
    return this.lastCheck;
  }

  /**
   * True when the key plans its own checks; false when it follows the fixed interval. The interval
   * as the budget stretches it: a sensor faster than the stretched rounds shows as their period.
   */
  plans(intervalMs: number, context: CadenceContext = {}): boolean {
    const period = this.periodMs(context);
    return this.lastReading !== undefined && period !== undefined && period >= PLAN_FROM_INTERVALS * intervalMs * stretchOf(context);
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
        this.spreads.length = 0;
        this.own = undefined;
        this.sinceVerified = undefined;
        this.verifiedPeriod = undefined;
      }
      this.lastReading = readingTimeMs;
      this.stillSeenAt = observedAtMs;
      this.slotMisses = 0;
      this.readings++;
      return true;
    }
    const period = this.periodMs(context);
    if (readingTimeMs === last) {
      if (period !== undefined && this.slotOf(observedAtMs, period) === 1) this.slotMisses++;
      this.stillSeenAt = Math.max(this.stillSeenAt ?? observedAtMs, observedAtMs);
      return false;
    }
    if (previousCheck !== undefined) this.sampleMargin(readingTimeMs, observedAtMs, previousCheck);
    const delta = readingTimeMs - last;
    // No reading fell between: a check after mid-delta still saw the last one.
    const trusted = this.stillSeenAt !== undefined && this.stillSeenAt >= last + delta / 2 + this.marginMs;
    this.deltas.push(delta);
    if (this.deltas.length > this.o.deltas) this.deltas.shift();
    const own = fitPeriod(this.deltas, this.o)!;
    this.own = own;
    const learnt = own.regular ? own.periodMs : undefined;
    // How far off the plan's prediction (the period it planned with) this reading came.
    if (period !== undefined && learnt !== undefined && fits(delta, period, this.o)) {
      this.spreads.push(delta - Math.max(1, Math.round(delta / period)) * period);
      if (this.spreads.length > this.o.spreadSamples) this.spreads.shift();
    }
    const onePeriod = learnt !== undefined && this.isOnePeriod(delta, learnt);
    // Deltas fit within the jitter; the period itself moves further only when the cadence changed.
    const anchor = this.verifiedPeriod;
    const changed = learnt === undefined || anchor === undefined || Math.abs(learnt - anchor) > PERIOD_CHANGE_SHARE * anchor;
    if (onePeriod && trusted && this.deltas.filter((d) => this.isOnePeriod(d, learnt!)).length >= 2) {
      this.sinceVerified = 0; // verified by the key itself
      this.verifiedPeriod = learnt;
    } else if (onePeriod && (changed || this.sinceVerified === undefined) && this.agreed(learnt!, context)) {
      this.sinceVerified = 0; // vouched for by the account's keys, until the next look mid-period
      this.verifiedPeriod = learnt;
    } else if (changed) {
      this.sinceVerified = undefined;
    } else if (this.sinceVerified !== undefined) {
      this.sinceVerified++;
    }
    this.stillSeenAt = observedAtMs;
    this.lastReading = readingTimeMs;
    // Found a slot late (the next reading is due already): that look missed the next slot's.
    const planned = this.periodMs(context);
    this.slotMisses = planned !== undefined && this.slotOf(observedAtMs, planned) === 1 ? 1 : 0;
    this.readings++;
    return true;
  }

  /** The slot a check at `at` looked in: 0 before the next reading's first check, 1 from it to the one after's, ... */
  private slotOf(at: number, period: number): number {
    return Math.max(0, Math.floor((at - this.lastReading! - this.spreadMs.first - this.marginMs) / period));
  }

  private isOnePeriod(delta: number, period: number): boolean {
    return Math.round(delta / period) === 1 && fits(delta, period, this.o);
  }

  /** The period fits the one the account's keys agree on. */
  private agreed(period: number, context: CadenceContext): boolean {
    return context.hintPeriodMs !== undefined && this.isOnePeriod(period, context.hintPeriodMs);
  }

  /**
   * How long after its timestamp a reading became visible. A reading found by the first check
   * after its timestamp only proves the margin was enough: it is sampled at half of it, so the
   * margin probes downward. One found after a look that missed it is bracketed between the miss
   * and the find: sampled at the find when the bracket is tight, else at twice the miss (plus the
   * minimum margin), so a lag that grew is caught up with in a few readings without a late find
   * taking the margin further than the lag.
   */
  private sampleMargin(reading: number, observedAt: number, previousCheck: number): void {
    const after = observedAt - reading;
    if (after < 0) return;
    const missedBy = previousCheck - reading;
    let sample: number;
    if (missedBy < 0) sample = Math.min(after, this.marginMs) / 2;
    else sample = Math.min(after, 2 * missedBy + this.o.minMarginMs);
    this.samples.push(sample);
    if (this.samples.length > this.o.marginSamples) this.samples.shift();
  }

  private needsProbe(): boolean {
    // Planning on the period the account's keys agree on: vouched for by them.
    if (!this.own) return false;
    return this.sinceVerified === undefined || this.sinceVerified >= REVERIFY_READINGS;
  }

  /**
   * When the key next needs a request. Fixed interval: the last check + the interval (the
   * scheduler's rounds do it). Planned: the next slot's first check (just after the next reading
   * is due, as far into the spread as it usually comes), after a miss the one re-check, never
   * after the heartbeat, never sooner than the minimum margin.
   */
  nextCheckAt(now: number, intervalMs: number, context: CadenceContext = {}): number {
    const lastCheck = this.lastCheck;
    if (lastCheck === undefined) return now;
    const stretch = stretchOf(context);
    if (!this.plans(intervalMs, context)) return lastCheck + intervalMs * stretch;
    const period = this.periodMs(context)!;
    const last = this.lastReading!;
    const margin = this.marginMs;
    const spread = this.spreadMs;
    const heartbeat = this.heartbeatMs(intervalMs, context);
    const slotAt = (n: number) => last + n * period + spread.first + margin;
    const slot = this.slotOf(lastCheck, period);
    let plan: number;
    if (slot === 0) {
      plan = slotAt(1);
      // A budget stretches the gaps: the next check waits for it, then takes the reading due.
      if (stretch > 1) plan = Math.max(plan, lastCheck + Math.min(period, this.heartbeatMs(intervalMs)) * stretch);
      else if (this.needsProbe()) {
        const mid = last + period / 2 + margin;
        if ((this.stillSeenAt ?? lastCheck) < mid) plan = mid;
      }
    } else if (slot === 1 && (this.deltas.length < 2 || this.slotMisses < 2)) {
      // Missed at the slot's first check. On a period from one delta or from other keys, a miss
      // as likely means a wrong period: every interval until the next slot. Otherwise one
      // re-check at the latest the spread has seen, then the next slot.
      const recheck = this.deltas.length < 2
        ? lastCheck + intervalMs * stretch
        : Math.max(last + period + spread.latest + margin, lastCheck + Math.max(margin, RECHECK_SHARE * period));
      plan = Math.min(recheck, slotAt(2));
    } else {
      // Lost (or a device that stopped): the next slot's first check, each later one too.
      plan = slotAt(slot + 1);
    }
    // The heartbeat waits for a due check up to the margin and the spread, which then serves as
    // both: a heartbeat just before the reading is visible would only add a late re-check.
    const allowance = margin + Math.max(0, spread.latest);
    const latest = plan > lastCheck + heartbeat && plan <= lastCheck + heartbeat + allowance ? plan : lastCheck + heartbeat;
    return Math.max(Math.min(plan, latest), lastCheck + this.o.minMarginMs);
  }
}

function stretchOf(context: CadenceContext): number {
  return context.stretch !== undefined && context.stretch > 1 ? context.stretch : 1;
}

/** A delta of one to MAX_MULTIPLE periods, off by no more than the jitter allows (which does not grow with the multiple). */
function fits(delta: number, period: number, o: Required<CadenceOptions>): boolean {
  const k = Math.max(1, Math.round(delta / period));
  if (k > MAX_MULTIPLE) return false;
  return Math.abs(delta - k * period) <= Math.max(o.tolerance * period, o.toleranceMs);
}

/**
 * The period the deltas agree on: each delta is tried as the period, the one most deltas fit
 * (as one to four periods) wins, the longer on a tie. Regular when all fit (up to two deltas)
 * or all but one (three on), the latest included, and the readings keep to the grid (onGrid).
 */
export function fitPeriod(deltas: readonly number[], options: CadenceOptions = {}): { periodMs: number; regular: boolean } | undefined {
  const o = { ...CADENCE_DEFAULTS, ...options };
  if (deltas.length === 0) return undefined;
  const best = bestFit(deltas, deltas, o);
  if (!best) return { periodMs: 0, regular: false };
  const n = deltas.length;
  const enough = n <= 2 ? best.fitting === n : best.fitting >= n - 1;
  // The fitting deltas' total over the periods they span: a jittery sensor's errors cancel out.
  const fitting = deltas.filter((d) => fits(d, best.periodMs, o));
  const spanned = fitting.reduce((sum, d) => sum + Math.max(1, Math.round(d / best.periodMs)), 0);
  const periodMs = spanned > 0 ? fitting.reduce((sum, d) => sum + d, 0) / spanned : best.periodMs;
  return { periodMs, regular: enough && fits(deltas[n - 1]!, periodMs, o) && onGrid(deltas, periodMs, o) };
}

/**
 * A jittery sensor keeps to its grid: the readings' offsets from where the period puts them stay
 * within the tolerance however many readings pass, while deltas that fit only by chance (an
 * irregular sensor) drift off it. Walks the deltas adding up each one's offset from its multiple
 * of the period; one that does not fit starts the walk again.
 */
function onGrid(deltas: readonly number[], period: number, o: Required<CadenceOptions>): boolean {
  let offset = 0;
  for (const d of deltas) {
    if (!fits(d, period, o)) {
      offset = 0;
      continue;
    }
    offset += d - Math.max(1, Math.round(d / period)) * period;
    if (Math.abs(offset) > Math.max(o.tolerance * period, o.toleranceMs)) return false;
  }
  return true;
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

/** The nearest-rank quantile `q` of `values` (not empty). */
function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)]!;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
