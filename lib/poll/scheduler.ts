/**
 * The account's shared poll scheduler (Home Assistant's DataUpdateCoordinator idea).
 * Nodes subscribe to keys (a device and a query); each distinct key is fetched once per
 * interval however many nodes want it, and the answer is fanned out to every subscriber.
 *
 * Keys with the same interval form a group that runs in rounds. A round visits every key once
 * per interval, pacing its requests (at most `maxGapMs` apart, never more than the interval
 * allows), so a thousand devices do not all go out at the same instant after a deploy. Each
 * visit hands the listeners one value marked `round` (see delivery.ts): what it fetched, or the
 * cached value when no new reading can be due yet, or when the key waits out a Retry-After. A
 * visit with nothing to hand out (the key's request is still under way, or it failed) is owed:
 * the next answer is that visit's value.
 *
 * Cadence-aware keys (subscribed with `cadence`, cadence.ts) learn when the device's next reading
 * is due; a check due between rounds is fetched then by the group's off-round timer
 * (off-round.ts), and its value reaches the listeners, not marked `round`, only when it carries
 * a new reading. A key follows the rounds as a fixed key does while it is learning, irregular,
 * without timestamps, failing, or while any of its listeners subscribed without `cadence`.
 *
 * A rate-limited key is deferred until Retry-After has passed, then fetched again; a failing key
 * is reported and tried in the next round, except before its first value, or always for a key
 * subscribed with `retryFailures`: then it is retried sooner, backing off.
 *
 * The request budget (budget-planner.ts) stretches every interval by one factor when the keys
 * need more than it allows, alert checks first; no request starts while the rolling hour is full.
 * `fetchNow` (a msg asked) is counted but never delayed.
 *
 * Deciding and fetching is one side, delivering answers to listeners the other (delivery.ts):
 * every answer passes `options.onAnswer`, and `accept` takes answers fetched elsewhere. A
 * scheduler with `fetching` off decides and fetches nothing on its own (it only delivers what it
 * is given, and fetches what a msg asks for).
 */
import type { RateLimitInfo } from '../api/rate-limit';
import { BudgetState, HOUR_MS } from './budget';
import { BudgetPlanner } from './budget-planner';
import { CadenceLearner } from './cadence';
import { Answer, AnswerMeta, Audience, Failure, Listener } from './delivery';
import { KeyPlans } from './key-plans';
import { OffRoundChecks } from './off-round';
import { isRateLimited, KeyRequests } from './requests';
import { cancelled, Fetch, SharedFetches, waitFor } from './shared-fetch';
import { CadenceSource, CadenceView, Entry, entryId, Group, SchedulerOptions, SubscribeOptions } from './types';

export { Answer, AnswerMeta, CadenceSource, CadenceView, Failure, Fetch, Listener, SchedulerOptions, SubscribeOptions };

export class PollScheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly groups = new Map<string, Group>();
  private readonly adhoc = new SharedFetches();
  private readonly maxGapMs: number;
  private readonly now: () => number;
  private readonly planner: BudgetPlanner;
  private readonly plans: KeyPlans;
  private readonly requests: KeyRequests;
  /** Keys' order of joining their group (see `DueKey.seq`). */
  private seq = 0;
  private fetching: boolean;
  private closed = false;
  /** Requests started by the scheduler, for tests and benchmarks. */
  fetches = 0;
  /** Round visits of cadence-aware keys answered from the cache, without a request. */
  servedFromCache = 0;

  constructor(private readonly options: SchedulerOptions = {}) {
    this.maxGapMs = options.maxGapMs ?? 1000;
    this.now = options.now ?? (() => Date.now());
    this.fetching = options.fetching ?? true;
    this.planner = new BudgetPlanner({
      perHour: options.budgetPerHour ?? undefined,
      now: this.now,
      need: () => this.plans.need(this.entries.values()),
      onStretch: () => this.contextMoved(true),
      onListenerError: options.onListenerError,
    });
    this.plans = new KeyPlans(options.cadence, (priority) => this.planner.factor(priority), () => {
      this.contextMoved(false);
      // Keys planning on the agreed period need less (or more) now.
      this.planner.replan();
    });
    this.requests = new KeyRequests({
      now: this.now,
      open: () => !this.closed,
      fetching: () => !this.closed && this.fetching,
      mayFetch: () => options.mayFetch?.() ?? true,
      intervalOf: (group) => this.intervalOf(group),
      started: () => { this.fetches++; },
      onAnswer: (answer) => this.options.onAnswer?.(answer),
      onListenerError: (err) => this.options.onListenerError?.(err),
    }, this.planner, this.plans, options.firstValueRetryMs ?? 2000);
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Subscribe `listener` to `key`, fetched with `fetch` every `intervalMs`. A key that
   * is already polled at that interval is shared; its last value, if any, is handed to
   * the new listener at once. Returns the unsubscribe function.
   */
  subscribe<T>(key: string, intervalMs: number, fetch: Fetch<T>, listener: Listener<T>, options: SubscribeOptions<T> = {}): () => void {
    if (this.closed) throw new Error('poll scheduler is closed');
    if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
    const id = entryId(intervalMs, key);
    const priority = options.priority === 'alerts' ? 'alerts' : undefined;
    let entry = this.entries.get(id) as Entry<T> | undefined;
    if (!entry) {
      const group = this.group(intervalMs, priority);
      entry = {
        id, key, group, fetch, audience: new Audience<T>(key, (call) => this.safely(call)),
        notBefore: 0, roundOwed: false, planEpoch: -1, seq: this.seq++, dueGen: 0,
      };
      this.entries.set(id, entry as Entry);
      this.join(entry as Entry, group);
      this.options.onNewKey?.(key, intervalMs);
    } else if (priority && !entry.group.priority) {
      // An alert check shares a key polled without priority: the key is served first now.
      this.leaveGroup(entry as Entry);
      this.join(entry as Entry, this.group(intervalMs, priority));
    }
    entry.audience.add(listener, !options.cadence);
    if (options.retryFailures) entry.retryFailures = true;
    if (options.cadence && !entry.cadence) {
      entry.cadence = { source: options.cadence, learner: new CadenceLearner(this.options.cadence), perHour: HOUR_MS / intervalMs, holdUntil: 0 };
      entry.group.offRound.keys++;
    }
    this.plans.stale(entry as Entry);
    entry.group.offRound.note(entry as Entry);
    entry.audience.replay({ round: true, news: false }, listener);
    const subscribed = entry;
    this.planner.replanSoon();
    subscribed.group.offRound.arm();
    return () => this.unsubscribe(subscribed, listener);
  }

  /**
   * Fetch `key` now, outside the rounds (a msg asked for it). Joins a request for the
   * same key that is already under way instead of sending a second one. Counted against the
   * budget, never delayed by it.
   */
  fetchNow<T>(key: string, fetch: Fetch<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled(key));
    for (const group of this.groups.values()) {
      const entry = this.entries.get(entryId(group.intervalMs, key));
      if (entry?.inFlight) return waitFor(entry.inFlight.promise as Promise<T>, key, signal);
    }
    return this.adhoc.run(key, fetch, signal, () => {
      this.fetches++;
      this.planner.record(this.now());
    }, (err) => {
      if (isRateLimited(err)) this.planner.rateLimited();
    });
  }

  /**
   * An answer fetched elsewhere (a cluster's leader): delivered to this scheduler's listeners of
   * the key as if it had fetched it. Answers for keys nobody here subscribed are dropped.
   */
  accept(answer: Answer): void {
    const entry = this.entries.get(entryId(answer.intervalMs, answer.key));
    if (!entry || this.closed) return;
    if (answer.fetched) {
      // Learnt and counted here too: a takeover neither learns the cadence anew nor breaks the budget.
      this.planner.record(answer.at);
      if (answer.kind === 'value') this.plans.observe(entry, answer.value, answer.at, (err) => this.options.onListenerError?.(err));
    }
    if (answer.kind === 'value') entry.audience.value(answer.value, answer.at, answer.meta);
    else entry.audience.failed(answer.error, answer.at);
  }

  /** Starts (or stops) deciding and fetching on this scheduler's own; stopping aborts what is under way. */
  setFetching(on: boolean): void {
    if (this.closed || on === this.fetching) return;
    this.fetching = on;
    for (const group of this.groups.values()) {
      clearTimeout(group.timer);
      group.timer = undefined;
      group.pacing = false;
      this.planner.cancel(group.blocked);
      group.blocked = undefined;
      group.offRound.close();
      if (on) {
        // Every key is visited soon: a new poller starts with a round, as after a deploy.
        group.roundStart = this.now();
        group.queue = [...group.entries];
        group.offRound.renote(group.entries);
        this.arm(group);
        group.offRound.arm();
      }
    }
    if (!on) for (const entry of this.entries.values()) this.requests.stop(entry);
  }

  // The request budget (budget-planner.ts): the account's setting, what the API says of its
  // limits (rate-limit headers; a 429 the transport retried by itself), the state for a status.
  setBudget(perHour: number | undefined): void {
    this.planner.setBudget(perHour);
  }

  noteApiLimit(info: RateLimitInfo): void {
    if (!this.closed) this.planner.noteApiLimit(info);
  }

  noteRateLimited(): void {
    this.planner.rateLimited();
  }

  budgetState(): BudgetState {
    return this.planner.state();
  }

  /** Told (once per burst of changes) when the budget's state or the stretch changes. */
  onBudgetChange(listener: (state: BudgetState) => void): () => void {
    return this.planner.onChange(listener);
  }

  /** The interval keys subscribed at `intervalMs` are polled at now, under the budget. */
  effectiveIntervalMs(intervalMs: number, priority?: 'alerts'): number {
    return Math.round(intervalMs * this.planner.factor(priority));
  }

  /** What the cadence-aware key `key` at `intervalMs` has learnt; undefined for other keys. */
  cadenceOf(key: string, intervalMs: number): CadenceView | undefined {
    const entry = this.entries.get(entryId(intervalMs, key));
    return entry ? this.plans.view(entry, this.now()) : undefined;
  }

  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) {
      clearTimeout(group.timer);
      group.offRound.close();
    }
    for (const entry of this.entries.values()) {
      this.requests.stop(entry);
      entry.audience.clear();
    }
    this.entries.clear();
    this.groups.clear();
    this.plans.close();
    this.adhoc.close();
    this.planner.close();
  }

  private group(intervalMs: number, priority: 'alerts' | undefined): Group {
    const id = `${intervalMs}|${priority ?? ''}`;
    let group = this.groups.get(id);
    if (!group) {
      const now = this.now();
      const created: Group = {
        id, intervalMs, entries: [], queue: [], roundStart: now, pacing: false, due: now,
        offRound: new OffRoundChecks<Entry>({
          now: this.now,
          settle: () => this.plans.settle(),
          dueAt: (entry, at) => this.plans.dueAt(entry, at),
          gapMs: () => this.gapOf(created),
          live: () => !this.closed && this.fetching && this.groups.get(id) === created,
          mayStart: (at) => this.planner.mayStart(at),
          waitForSlot: (resume) => this.planner.wait(priority === 'alerts', resume),
          cancelSlot: (waiter) => this.planner.cancel(waiter),
          start: (entry, at) => this.requests.run(entry, at, 'check'),
        }),
      };
      if (priority) created.priority = priority;
      this.groups.set(id, created);
      group = created;
    }
    return group;
  }

  /** A key joins a group: it joins the round under way (or starts a short one), so its first value comes soon. */
  private join(entry: Entry, group: Group): void {
    entry.group = group;
    entry.seq = this.seq++;
    this.plans.stale(entry);
    group.entries.push(entry);
    group.queue.push(entry);
    if (entry.cadence) group.offRound.keys++;
    if (!group.pacing) {
      clearTimeout(group.timer);
      group.timer = undefined;
    }
    this.arm(group);
    group.offRound.note(entry);
  }

  private unsubscribe<T>(entry: Entry<T>, listener: Listener<T>): void {
    entry.audience.remove(listener);
    this.plans.stale(entry as Entry);
    if (this.entries.get(entry.id) !== (entry as Entry)) return;
    if (entry.audience.size > 0) {
      // The last listener without `cadence` may have left: the key may plan its own checks now.
      if (entry.cadence) {
        entry.group.offRound.note(entry as Entry);
        entry.group.offRound.arm();
      }
      return;
    }
    // Nobody wants this key any more: stop polling it and drop what is under way.
    this.entries.delete(entry.id);
    this.requests.stop(entry as Entry);
    this.leaveGroup(entry as Entry);
    this.plans.forget(entry as Entry);
    this.planner.replanSoon();
  }

  private leaveGroup(entry: Entry): void {
    const group = entry.group;
    removeFrom(group.entries, entry);
    removeFrom(group.queue, entry);
    entry.dueGen++;
    if (entry.cadence) group.offRound.keys--;
    if (group.entries.length === 0) {
      clearTimeout(group.timer);
      group.offRound.close();
      this.planner.cancel(group.blocked);
      this.groups.delete(group.id);
      return;
    }
    if ((group.pacing || group.blocked) && group.queue.length === 0) {
      // The round's last keys left: wait for the next round instead of starting it now.
      clearTimeout(group.timer);
      group.timer = undefined;
      this.planner.cancel(group.blocked);
      group.blocked = undefined;
      this.arm(group);
    }
    group.offRound.armSoon();
  }

  /** The group's interval under the budget. */
  private intervalOf(group: Group): number {
    return group.intervalMs * this.planner.factor(group.priority);
  }

  /** The pause between two requests of one round (or two off-round checks). */
  private gapOf(group: Group): number {
    return Math.min(this.maxGapMs, this.intervalOf(group) / Math.max(1, group.entries.length));
  }

  /** Paces the group's queue; starts the next round when the interval is over. */
  private arm(group: Group): void {
    if (group.timer || group.blocked || this.closed || !this.fetching) return;
    group.pacing = group.queue.length > 0;
    const now = this.now();
    const delay = group.pacing ? 0 : Math.max(0, group.roundStart + this.intervalOf(group) - now);
    group.due = now + delay;
    group.timer = setTimeout(() => this.step(group), delay);
  }

  private step(group: Group): void {
    group.timer = undefined;
    group.pacing = false;
    if (this.closed || !this.fetching || this.groups.get(group.id) !== group) return;
    const now = this.now();
    if (group.queue.length === 0) {
      group.roundStart = now;
      group.queue = [...group.entries];
    }
    const entry = group.queue[0];
    if (entry) {
      const action = this.visit(entry, group, now);
      if (action === 'fetch' && !this.planner.mayStart(now)) {
        // The budget is spent for now: the round resumes (with this key) when it allows.
        group.blocked = this.planner.wait(group.priority === 'alerts', () => {
          group.blocked = undefined;
          this.step(group);
        });
        return;
      }
      group.queue.shift();
      if (action === 'fetch') this.requests.run(entry, now, 'round');
      else if (action === 'cache') this.serveCached(entry);
      else entry.roundOwed = true;
    }
    if (group.queue.length > 0) {
      const gap = this.gapOf(group);
      // Steps are due a gap apart, measured from when the previous one was due: a timer's
      // lateness and each step's own work, added up over N steps, would stretch every round
      // past its interval. Catching up is limited to one gap, so a stalled loop never bursts.
      const at = this.now();
      group.due = Math.max(group.due + gap, at - gap);
      group.pacing = true;
      group.timer = setTimeout(() => this.step(group), Math.max(0, group.due - at));
    } else {
      this.arm(group);
    }
  }

  /**
   * What a round's visit does with a key: fetch it, hand out its cached value, or owe the visit
   * to the answer under way (or to the first one, when there is no value yet).
   */
  private visit(entry: Entry, group: Group, now: number): 'fetch' | 'cache' | 'owe' {
    const cached = entry.audience.last !== undefined;
    if (entry.inFlight) return 'owe';
    // Waiting out a Retry-After, or a Retry-After retry ran in this round already.
    if (now < entry.notBefore || (entry.retriedAt !== undefined && entry.retriedAt >= group.roundStart)) return cached ? 'cache' : 'owe';
    // A key that plans its checks is fetched by the off-round timer at its time; the round fetches
    // it only when that check is an interval overdue. While the check waits for the budget (or a
    // reset the API named) the visit hands out the cached value, the reading following as news; a
    // check due now brings this visit's value a moment later; else no new reading can be due.
    const plannedAt = this.plans.plannedAt(entry, now);
    if (plannedAt === undefined) return 'fetch';
    if (!this.planner.mayStart(now)) return 'cache';
    if (now >= plannedAt + this.intervalOf(group)) return 'fetch';
    return this.plans.dueAt(entry, now) <= now ? 'owe' : 'cache';
  }

  /** What every key's plan depends on moved (the hint; with `stretch`, the budget's stretch too). */
  private contextMoved(stretch: boolean): void {
    this.plans.moved();
    for (const group of this.groups.values()) {
      group.offRound.renote(group.entries);
      if (stretch && group.timer && !group.pacing) {
        // A group waiting for its next round waits for the new interval instead.
        clearTimeout(group.timer);
        group.timer = undefined;
        this.arm(group);
      }
      group.offRound.arm();
    }
  }

  private serveCached(entry: Entry): void {
    this.servedFromCache++;
    entry.roundOwed = false;
    this.requests.deliver(entry, entry.audience.last!.value, entry.audience.last!.at, { round: true, news: false }, false);
  }

  /** A listener that throws (a bug in a node) must not stop a round or the other listeners. */
  private safely(call: () => void): void {
    try {
      call();
    } catch (err) {
      this.options.onListenerError?.(err);
    }
  }
}

/** Removes `item` (there once at most), keeping the order of the rest. */
function removeFrom<T>(list: T[], item: T): void {
  const i = list.indexOf(item);
  if (i >= 0) list.splice(i, 1);
}


