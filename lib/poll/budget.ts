/**
 * The account's request budget: how many requests the scheduler may start in any rolling
 * hour, and how its polls are spread to stay under it. Pure (clock values passed in, no
 * timers): the scheduler owns the timers and asks here.
 *
 * Three limits, the lowest one working:
 * - `budget`: the one configured (requests per hour).
 * - the pace (`rate-limited`, then `rate-recovering` once it rises): a 429 lowers the working budget
 *   multiplicatively towards the floor at which alert checks keep their interval, and it rises
 *   again additively while no further 429 comes, as TCP treats congestion (AIMD, see `Pace`).
 * - `api-limit`: rate-limit headers (lib/api/rate-limit.ts) cap it to what the API allows:
 *   the remaining requests spread until the reset, and the policy's quota per window.
 *
 * Planning: the keys' need (requests per hour) is compared with 90 % of the working budget
 * (the rest absorbs late re-checks, retries and msgs that asked); over it, every key's
 * interval is stretched by one factor, alert checks first (see `stretchFactors`).
 * Enforcing: a rolling-hour count against the configured budget (per-second buckets, counted
 * conservatively) and the API's own remaining/reset gate: a request that would break either
 * waits, it is never dropped. The pace and the API's policy rate only plan.
 */
import type { RateLimitInfo } from '../api/rate-limit';

export const HOUR_MS = 3_600_000;
/** A budget never goes below one request a minute: every key is still read, slowly. */
export const MIN_BUDGET_PER_HOUR = 60;
/** The share of the working budget the plan fills. */
export const PLAN_SHARE = 0.9;
/** The share of the plan kept for other keys however much alert checks need. */
export const OTHERS_MIN_SHARE = 0.1;
/** A 429 multiplies the pace's part above the floor by this (the multiplicative decrease). */
export const PACE_CUT = 0.75;
/**
 * 429s within this long of a cut (or before the reset it waited for, if later) are the same
 * overload: the requests they answer were planned before the cut showed. They neither cut again
 * nor stop the pace rising. (A rate-independent share of 429s, as a fault gives, is so met with a
 * pace sawing between PACE_CUT and the plan, not ratcheting down: the recovery below is shorter
 * than the hold.)
 */
export const PACE_HOLD_MS = 20_000;
/** The pace rises every this long (the additive increase)... */
export const PACE_STEP_MS = 5_000;
/** ...by the share of the rate before the first cut that brings it back from nothing in this long. */
export const PACE_RECOVERY_MS = 60_000;
/**
 * A window with nothing remaining plans as a rate only when its reset is this far off: a pause
 * of seconds (a 429's reset) is waited out at the gate, it is no pace to stretch the intervals to.
 */
export const GATE_PLANS_AFTER_MS = 60_000;

export type BudgetReason = 'budget' | 'rate-limited' | 'rate-recovering' | 'api-limit';

export interface BudgetState {
  /** The configured budget (requests per hour); undefined: none. */
  perHour?: number;
  /** The budget the scheduler works with now (the lowest limit), undefined: none. */
  effectivePerHour?: number;
  /** Which limit sets `effectivePerHour`. */
  reason?: BudgetReason;
  /** The last 429 that cut the pace (epoch ms), while the pace is below the rate before it. */
  rateLimitedAt?: number;
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
  // Alert checks keep their interval while they leave the others their minimum (compared with a
  // hair of slack: a pace at its floor leaves exactly that, and rounding must not stretch them).
  const othersMin = need.others > 0 ? plan * OTHERS_MIN_SHARE : 0;
  const alertsFit = plan - need.alerts >= othersMin * (1 - 1e-9);
  const othersShare = need.others > 0 ? (alertsFit ? plan - need.alerts : othersMin) : 0;
  return {
    alerts: alertsFit ? 1 : need.alerts / (plan - othersShare),
    others: need.others > othersShare ? need.others / othersShare : 1,
  };
}

/**
 * The lowest working budget a 429 may cut the pace to: alert checks keep their interval (their
 * need within the plan's share left after the others' minimum). The plan itself never goes under
 * MIN_BUDGET_PER_HOUR.
 */
export function paceFloor(alertsPerHour: number): number {
  return alertsPerHour / (PLAN_SHARE * (1 - OTHERS_MIN_SHARE));
}

/**
 * The pace a 429 set (AIMD): the working budget's part above the floor cut to PACE_CUT of it at
 * `at` (alert checks come off the top of the plan: what is cut is what the others have), rising by
 * `step` every PACE_STEP_MS until it reaches `full` (the rate before the first cut), where it ends.
 */
export class Pace {
  private constructor(
    private readonly cutTo: number,
    readonly at: number,
    readonly holdUntil: number,
    readonly full: number,
    private readonly step: number,
  ) {}

  /**
   * A 429 at `now`: the pace from `current` (the working budget now) cut, no lower than `floor`;
   * `full` is the rate the pace returns to (kept from an earlier cut). Undefined when the floor
   * leaves nothing to cut.
   */
  static cut(now: number, current: number, full: number, floor: number, resetAt = now): Pace | undefined {
    const to = floor + PACE_CUT * Math.max(0, current - floor);
    if (to >= full) return undefined;
    return new Pace(to, now, Math.max(now + PACE_HOLD_MS, resetAt), full, (full * PACE_STEP_MS) / PACE_RECOVERY_MS);
  }

  perHour(now: number, floor: number): number {
    const steps = Math.max(0, Math.floor((now - this.at) / PACE_STEP_MS));
    return Math.max(floor, Math.min(this.full, this.cutTo + steps * this.step));
  }

  /** It has risen since the cut (the status says it speeds up again). */
  rising(now: number): boolean {
    return now - this.at >= PACE_STEP_MS;
  }

  /** Back at the rate before the first cut: the pace is over. */
  over(now: number, floor: number): boolean {
    return this.perHour(now, floor) >= this.full;
  }

  /** When it next rises. */
  nextStepAt(now: number): number {
    return this.at + (Math.max(0, Math.floor((now - this.at) / PACE_STEP_MS)) + 1) * PACE_STEP_MS;
  }
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
 * `planningPerHour` plans; `expire` drops a pace or an API window that has run out.
 */
export class RequestBudget {
  readonly window = new RequestWindow();
  private configured?: number;
  private pace?: Pace;
  /** The lowest the pace goes (see paceFloor): set by the planner from the alert checks' need. */
  private floor = 0;
  /** The last cut's hold: 429s before it are echoes (kept past the pace's end: it may rise back sooner). */
  private holdUntil = -Infinity;
  /** The API's window: requests left until the reset; `plans`: it stretches the intervals too. */
  private gate?: { remaining: number; resetAt: number; plans: boolean };
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

  /** The pace's floor: the working budget at which alert checks still keep their interval. */
  setPaceFloor(perHour: number): void {
    this.floor = Math.max(0, perHour);
  }

  /**
   * The hard limit on the rolling hour: the configured budget. The pace only plans (it
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
   * A 429: the pace is cut (see Pace), unless it is an echo of the last cut's overload.
   * `plannedPerHour` is the rate the plan polls at before the cut. Returns true when it changed.
   */
  rateLimited(now: number, plannedPerHour: number): boolean {
    this.expire(now);
    if (now < this.holdUntil) return false;
    const current = this.pace?.perHour(now, this.floor) ?? min(this.configured, plannedPerHour / PLAN_SHARE) ?? 0;
    const resetAt = this.gate && this.gate.remaining <= 0 ? this.gate.resetAt : now;
    const pace = Pace.cut(now, current, this.pace?.full ?? current, this.floor, resetAt);
    if (!pace) return false;
    this.pace = pace;
    this.holdUntil = pace.holdUntil;
    return true;
  }

  /** What the API's headers said. Returns true when the planning rate moved by more than 5 %. */
  noteApiLimit(info: RateLimitInfo, now: number): boolean {
    const before = this.planningPerHour(now);
    if (info.remaining !== undefined && info.resetMs !== undefined) {
      this.gate = { remaining: Math.floor(info.remaining), resetAt: now + info.resetMs, plans: info.remaining > 0 || info.resetMs >= GATE_PLANS_AFTER_MS };
    }
    if (info.limit !== undefined && info.windowMs !== undefined && info.windowMs > 0) {
      this.policy = { perHour: (info.limit * HOUR_MS) / info.windowMs, until: now + Math.max(HOUR_MS, info.windowMs) };
    }
    const after = this.planningPerHour(now);
    if (before === after) return false;
    if (before === undefined || after === undefined) return true;
    return Math.abs(after - before) > 0.05 * before;
  }

  /**
   * The API's limits as a rate: the remaining requests spread until the reset (a window with
   * nothing left only when its reset was GATE_PLANS_AFTER_MS off or more: a shorter pause is
   * waited out at the gate), the policy's quota.
   */
  private apiPerHour(now: number): number | undefined {
    const gate = this.gate && now < this.gate.resetAt && this.gate.plans ? this.gate : undefined;
    const spread = gate ? (gate.remaining * HOUR_MS) / Math.max(1000, gate.resetAt - now) : undefined;
    const policy = this.policy && now < this.policy.until ? this.policy.perHour : undefined;
    return min(spread, policy);
  }

  private pacePerHour(now: number): number | undefined {
    return this.pace && !this.pace.over(now, this.floor) ? this.pace.perHour(now, this.floor) : undefined;
  }

  /**
   * The budget the plan works with: the lowest limit. The pace or the API's limits never take
   * it under MIN_BUDGET_PER_HOUR (every key still read, slowly); a configured budget may be lower.
   */
  planningPerHour(now: number): number | undefined {
    const learnt = min(this.pacePerHour(now), this.apiPerHour(now));
    return min(this.configured, learnt === undefined ? undefined : Math.max(MIN_BUDGET_PER_HOUR, learnt));
  }

  /** Drops what has run out. Returns true when something did. */
  expire(now: number): boolean {
    let changed = false;
    if (this.pace && this.pace.over(now, this.floor)) {
      this.pace = undefined;
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

  /** When `expire` or the pace next has something to do (the pace rises, or its hold ends). */
  nextChangeAt(now: number): number | undefined {
    const hold = this.pace && this.pace.holdUntil > now ? this.pace.holdUntil : undefined;
    return min(this.pace?.nextStepAt(now), hold, this.gate?.resetAt, this.policy?.until);
  }

  state(now: number): Pick<BudgetState, 'perHour' | 'effectivePerHour' | 'reason' | 'rateLimitedAt'> {
    const effective = this.planningPerHour(now);
    const out: Pick<BudgetState, 'perHour' | 'effectivePerHour' | 'reason' | 'rateLimitedAt'> = {};
    if (this.configured !== undefined) out.perHour = this.configured;
    if (effective === undefined) return out;
    out.effectivePerHour = Math.round(effective);
    const pace = this.pacePerHour(now);
    if (pace !== undefined) out.rateLimitedAt = this.pace!.at;
    const api = this.apiPerHour(now);
    if (api !== undefined && api < (min(this.configured, pace) ?? Infinity)) out.reason = 'api-limit';
    else if (pace !== undefined && pace < (this.configured ?? Infinity)) out.reason = this.pace!.rising(now) ? 'rate-recovering' : 'rate-limited';
    else out.reason = 'budget';
    return out;
  }
}

function min(...values: Array<number | undefined>): number | undefined {
  let out: number | undefined;
  for (const v of values) if (v !== undefined && (out === undefined || v < out)) out = v;
  return out;
}
