/**
 * A key's requests: started by a round's visit, a planned check or a retry; what their answers
 * and failures mean for the key (which answer is the interval's `round` value, which is news, how
 * soon a failure is tried again); and handing the result to the key's listeners (delivery.ts) and
 * to whoever shares the answers (`onAnswer`).
 */
import { isLeapcraftError, LeapcraftError } from '../api/errors';
import type { BudgetPlanner } from './budget-planner';
import type { Answer, AnswerMeta } from './delivery';
import type { KeyPlans } from './key-plans';
import { invoke } from './shared-fetch';
import type { Entry, Group, Reason } from './types';

/** Early retries back off to once a minute at most. */
const EARLY_RETRY_MAX_MS = 60_000;

/** Failures worth retrying before the next round: the API or the way to it, not the request. */
const TRANSIENT_CODES = new Set(['LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_BAD_RESPONSE', 'LEAPCRAFT_AUTH']);

export interface RequestsHost {
  now(): number;
  /** False once the scheduler is closed. */
  open(): boolean;
  /** False once closed, or while another process fetches for this one. */
  fetching(): boolean;
  /** The group's interval under the budget. */
  intervalOf(group: Group): number;
  /** A request started (counted for tests and benchmarks). */
  started(): void;
  /** False: no scheduled request may start or deliver now (see SchedulerOptions.mayFetch). */
  mayFetch(): boolean;
  /** Every answer delivered, to share. */
  onAnswer(answer: Answer): void;
  onListenerError(err: unknown): void;
}

export class KeyRequests {
  constructor(
    private readonly host: RequestsHost,
    private readonly planner: BudgetPlanner,
    private readonly plans: KeyPlans,
    /** The first early retry of a failed key, doubling after. */
    private readonly firstRetryMs: number,
  ) {}

  /** Drops what the key has under way or waiting: its request, its deferred retry. */
  stop(entry: Entry): void {
    clearTimeout(entry.deferTimer);
    entry.deferTimer = undefined;
    this.planner.cancel(entry.slot);
    entry.slot = undefined;
    entry.inFlight?.controller.abort();
  }

  /** Starts the key's request (the caller checked it may). */
  run<T>(entry: Entry<T>, now: number, reason: Reason): void {
    if (!this.host.mayFetch()) {
      entry.roundOwed ||= reason === 'round';
      return;
    }
    const controller = new AbortController();
    this.host.started();
    this.planner.record(now);
    const promise = invoke(entry.fetch, controller.signal);
    entry.inFlight = { controller, promise };
    promise.then(
      (value) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        if (!this.host.mayFetch()) return this.failed(entry, undefined, true);
        this.answered(entry, value, reason);
      },
      (err: unknown) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        this.failed(entry, err, controller.signal.aborted);
      },
    );
  }

  private answered<T>(entry: Entry<T>, value: T, reason: Reason): void {
    const news = this.plans.observe(entry, value, this.host.now(), (err) => this.host.onListenerError(err));
    const wasFailing = entry.audience.failure !== undefined;
    entry.failuresInRow = undefined;
    this.plans.stale(entry as Entry);
    const owed = reason === 'round' || entry.roundOwed;
    entry.roundOwed = false;
    // Between visits only a new reading (or the end of a failure) is news.
    const meta = owed ? { round: true, news } : news || wasFailing ? { round: false, news } : undefined;
    this.deliver(entry, value, this.host.now(), meta, true);
    this.afterCadenceCheck(entry as Entry);
  }

  private failed<T>(entry: Entry<T>, err: unknown, aborted: boolean): void {
    if (aborted || (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED')) {
      // Cancelled by someone else (the client closing): no answer, so no plan; the rounds
      // take the key, and no off-round check comes before the next interval.
      if (entry.cadence) entry.cadence.holdUntil = this.host.now() + this.host.intervalOf(entry.group);
      this.afterCadenceCheck(entry as Entry);
      return;
    }
    if (isRateLimited(err)) {
      this.planner.rateLimited();
      if (err.retryAfterMs) this.defer(entry, err.retryAfterMs);
    } else if ((!entry.audience.last || entry.retryFailures) && isLeapcraftError(err) && TRANSIENT_CODES.has(err.code)) {
      // Try again soon, backing off, but never later than the round would.
      entry.failuresInRow = (entry.failuresInRow ?? 0) + 1;
      const waitMs = Math.min(EARLY_RETRY_MAX_MS, (this.firstRetryMs) * 2 ** (entry.failuresInRow - 1));
      if (waitMs < entry.group.intervalMs) this.defer(entry, waitMs);
    }
    // The visit this answer was owed to got a failure: the next value stands in for it.
    entry.roundOwed = true;
    entry.audience.failed(err, this.host.now());
    this.host.onAnswer({ kind: 'failure', key: entry.key, intervalMs: entry.group.intervalMs, error: err, at: this.host.now(), fetched: true });
    this.plans.stale(entry as Entry);
    // A failing key follows the rounds: its off-round check is dropped.
    this.afterCadenceCheck(entry as Entry);
  }

  deliver<T>(entry: Entry<T>, value: T, at: number, meta: AnswerMeta | undefined, fetched: boolean): void {
    entry.audience.value(value, at, meta);
    // Every request's answer is shared (others learn from it), delivered or not; a cached visit when delivered.
    if (meta || fetched) this.host.onAnswer({ kind: 'value', key: entry.key, intervalMs: entry.group.intervalMs, value, at, meta, fetched });
  }

  /** After a cadence-aware key's check: its next off-round check, and the plan if its need moved. */
  private afterCadenceCheck(entry: Entry): void {
    const cadence = entry.cadence;
    if (!cadence || !this.host.open()) return;
    const perHour = this.plans.needOf(entry);
    if (Math.abs(perHour - cadence.perHour) > 1e-9 * perHour) {
      cadence.perHour = perHour;
      if (this.planner.planning) this.planner.replan();
    }
    entry.group.offRound.note(entry);
    entry.group.offRound.arm();
  }

  /** Not dropped: fetched again as soon as the API (and the budget) allows, then back in the rounds. */
  private defer<T>(entry: Entry<T>, waitMs: number): void {
    entry.notBefore = this.host.now() + waitMs;
    clearTimeout(entry.deferTimer);
    entry.deferTimer = setTimeout(() => {
      entry.deferTimer = undefined;
      // Timers and Date.now() can disagree by a few ms: the wait is over, whatever the clock says.
      entry.notBefore = 0;
      entry.group.offRound.note(entry as Entry);
      this.retryDeferred(entry);
    }, waitMs);
  }

  private retryDeferred<T>(entry: Entry<T>): void {
    if (!this.host.fetching() || entry.audience.size === 0 || entry.slot) return;
    const now = this.host.now();
    entry.retriedAt = now;
    if (entry.inFlight) return;
    if (!this.planner.mayStart(now)) {
      entry.slot = this.planner.wait(entry.group.priority === 'alerts', () => {
        entry.slot = undefined;
        this.retryDeferred(entry);
      });
      return;
    }
    this.run(entry, now, 'retry');
  }
}

export function isRateLimited(err: unknown): err is LeapcraftError {
  return isLeapcraftError(err) && err.code === 'LEAPCRAFT_RATE_LIMITED';
}
