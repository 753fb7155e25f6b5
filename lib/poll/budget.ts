/**
 * The account's request budget: how many requests the scheduler may start in any rolling
 * hour, and how its polls are spread to stay under it. Pure (clock values passed in, no
 * timers): the scheduler owns the timers and asks here.
 *
 * Three limits, the lowest one working:
 * - `budget`: the one configured (requests per hour).
 * - `rate-limited`: a 429 lowers the working budget for an hour (see `loweredBudget`).
 * - `api-limit`: rate-limit headers (lib/api/rate-limit.ts) cap it to what the API allows:
 *   the remaining requests spread until the reset, and the policy's quota per window.
 *
 * Planning: the keys' need (requests per hour) is compared with 90 % of the working budget
 * (the rest absorbs late re-checks, retries and msgs that asked); over it, every key's
 * interval is stretched by one factor, alert checks first (see `stretchFactors`).
 * Enforcing: a rolling-hour count against the configured budget (per-second buckets, counted
 * conservatively) and the API's own remaining/reset gate: a request that would break either
 * waits, it is never dropped. A lowered budget and the API's policy rate only plan.
 */
import type { RateLimitInfo } from '../api/rate-limit';

export const HOUR_MS = 3_600_000;
/** A budget never goes below one request a minute: every key is still read, slowly. */
export const MIN_BUDGET_PER_HOUR = 60;
/** The share of the working budget the plan fills. */
export const PLAN_SHARE = 0.9;
/** The share of the plan kept for other keys however much alert checks need. */
export const OTHERS_MIN_SHARE = 0.1;
/** A 429 lowers the working budget for this long (each further 429 extends it). */
export const RATE_LIMITED_FOR_MS = HOUR_MS;
/** 429s within this long of a lowering are echoes of the same overload: not lowered again. */
export const RATE_LIMIT_HOLD_MS = 60_000;

export type BudgetReason = 'budget' | 'rate-limited' | 'api-limit';

export interface BudgetState {
  /** The configured budget (requests per hour); undefined: none. */
  perHour?: number;
  /** The budget the scheduler works with now (the lowest limit), undefined: none. */
  effectivePerHour?: number;
  /** Which limit sets `effectivePerHour`. */
  reason?: BudgetReason;
  /** A 429 lowered the budget until then (epoch ms). */
  loweredUntil?: number;
  /** Requests per hour the subscribed keys need at their own intervals. */
  neededPerHour: number;
  /** Requests per hour planned after stretching. */
  plannedPerHour: number;
  /** Every interval of a key other than alert checks is this many times longer (1: none). */
  stretch: number;
  /** The same for alert checks (1 unless they alone exceed the budget). */
  alertsStretch: number;
}

export interface Need {
  alerts: number;
  others: number;
}

export interface Stretch {
  alerts: number;
  others: number;
}

/**
 * One factor per priority so the total stays within PLAN_SHARE of `perHour`. Alert checks
 * are served first: their need comes off the top, the others share the rest (at least
 * OTHERS_MIN_SHARE of it, so no key is starved), and alert checks are stretched only if they
 * alone need more than the rest leaves them.
 */
export function stretchFactors(need: Need, perHour: number | undefined): Stretch {
  if (perHour === undefined) return { alerts: 1, others: 1 };
  const plan = perHour * PLAN_SHARE;
  if (need.alerts + need.others <= plan) return { alerts: 1, others: 1 };
  const othersShare = need.others > 0 ? Math.max(plan - need.alerts, plan * OTHERS_MIN_SHARE) : 0;
  const alertsShare = plan - othersShare;
  return {
    alerts: need.alerts > alertsShare ? need.alerts / alertsShare : 1,
    others: need.others > othersShare ? need.others / othersShare : 1,
  };
}

/**
 * The working budget after a 429: 80 % of the rate observed over the last hour, or half the
 * configured budget, whichever is lower (with no configured budget, the observed rate alone
 * sets one); lower again than a budget already lowered; never under MIN_BUDGET_PER_HOUR.
 */
export function loweredBudget(observedPerHour: number, configuredPerHour: number | undefined, currentPerHour: number | undefined): number {
  let lowered = 0.8 * observedPerHour;
  if (configuredPerHour !== undefined) lowered = Math.min(lowered, configuredPerHour / 2);
  if (currentPerHour !== undefined) lowered = Math.min(lowered, 0.8 * currentPerHour);
  return Math.max(MIN_BUDGET_PER_HOUR, Math.floor(lowered));
}

const BUCKET_MS = 1000;

/**
 * Requests started in the last hour, counted in one-second buckets: at most 3,600 numbers
 * however many requests. A bucket leaves the window a whole hour after its end, so the
 * count errs high, never low: the budget holds.
 */
export class RequestWindow {
  private buckets: Array<{ at: number; n: number }> = [];
  private total = 0;
  private firstAt?: number;

  record(now: number): void {
    const at = Math.floor(now / BUCKET_MS) * BUCKET_MS;
    const lastBucket = this.buckets[this.buckets.length - 1];
    // A clock stepping back counts in the newest bucket (and so leaves later, not sooner).
    if (lastBucket && lastBucket.at >= at) lastBucket.n++;
    else this.buckets.push({ at, n: 1 });
    this.total++;
    this.firstAt ??= now;
  }

  count(now: number): number {
    let drop = 0;
    while (drop < this.buckets.length && this.buckets[drop]!.at + BUCKET_MS + HOUR_MS <= now) this.total -= this.buckets[drop++]!.n;
    if (drop > 0) this.buckets = this.buckets.slice(drop);
    return this.total;
  }

  /** When fewer than `limit` requests are in the window (now, if already). */
  freeAt(now: number, limit: number): number {
    let count = this.count(now);
    if (count < limit) return now;
    for (const bucket of this.buckets) {
      count -= bucket.n;
      if (count < limit) return bucket.at + BUCKET_MS + HOUR_MS;
    }
    return now;
  }

  /** Requests per hour over the last hour (over the time since the first request, if shorter; at least a minute). */
  ratePerHour(now: number): number {
    const count = this.count(now);
    if (this.firstAt === undefined) return 0;
    const span = Math.min(HOUR_MS, Math.max(60_000, now - this.firstAt));
    return (count * HOUR_MS) / span;
  }
}

/**
 * The account's limits and the request window. `mayStart` / `nextStartAt` enforce,
 * `planningPerHour` plans; `expire` drops a lowering or an API window that has run out.
 */
export class RequestBudget {
  readonly window = new RequestWindow();
  private configured?: number;
  private lowered?: { perHour: number; until: number; at: number };
  /** The API's window: requests left until the reset. */
  private gate?: { remaining: number; resetAt: number };
  /** The API's policy as a rate, until an hour after it was last announced. */
  private policy?: { perHour: number; until: number };

  constructor(perHour?: number) {
    this.setConfigured(perHour);
  }

  setConfigured(perHour: number | undefined): void {
    if (perHour !== undefined && !(Number.isFinite(perHour) && perHour >= 1)) {
      throw new RangeError(`a request budget must be at least 1 per hour, got ${perHour}`);
    }
    this.configured = perHour === undefined ? undefined : Math.floor(perHour);
  }

  get configuredPerHour(): number | undefined {
    return this.configured;
  }

  /**
   * The hard limit on the rolling hour: the configured budget. A lowered one only plans (it
   * stretches the intervals at once): as a hard limit it would stop every poll until the
   * last hour's requests had drained below it.
   */
  private hourLimit(): number | undefined {
    return this.configured;
  }

  /** A request the scheduler started (or a msg asked for). */
  record(now: number): void {
    this.window.record(now);
    if (this.gate && now < this.gate.resetAt) this.gate.remaining = Math.max(0, this.gate.remaining - 1);
  }

  mayStart(now: number): boolean {
    return this.nextStartAt(now) <= now;
  }

  /** The earliest time a request may start without breaking a limit. */
  nextStartAt(now: number): number {
    const limit = this.hourLimit();
    let at = limit === undefined ? now : this.window.freeAt(now, limit);
    if (this.gate && now < this.gate.resetAt && this.gate.remaining <= 0) at = Math.max(at, this.gate.resetAt);
    return at;
  }

  /**
   * A 429: lowers the working budget for an hour. `plannedPerHour` is the rate the plan
   * polls at: the observed rate is the higher of it and the window's count (minutes after a
   * deploy the count alone says little). Returns true when it changed.
   */
  rateLimited(now: number, plannedPerHour = 0): boolean {
    if (this.lowered && now - this.lowered.at < RATE_LIMIT_HOLD_MS) return false;
    const current = this.lowered && now < this.lowered.until ? this.lowered.perHour : undefined;
    const observed = Math.max(this.window.ratePerHour(now), plannedPerHour);
    const perHour = loweredBudget(observed, this.configured, current);
    this.lowered = { perHour: min(perHour, current)!, until: now + RATE_LIMITED_FOR_MS, at: now };
    return true;
  }

  /** What the API's headers said. Returns true when the planning rate moved by more than 5 %. */
  noteApiLimit(info: RateLimitInfo, now: number): boolean {
    const before = this.planningPerHour(now);
    if (info.remaining !== undefined && info.resetMs !== undefined) {
      this.gate = { remaining: Math.floor(info.remaining), resetAt: now + info.resetMs };
    }
    if (info.limit !== undefined && info.windowMs !== undefined && info.windowMs > 0) {
      this.policy = { perHour: (info.limit * HOUR_MS) / info.windowMs, until: now + Math.max(HOUR_MS, info.windowMs) };
    }
    const after = this.planningPerHour(now);
    if (before === after) return false;
    if (before === undefined || after === undefined) return true;
    return Math.abs(after - before) > 0.05 * before;
  }

  /** The API's limits as a rate: the remaining requests spread until the reset, the policy's quota. */
  private apiPerHour(now: number): number | undefined {
    const spread = this.gate && now < this.gate.resetAt
      ? (this.gate.remaining * HOUR_MS) / Math.max(1000, this.gate.resetAt - now)
      : undefined;
    const policy = this.policy && now < this.policy.until ? this.policy.perHour : undefined;
    return min(spread, policy);
  }

  /**
   * The budget the plan works with: the lowest limit. A 429 or the API's limits never take it
   * under MIN_BUDGET_PER_HOUR (every key still read, slowly); a configured budget may be lower.
   */
  planningPerHour(now: number): number | undefined {
    const lowered = this.lowered && now < this.lowered.until ? this.lowered.perHour : undefined;
    const learnt = min(lowered, this.apiPerHour(now));
    return min(this.configured, learnt === undefined ? undefined : Math.max(MIN_BUDGET_PER_HOUR, learnt));
  }

  /** Drops what has run out. Returns true when something did. */
  expire(now: number): boolean {
    let changed = false;
    if (this.lowered && now >= this.lowered.until) {
      this.lowered = undefined;
      changed = true;
    }
    if (this.gate && now >= this.gate.resetAt) {
      this.gate = undefined;
      changed = true;
    }
    if (this.policy && now >= this.policy.until) {
      this.policy = undefined;
      changed = true;
    }
    return changed;
  }

  /** When `expire` next has something to do. */
  nextChangeAt(): number | undefined {
    return min(this.lowered?.until, this.gate?.resetAt, this.policy?.until);
  }

  state(now: number): Pick<BudgetState, 'perHour' | 'effectivePerHour' | 'reason' | 'loweredUntil'> {
    const effective = this.planningPerHour(now);
    const out: Pick<BudgetState, 'perHour' | 'effectivePerHour' | 'reason' | 'loweredUntil'> = {};
    if (this.configured !== undefined) out.perHour = this.configured;
    if (effective === undefined) return out;
    out.effectivePerHour = Math.round(effective);
    const lowered = this.lowered && now < this.lowered.until ? this.lowered : undefined;
    if (lowered) out.loweredUntil = lowered.until;
    const api = this.apiPerHour(now);
    if (api !== undefined && api < (min(this.configured, lowered?.perHour) ?? Infinity)) out.reason = 'api-limit';
    else if (lowered && lowered.perHour < (this.configured ?? Infinity)) out.reason = 'rate-limited';
    else out.reason = 'budget';
    return out;
  }
}

function min(...values: Array<number | undefined>): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined && (out === undefined || v < out)) out = v;
  return out;
}
