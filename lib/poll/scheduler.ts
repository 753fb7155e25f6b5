/**
 * The account's shared poll scheduler (Home Assistant's DataUpdateCoordinator idea).
 * Nodes subscribe to keys (a device and a query); each distinct key is fetched once per
 * interval however many nodes want it, and the answer is fanned out to every subscriber.
 *
 * Keys with the same interval form a group that runs in rounds. A round paces its
 * requests evenly (at most `maxGapMs` apart, and never more than the interval allows),
 * so a thousand devices do not all go out at the same instant after a deploy.
 * A key the API rate-limits is deferred until Retry-After has passed, then fetched
 * again; a failing key is reported and simply tried in the next round, except before its
 * first value, or always for a key subscribed with `retryFailures`: then it is retried
 * sooner, backing off (a deploy during an outage must not wait a whole interval, ten minutes
 * for the device list, once the API is back).
 *
 * Cadence-aware keys (subscribed with `cadence`, lib/poll/cadence.ts): the scheduler learns
 * when the device's next reading is due. A round still visits the key at every interval, but
 * while no new reading can be due it hands the listeners the cached last value (no request:
 * `servedFromCache`), so a node still emits at every interval; a check due between rounds
 * (just after the next reading is due, a late re-check, the heartbeat) is fetched then by
 * the group's one off-round timer, paced like a round, and its value reaches the listeners
 * only when it carries a new reading (a late re-check finding the same one is not news).
 * A key follows the rounds exactly as a fixed key does while it is learning, irregular,
 * without timestamps, failing, or while any of its listeners subscribed without `cadence`.
 *
 * The request budget (lib/poll/budget.ts): with a budget (requests per hour, `budgetPerHour`
 * or `setBudget`), every interval is stretched by one factor when the keys need more, alert
 * checks (`priority: 'alerts'`) first; no request starts when the rolling hour is full (it
 * waits for a slot, alert checks first, then in turn: never dropped). A 429 lowers the budget
 * the plan works with for an hour; rate-limit headers (`noteApiLimit`) cap it to what the API
 * allows. `fetchNow` (a msg asked) is counted but never delayed: a user is waiting, and the
 * rounds absorb it (only msgs alone asking more than the budget could exceed it).
 */
import { onAbort } from '../api/abort';
import { isLeapcraftError, LeapcraftAbortedError, LeapcraftError } from '../api/errors';
import type { RateLimitInfo } from '../api/rate-limit';
import { BudgetState, HOUR_MS, Need, RequestBudget, Stretch, stretchFactors } from './budget';
import { CadenceContext, CadenceLearner, CadenceMode, CadenceOptions, commonPeriod } from './cadence';
import { RequestSlots, SlotWaiter } from './slots';

export type Fetch<T> = (signal: AbortSignal) => Promise<T>;

/** What a listener is told with each failed fetch of its key. */
export interface Failure {
  key: string;
  /** The error's code (`error` for an error without one). */
  code: string;
  /**
   * True the first time this listener hears of this failure: when the key starts failing,
   * or fails with another code. Report (log, Catch) only then; a status may follow every one.
   */
  first: boolean;
  /** When the key started failing with this code (epoch ms). */
  since: number;
}

/**
 * A subscriber of a key. `error` comes with every failed fetch (a round must know a key has
 * answered, even badly), `failure.first` once per change; `recovered` once, before the value
 * that ends a failure. A fetch cancelled by unsubscribe or close (LEAPCRAFT_ABORTED) is
 * nobody's failure and reaches no listener.
 */
export interface Listener<T> {
  next(value: T, key: string): void;
  error(err: unknown, failure: Failure): void;
  recovered?(key: string): void;
}

export interface SchedulerOptions {
  /** Longest pause between two requests of one round; default 1 s. */
  maxGapMs?: number;
  /** Reports a listener that threw (a bug in a node), so it cannot stop a round. */
  onListenerError?: (err: unknown) => void;
  /** First early retry of a failed key (see `retryFailures`), doubling after; default 2 s. */
  firstValueRetryMs?: number;
  /** Requests per rolling hour for the account; undefined: none (see `setBudget`). */
  budgetPerHour?: number;
  /** The clock (epoch ms); default Date.now. Timers stay setTimeout (fake them in tests). */
  now?: () => number;
  /** Tuning of the cadence learners (tests). */
  cadence?: CadenceOptions;
}

/** How a cadence-aware key reads the time of the reading a value carries. */
export interface CadenceSource<T> {
  /** Epoch ms of the value's reading; undefined when it has none. */
  timeOf(value: T): number | undefined;
}

export interface SubscribeOptions<T = unknown> {
  /**
   * Retry a transient failure soon, backing off, even after the key had a value. For a rare
   * key whose next round is far away (the device list every ten minutes), not for per-device
   * keys: a thousand early retries during an outage would be the retry storm we avoid.
   */
  retryFailures?: boolean;
  /** Alert checks: the budget serves them first (the key keeps its interval while others stretch). */
  priority?: 'alerts';
  /** Poll just after the next reading is due instead of at every interval (see the header). */
  cadence?: CadenceSource<T>;
}

/** What a cadence-aware key has learnt, for a node's status and for tests. */
export interface CadenceView {
  mode: CadenceMode;
  /** The period it plans on (its own, or the one other keys agree on). */
  periodMs?: number;
  marginMs: number;
  /** True when it plans its own checks; false when it follows the rounds. */
  planned: boolean;
  nextCheckAt?: number;
  readings: number;
  checks: number;
}

/** Early retries back off to once a minute at most. */
const EARLY_RETRY_MAX_MS = 60_000;

/** Failures worth retrying before the next round: the API or the way to it, not the request. */
const TRANSIENT_CODES = new Set(['LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_BAD_RESPONSE', 'LEAPCRAFT_AUTH']);

interface Entry<T> {
  key: string;
  group: Group;
  /** Listeners subscribed without `cadence`: while there is one, the key follows the rounds. */
  plain: Set<Listener<T>>;
  cadence?: {
    source: CadenceSource<T>;
    learner: CadenceLearner;
    /** Its need (requests per hour) as last planned with. */
    perHour: number;
    /** No off-round check before then (a fetch that ended without an answer). */
    holdUntil: number;
  };
  /** A deferred retry waiting for the budget. */
  slot?: SlotWaiter;
  fetch: Fetch<T>;
  listeners: Set<Listener<T>>;
  inFlight?: { controller: AbortController; promise: Promise<T> };
  notBefore: number;
  deferTimer?: NodeJS.Timeout;
  /** When a Retry-After retry ran: the round it fell in does not fetch the key again. */
  retriedAt?: number;
  /** Failures since the last value (for the early retries' backoff). */
  failuresInRow?: number;
  retryFailures?: boolean;
  last?: { value: T; at: number };
  /** The key's failure state (Home Assistant's `last_update_success`), owned here, not by each node. */
  failure?: { code: string; since: number };
  /** The failure code each listener was last told of, so it hears each change once. */
  heard: Map<Listener<T>, string>;
  /**
   * `plannedAt` as last worked out, valid while `planEpoch` equals the scheduler's: a key's plan
   * changes only when the key does (an answer, a failure, a listener) or the account's context
   * does (the period keys agree on, the budget's stretch), and the off-round timer asks for
   * every key's after every answer (ten thousand keys: ten thousand learners asked per request).
   */
  planEpoch: number;
  planAt?: number;
  /** Its place in its group's `entries` (order of joining), for ties between off-round checks. */
  seq: number;
  /** Bumped whenever the key's item in its group's `due` heap is replaced or dropped. */
  dueGen: number;
}

/** A cadence-aware key's off-round check in its group's heap; stale once `gen` is not the key's `dueGen`. */
interface DueItem {
  at: number;
  seq: number;
  entry: Entry<unknown>;
  gen: number;
}

/**
 * The group's off-round checks by time (then by the keys' order in the group): the earliest is
 * read in O(log n) instead of asking every key after every answer. Items go stale rather than
 * being removed; whoever reads the top checks it against the key (see `earliestDue`).
 */
class DueHeap {
  private readonly items: DueItem[] = [];

  get size(): number {
    return this.items.length;
  }

  peek(): DueItem | undefined {
    return this.items[0];
  }

  clear(): void {
    this.items.length = 0;
  }

  push(item: DueItem): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
  }
}

function before(a: DueItem, b: DueItem): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

interface AdhocJob {
  promise: Promise<unknown>;
  controller: AbortController;
  waiters: number;
}

function entryId(intervalMs: number, key: string): string {
  return `${intervalMs}\u0000${key}`;
}

function cancelled(key: string): LeapcraftAbortedError {
  return new LeapcraftAbortedError(`${key.split('\u0000').join(' ')}: the request was cancelled`);
}

interface Group {
  id: string;
  intervalMs: number;
  priority?: 'alerts';
  entries: Entry<unknown>[];
  queue: Entry<unknown>[];
  roundStart: number;
  timer?: NodeJS.Timeout;
  /** The timer paces a round under way (rather than waiting for the next round). */
  pacing: boolean;
  /** When the pending step was due: the next one is due a gap later, not a gap after this one ran. */
  due: number;
  /** The round waits for the budget to allow its next request. */
  blocked?: SlotWaiter;
  /** Cadence-aware keys' checks between rounds: one timer for the group, paced like a round. */
  dueTimer?: NodeJS.Timeout;
  /** Its cadence-aware keys by when their off-round check is due. */
  dueChecks: DueHeap;
  dueBlocked?: SlotWaiter;
  lastDueAt: number;
  cadenceKeys: number;
}

function groupId(intervalMs: number, priority: 'alerts' | undefined): string {
  return `${intervalMs}|${priority ?? ''}`;
}

export class PollScheduler {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly groups = new Map<string, Group>();
  /** fetchNow calls under way by key, so simultaneous msgs share one request. */
  private readonly adhoc = new Map<string, AdhocJob>();
  private readonly maxGapMs: number;
  private readonly now: () => number;
  private readonly budget: RequestBudget;
  /** Rounds, off-round checks and retries waiting for the budget to allow a request. */
  private readonly slots: RequestSlots;
  /** Wakes the plan when a lowered budget or an API window runs out. */
  private budgetTimer?: { timer: NodeJS.Timeout; at: number };
  private stretch: Stretch = { alerts: 1, others: 1 };
  /** Bumped when what every key's plan depends on changes (the hint, the stretch): see `Entry.planEpoch`. */
  private planEpoch = 0;
  /** Keys' order of joining their group (see `Entry.seq`). */
  private seq = 0;
  /** Every key's own period, and the same sorted: what `commonPeriod` is asked about. */
  private readonly ownPeriods = new Map<Entry<unknown>, number>();
  private readonly sortedPeriods: number[] = [];
  /**
   * A key with a period of its own left: the hint is worked out again when next read (every read
   * of it, or of a plan, goes through `flushHint`) or at the end of the current task, whichever
   * comes first, so a node closing ten thousand keys works it out once, not ten thousand times.
   */
  private hintStale = false;
  /** Groups whose off-round timer is re-armed at the end of the current task (see `armDueSoon`). */
  private readonly dueSoon = new Set<Group>();
  /** The period most cadence-aware keys agree on, for keys with none of their own yet. */
  private hintPeriodMs?: number;
  private readonly budgetListeners = new Set<(state: BudgetState) => void>();
  private budgetView = '';
  private budgetNotifyPending = false;
  private closed = false;
  /** Requests started by the scheduler, for tests and benchmarks. */
  fetches = 0;
  /** Round visits of cadence-aware keys answered from the cache, without a request. */
  servedFromCache = 0;

  constructor(private readonly options: SchedulerOptions = {}) {
    this.maxGapMs = options.maxGapMs ?? 1000;
    this.now = options.now ?? (() => Date.now());
    this.budget = new RequestBudget(options.budgetPerHour ?? undefined);
    this.slots = new RequestSlots((now) => this.budget.nextStartAt(now), this.now);
    this.budgetView = this.viewOfBudget();
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
      entry = { key, group, fetch, listeners: new Set(), plain: new Set(), notBefore: 0, heard: new Map(), planEpoch: -1, seq: this.seq++, dueGen: 0 };
      this.entries.set(id, entry as Entry<unknown>);
      group.entries.push(entry as Entry<unknown>);
      // A new key joins the round under way (or starts a short one), so its first value
      // comes soon instead of after a whole interval.
      group.queue.push(entry as Entry<unknown>);
      if (!group.pacing) {
        clearTimeout(group.timer);
        group.timer = undefined;
      }
      this.arm(group);
    } else if (priority && !entry.group.priority) {
      // An alert check shares a key polled without priority: the key is served first now.
      this.regroup(entry as Entry<unknown>, this.group(intervalMs, priority));
    }
    entry.listeners.add(listener);
    if (options.retryFailures) entry.retryFailures = true;
    if (options.cadence) {
      entry.plain.delete(listener);
      if (!entry.cadence) {
        entry.cadence = { source: options.cadence, learner: new CadenceLearner(this.options.cadence), perHour: HOUR_MS / intervalMs, holdUntil: 0 };
        entry.group.cadenceKeys++;
      }
    } else {
      entry.plain.add(listener);
    }
    this.replanKey(entry as Entry<unknown>);
    this.noteDue(entry as Entry<unknown>);
    if (entry.last) this.deliver(listener, entry.last.value, key);
    const subscribed = entry;
    this.replan();
    this.armDue(subscribed.group);
    return () => this.unsubscribe(id, subscribed, listener);
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
      if (entry?.inFlight) return this.wait(entry.inFlight.promise as Promise<T>, key, signal);
    }
    let job = this.adhoc.get(key);
    if (!job) {
      this.fetches++;
      this.budget.record(this.now());
      const controller = new AbortController();
      const created: AdhocJob = { controller, waiters: 0, promise: invoke(fetch, controller.signal) };
      created.promise.then(() => this.adhoc.delete(key), (err: unknown) => {
        this.adhoc.delete(key);
        if (isRateLimited(err)) this.rateLimited();
      });
      this.adhoc.set(key, created);
      job = created;
    }
    // The request belongs to everyone waiting for it: it is cancelled only when the last
    // of them gives up (or the scheduler closes).
    const shared = job;
    shared.waiters++;
    return this.wait(shared.promise as Promise<T>, key, signal, () => {
      if (--shared.waiters === 0) shared.controller.abort();
    });
  }

  /**
   * Settles with `promise`, or rejects as cancelled when `signal` aborts first (`gaveUp` runs
   * then, before the rejection). One callback on the signal (lib/api/abort.ts: onAbort), not
   * two listeners: a msg for a thousand devices waits on one signal a thousand times.
   */
  private wait<T>(promise: Promise<T>, key: string, signal?: AbortSignal, gaveUp?: () => void): Promise<T> {
    if (!signal) return promise.then();
    return new Promise<T>((resolve, reject) => {
      const off = onAbort(signal, () => {
        gaveUp?.();
        reject(cancelled(key));
      });
      promise.then(
        (value) => { off(); resolve(value); },
        (err: unknown) => { off(); reject(signal.aborted ? cancelled(key) : err); },
      );
    });
  }

  /** The account's budget in requests per hour; undefined: none. */
  setBudget(perHour: number | undefined): void {
    this.budget.setConfigured(perHour ?? undefined);
    this.slots.reopen();
    this.replan();
  }

  /**
   * What the API's rate-limit headers said (lib/api/rate-limit.ts): the plan stays under the
   * remaining requests spread until the reset, and no request starts once none remain.
   */
  noteApiLimit(info: RateLimitInfo): void {
    if (this.closed) return;
    if (this.budget.noteApiLimit(info, this.now())) this.replan();
    this.slots.reopen();
  }

  /**
   * The API answered 429 to a request the scheduler did not see fail (the transport waited
   * out a short Retry-After and retried it): lowers the working budget as a 429 rejection does.
   */
  noteRateLimited(): void {
    this.rateLimited();
  }

  /** The budget now: configured, working, why, and how far the intervals are stretched. */
  budgetState(): BudgetState {
    const now = this.now();
    const need = this.need();
    return {
      ...this.budget.state(now),
      neededPerHour: need.alerts + need.others,
      plannedPerHour: need.alerts / this.stretch.alerts + need.others / this.stretch.others,
      stretch: this.stretch.others,
      alertsStretch: this.stretch.alerts,
    };
  }

  /** The interval keys subscribed at `intervalMs` are polled at now, under the budget. */
  effectiveIntervalMs(intervalMs: number, priority?: 'alerts'): number {
    return Math.round(intervalMs * this.factor(priority));
  }

  /**
   * Told (once per burst of changes, a microtask later) when the budget state or the stretch
   * changes; `budgetState()` gives the state at any time (a node reads it when it starts).
   */
  onBudgetChange(listener: (state: BudgetState) => void): () => void {
    this.budgetListeners.add(listener);
    return () => this.budgetListeners.delete(listener);
  }

  /** What the cadence-aware key `key` at `intervalMs` has learnt; undefined for other keys. */
  cadenceOf(key: string, intervalMs: number): CadenceView | undefined {
    const entry = this.entries.get(entryId(intervalMs, key));
    const cadence = entry?.cadence;
    if (!entry || !cadence) return undefined;
    const context = this.contextOf(entry);
    const planned = this.plannedAt(entry, this.now());
    const view: CadenceView = {
      mode: cadence.learner.mode,
      marginMs: cadence.learner.marginMs,
      planned: planned !== undefined,
      readings: cadence.learner.readings,
      checks: cadence.learner.checks,
    };
    const period = cadence.learner.periodMs(context);
    if (period !== undefined) view.periodMs = period;
    if (planned !== undefined) view.nextCheckAt = planned;
    return view;
  }

  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) {
      clearTimeout(group.timer);
      clearTimeout(group.dueTimer);
    }
    for (const entry of this.entries.values()) {
      clearTimeout(entry.deferTimer);
      entry.inFlight?.controller.abort();
      entry.listeners.clear();
    }
    this.entries.clear();
    this.groups.clear();
    this.ownPeriods.clear();
    this.sortedPeriods.length = 0;
    for (const job of this.adhoc.values()) job.controller.abort();
    this.adhoc.clear();
    this.slots.close();
    clearTimeout(this.budgetTimer?.timer);
    this.budgetTimer = undefined;
    this.budgetListeners.clear();
  }

  private group(intervalMs: number, priority: 'alerts' | undefined): Group {
    const id = groupId(intervalMs, priority);
    let group = this.groups.get(id);
    if (!group) {
      const now = this.now();
      group = { id, intervalMs, entries: [], queue: [], roundStart: now, pacing: false, due: now, lastDueAt: -Infinity, cadenceKeys: 0, dueChecks: new DueHeap() };
      if (priority) group.priority = priority;
      this.groups.set(id, group);
    }
    return group;
  }

  private unsubscribe<T>(id: string, entry: Entry<T>, listener: Listener<T>): void {
    entry.listeners.delete(listener);
    entry.heard.delete(listener);
    entry.plain.delete(listener);
    this.replanKey(entry as Entry<unknown>);
    if (this.entries.get(id) !== (entry as Entry<unknown>)) return;
    if (entry.listeners.size > 0) {
      // The last listener without `cadence` may have left: the key may plan its own checks now.
      if (entry.cadence) {
        this.noteDue(entry as Entry<unknown>);
        this.armDue(entry.group);
      }
      return;
    }
    // Nobody wants this key any more: stop polling it and drop what is under way.
    this.entries.delete(id);
    clearTimeout(entry.deferTimer);
    this.slots.cancel(entry.slot);
    entry.inFlight?.controller.abort();
    this.leaveGroup(entry as Entry<unknown>);
    if (this.forgetPeriod(entry as Entry<unknown>)) this.staleHint();
    this.replan();
  }

  private leaveGroup(entry: Entry<unknown>): void {
    const group = entry.group;
    removeFrom(group.entries, entry);
    removeFrom(group.queue, entry);
    entry.dueGen++;
    if (entry.cadence) group.cadenceKeys--;
    if (group.entries.length === 0) {
      clearTimeout(group.timer);
      clearTimeout(group.dueTimer);
      this.slots.cancel(group.blocked);
      this.slots.cancel(group.dueBlocked);
      this.groups.delete(group.id);
      return;
    }
    if ((group.pacing || group.blocked) && group.queue.length === 0) {
      // The round's last keys left: wait for the next round instead of starting it now.
      clearTimeout(group.timer);
      group.timer = undefined;
      this.slots.cancel(group.blocked);
      group.blocked = undefined;
      this.arm(group);
    }
    this.armDueSoon(group);
  }

  /**
   * Re-arms the group's off-round timer at the end of the current task (or sooner, when anything
   * arms it meanwhile): no timer fires before then, and a node closing ten thousand keys re-arms
   * each of its groups once, with every key gone, instead of once per key.
   */
  private armDueSoon(group: Group): void {
    if (this.dueSoon.size === 0) {
      queueMicrotask(() => {
        const groups = [...this.dueSoon];
        this.dueSoon.clear();
        for (const g of groups) this.armDue(g);
      });
    }
    this.dueSoon.add(group);
  }

  private regroup(entry: Entry<unknown>, to: Group): void {
    this.leaveGroup(entry);
    entry.group = to;
    this.replanKey(entry);
    entry.seq = this.seq++;
    to.entries.push(entry);
    to.queue.push(entry);
    if (entry.cadence) to.cadenceKeys++;
    if (!to.pacing) {
      clearTimeout(to.timer);
      to.timer = undefined;
    }
    this.arm(to);
    this.noteDue(entry);
  }

  private factor(priority: 'alerts' | undefined): number {
    return priority === 'alerts' ? this.stretch.alerts : this.stretch.others;
  }

  /** The group's interval under the budget. */
  private intervalOf(group: Group): number {
    return group.intervalMs * this.factor(group.priority);
  }

  /** The pause between two requests of one round (or two off-round checks). */
  private gapOf(group: Group): number {
    return Math.min(this.maxGapMs, this.intervalOf(group) / Math.max(1, group.entries.length));
  }

  /** Paces the group's queue; starts the next round when the interval is over. */
  private arm(group: Group): void {
    if (group.timer || group.blocked || this.closed) return;
    group.pacing = group.queue.length > 0;
    const now = this.now();
    const delay = group.pacing ? 0 : Math.max(0, group.roundStart + this.intervalOf(group) - now);
    group.due = now + delay;
    group.timer = setTimeout(() => this.step(group), delay);
  }

  private step(group: Group): void {
    group.timer = undefined;
    group.pacing = false;
    if (this.closed || this.groups.get(group.id) !== group) return;
    const now = this.now();
    if (group.queue.length === 0) {
      group.roundStart = now;
      group.queue = [...group.entries];
    }
    const entry = group.queue[0];
    if (entry) {
      const action = this.roundAction(entry, group, now);
      if (action === 'fetch' && !this.budget.mayStart(now)) {
        // The budget is spent for now: the round resumes (with this key) when it allows.
        group.blocked = this.slots.wait(group.priority === 'alerts', () => {
          group.blocked = undefined;
          this.step(group);
        });
        return;
      }
      group.queue.shift();
      if (action === 'fetch') this.run(entry, now, false);
      else if (action === 'cache') this.serveCached(entry);
    }
    if (group.queue.length > 0) {
      const gap = this.gapOf(group);
      // Steps are due a gap apart, measured from when the previous one was due: a timer's
      // lateness and each step's own work, added up over N steps, used to stretch every round
      // past its interval. Catching up is limited to one gap, so a stalled loop never bursts.
      const at = this.now();
      group.due = Math.max(group.due + gap, at - gap);
      group.pacing = true;
      group.timer = setTimeout(() => this.step(group), Math.max(0, group.due - at));
    } else {
      this.arm(group);
    }
  }

  /** What a round does with a key: fetch it, hand out its cached value, or leave it alone. */
  private roundAction(entry: Entry<unknown>, group: Group, now: number): 'fetch' | 'cache' | 'skip' {
    // A Retry-After retry ran in this round already.
    if (entry.retriedAt !== undefined && entry.retriedAt >= group.roundStart) return 'skip';
    // Still waiting out a Retry-After, or the previous request is still going.
    if (entry.inFlight || now < entry.notBefore) return 'skip';
    // A key that plans its checks is fetched by the off-round timer (paced, at its time); the
    // round fetches it only if that check is an interval overdue (the timer waits for the budget).
    const plannedAt = this.plannedAt(entry, now);
    return plannedAt !== undefined && now < plannedAt + this.intervalOf(group) ? 'cache' : 'fetch';
  }

  /**
   * When a cadence-aware key next needs a request; undefined when it follows the rounds. Worked
   * out once per change of the key or of the context (see `Entry.planEpoch`): it does not depend
   * on `now` (a key plans only once it has a reading, and so a last check, to plan from).
   */
  private plannedAt(entry: Entry<unknown>, now: number): number | undefined {
    this.flushHint();
    if (entry.planEpoch === this.planEpoch) return entry.planAt;
    const at = this.workOutPlan(entry, now);
    entry.planEpoch = this.planEpoch;
    entry.planAt = at;
    return at;
  }

  /** The key's plan changed (an answer, a failure, a listener, its group): worked out again when next asked. */
  private replanKey(entry: Entry<unknown>): void {
    entry.planEpoch = -1;
  }

  private workOutPlan(entry: Entry<unknown>, now: number): number | undefined {
    const cadence = entry.cadence;
    if (!cadence || entry.plain.size > 0 || entry.failure || !entry.last) return undefined;
    const context = this.contextOf(entry);
    if (!cadence.learner.plans(entry.group.intervalMs, context)) return undefined;
    return cadence.learner.nextCheckAt(now, entry.group.intervalMs, context);
  }

  private contextOf(entry: Entry<unknown>): CadenceContext {
    this.flushHint();
    const context: CadenceContext = { stretch: this.factor(entry.group.priority) };
    if (this.hintPeriodMs !== undefined) context.hintPeriodMs = this.hintPeriodMs;
    return context;
  }

  private serveCached(entry: Entry<unknown>): void {
    this.servedFromCache++;
    const value = entry.last!.value;
    for (const l of [...entry.listeners]) this.deliver(l, value, entry.key);
  }

  /** When the key's off-round check is due (Infinity: none planned). */
  private offRoundAt(entry: Entry<unknown>, now: number): number {
    if (!entry.cadence || entry.inFlight) return Infinity;
    const at = this.plannedAt(entry, now);
    return at === undefined ? Infinity : Math.max(at, entry.notBefore, entry.cadence.holdUntil);
  }

  /** (Re)sets the group's off-round timer to the earliest planned check. */
  private armDue(group: Group): void {
    this.dueSoon.delete(group);
    this.flushHint();
    clearTimeout(group.dueTimer);
    group.dueTimer = undefined;
    if (this.closed || group.dueBlocked || group.cadenceKeys === 0 || this.groups.get(group.id) !== group) return;
    const now = this.now();
    const earliest = this.earliestDue(group, now);
    if (!earliest) return;
    const at = Math.max(earliest.at, group.lastDueAt + this.gapOf(group));
    group.dueTimer = setTimeout(() => this.dueStep(group), Math.max(0, at - now));
  }

  /**
   * The key's off-round check may have come sooner (or gone): its item in the group's heap is
   * replaced. Called wherever that can happen (an answer or failure, a listener, a Retry-After
   * wait ending, a new group); a check that went later only needs its item to be found stale.
   */
  private noteDue(entry: Entry<unknown>): void {
    if (!entry.cadence || this.closed) return;
    const at = this.offRoundAt(entry, this.now());
    entry.dueGen++;
    if (at < Infinity) entry.group.dueChecks.push({ at, seq: entry.seq, entry, gen: entry.dueGen });
  }

  /** Every key's plan may have moved (the hint, the stretch): the groups' heaps are made again. */
  private renoteDue(): void {
    for (const group of this.groups.values()) {
      group.dueChecks.clear();
      for (const entry of group.entries) this.noteDue(entry);
    }
  }

  /**
   * The group's earliest off-round check, as a scan of every key would find it (the lowest time,
   * then the key that joined first). Stale items on top are dropped; one whose key's time moved
   * later (its request went out, a Retry-After) is put back at its time.
   */
  private earliestDue(group: Group, now: number): DueItem | undefined {
    const heap = group.dueChecks;
    for (;;) {
      const top = heap.peek();
      if (!top) return undefined;
      const entry = top.entry;
      if (top.gen !== entry.dueGen) {
        heap.pop();
        continue;
      }
      const at = this.offRoundAt(entry, now);
      if (at === top.at) return top;
      heap.pop();
      entry.dueGen++;
      if (at < Infinity) heap.push({ at, seq: entry.seq, entry, gen: entry.dueGen });
    }
  }

  /** Fetches the most overdue planned check of the group, then waits for the next one. */
  private dueStep(group: Group): void {
    this.flushHint();
    group.dueTimer = undefined;
    if (this.closed || this.groups.get(group.id) !== group) return;
    const now = this.now();
    const earliest = this.earliestDue(group, now);
    const pick = earliest && earliest.at <= now ? earliest.entry : undefined;
    if (pick) {
      if (!this.budget.mayStart(now)) {
        group.dueBlocked = this.slots.wait(group.priority === 'alerts', () => {
          group.dueBlocked = undefined;
          this.dueStep(group);
        });
        return;
      }
      group.lastDueAt = now;
      this.run(pick, now, true);
    }
    this.armDue(group);
  }

  /** Starts the key's request (the caller checked it may). `offRound`: a planned check between rounds. */
  private run<T>(entry: Entry<T>, now: number, offRound: boolean): void {
    const controller = new AbortController();
    this.fetches++;
    this.budget.record(now);
    const promise = invoke(entry.fetch, controller.signal);
    entry.inFlight = { controller, promise };
    promise.then(
      (value) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        const news = this.observe(entry, value);
        const wasFailing = entry.failure !== undefined;
        entry.last = { value, at: this.now() };
        entry.failuresInRow = undefined;
        entry.failure = undefined;
        this.replanKey(entry as Entry<unknown>);
        for (const l of [...entry.heard.keys()]) this.safely(() => l.recovered?.(entry.key));
        entry.heard.clear();
        // Between rounds only a new reading is news; the round delivers the rest from the cache.
        if (!offRound || news || wasFailing) for (const l of [...entry.listeners]) this.deliver(l, value, entry.key);
        this.afterCadenceCheck(entry as Entry<unknown>);
      },
      (err: unknown) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        if (controller.signal.aborted || (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED')) {
          // Cancelled by someone else (the client closing): no answer, so no plan; the rounds
          // take the key, and no off-round check comes before the next interval.
          if (entry.cadence) entry.cadence.holdUntil = this.now() + this.intervalOf(entry.group);
          this.afterCadenceCheck(entry as Entry<unknown>);
          return;
        }
        if (isRateLimited(err)) {
          this.rateLimited();
          if (err.retryAfterMs) this.defer(entry, err.retryAfterMs);
        } else if ((!entry.last || entry.retryFailures) && isLeapcraftError(err) && TRANSIENT_CODES.has(err.code)) {
          // Try again soon, backing off, but never later than the round would.
          entry.failuresInRow = (entry.failuresInRow ?? 0) + 1;
          const waitMs = Math.min(EARLY_RETRY_MAX_MS, (this.options.firstValueRetryMs ?? 2000) * 2 ** (entry.failuresInRow - 1));
          if (waitMs < entry.group.intervalMs) this.defer(entry, waitMs);
        }
        const code = isLeapcraftError(err) ? err.code : 'error';
        if (entry.failure?.code !== code) entry.failure = { code, since: this.now() };
        this.replanKey(entry as Entry<unknown>);
        const since = entry.failure.since;
        for (const l of [...entry.listeners]) {
          const first = entry.heard.get(l) !== code;
          entry.heard.set(l, code);
          this.safely(() => l.error(err, { key: entry.key, code, first, since }));
        }
        // A failing key follows the rounds: its off-round check is dropped.
        this.afterCadenceCheck(entry as Entry<unknown>);
      },
    );
  }

  /** Feeds a value to the key's learner. True when it carries a new reading (always, without cadence). */
  private observe<T>(entry: Entry<T>, value: T): boolean {
    const cadence = entry.cadence;
    if (!cadence) return true;
    let time: number | undefined;
    try {
      time = cadence.source.timeOf(value);
    } catch (err) {
      this.options.onListenerError?.(err);
    }
    const before = cadence.learner.ownPeriodMs;
    const news = cadence.learner.observe(time, this.now(), this.contextOf(entry as Entry<unknown>));
    this.replanKey(entry as Entry<unknown>);
    if (cadence.learner.ownPeriodMs !== before) {
      this.notePeriod(entry as Entry<unknown>, cadence.learner.ownPeriodMs);
      this.updateHint();
    }
    return news;
  }

  /** See `hintStale`. */
  private staleHint(): void {
    if (this.hintStale) return;
    this.hintStale = true;
    queueMicrotask(() => this.flushHint());
  }

  private flushHint(): void {
    if (!this.hintStale) return;
    this.hintStale = false;
    if (!this.closed) this.updateHint();
  }

  /** The key's own period is now `period` (undefined: none). */
  private notePeriod(entry: Entry<unknown>, period: number | undefined): void {
    const old = this.ownPeriods.get(entry);
    if (old !== undefined) this.sortedPeriods.splice(sortedIndex(this.sortedPeriods, old), 1);
    if (period === undefined) {
      this.ownPeriods.delete(entry);
      return;
    }
    this.ownPeriods.set(entry, period);
    this.sortedPeriods.splice(sortedIndex(this.sortedPeriods, period), 0, period);
  }

  /** The key is gone; true when it had a period of its own (the hint may move). */
  private forgetPeriod(entry: Entry<unknown>): boolean {
    if (!this.ownPeriods.has(entry)) return false;
    this.notePeriod(entry, undefined);
    return true;
  }

  /** After a cadence-aware key's check: its next off-round check, and the plan if its need moved. */
  private afterCadenceCheck(entry: Entry<unknown>): void {
    const cadence = entry.cadence;
    if (!cadence || this.closed) return;
    const perHour = this.needOf(entry);
    if (Math.abs(perHour - cadence.perHour) > 1e-9 * perHour) {
      cadence.perHour = perHour;
      if (this.budget.planningPerHour(this.now()) !== undefined) this.replan();
    }
    this.noteDue(entry);
    this.armDue(entry.group);
  }

  /** The period keys agree on changed, maybe: keys without their own re-plan with it. */
  private updateHint(): void {
    this.hintStale = false;
    // The keys' own periods, kept sorted as they change (commonPeriod sorts them again: cheap now).
    const hint = commonPeriod(this.sortedPeriods, this.options.cadence);
    if (hint === this.hintPeriodMs) return;
    this.hintPeriodMs = hint;
    this.planEpoch++;
    this.renoteDue();
    for (const group of this.groups.values()) this.armDue(group);
    // Keys planning on it need less (or more) now.
    this.replan();
  }

  /** Requests per hour one key needs at its own interval (cadence-aware: at its expected rate). */
  private needOf(entry: Entry<unknown>): number {
    this.flushHint();
    const cadence = entry.cadence;
    if (!cadence || entry.plain.size > 0 || !entry.last) return HOUR_MS / entry.group.intervalMs;
    const context: CadenceContext = {};
    if (this.hintPeriodMs !== undefined) context.hintPeriodMs = this.hintPeriodMs;
    return cadence.learner.expectedPerHour(entry.group.intervalMs, context);
  }

  private need(): Need {
    const need: Need = { alerts: 0, others: 0 };
    for (const entry of this.entries.values()) {
      const perHour = this.needOf(entry);
      if (entry.group.priority === 'alerts') need.alerts += perHour;
      else need.others += perHour;
    }
    return need;
  }

  /** Recomputes the stretch from the keys' need and the working budget; re-arms what it moves. */
  private replan(): void {
    if (this.closed) return;
    const now = this.now();
    this.budget.expire(now);
    const perHour = this.budget.planningPerHour(now);
    const next = perHour === undefined ? { alerts: 1, others: 1 } : stretchFactors(this.need(), perHour);
    const moved = next.alerts !== this.stretch.alerts || next.others !== this.stretch.others;
    this.stretch = next;
    if (moved) {
      this.planEpoch++;
      this.renoteDue();
      for (const group of this.groups.values()) {
        // A group waiting for its next round waits for the new interval instead.
        if (group.timer && !group.pacing) {
          clearTimeout(group.timer);
          group.timer = undefined;
          this.arm(group);
        }
        this.armDue(group);
      }
    }
    this.armBudgetTimer();
    this.notifyBudget();
  }

  private armBudgetTimer(): void {
    const at = this.budget.nextChangeAt();
    if (this.budgetTimer?.at === at) return;
    clearTimeout(this.budgetTimer?.timer);
    this.budgetTimer = undefined;
    if (at === undefined || this.closed) return;
    const timer = setTimeout(() => {
      this.budgetTimer = undefined;
      this.replan();
      this.slots.reopen();
    }, Math.max(0, at - this.now()));
    this.budgetTimer = { timer, at };
  }

  /** A 429: the working budget is lowered for an hour (lib/poll/budget.ts says by how much). */
  private rateLimited(): void {
    if (this.closed) return;
    const planned = this.budgetState().plannedPerHour;
    if (this.budget.rateLimited(this.now(), planned)) this.replan();
  }

  private notifyBudget(): void {
    const view = this.viewOfBudget();
    if (view === this.budgetView) return;
    this.budgetView = view;
    // Once per burst of changes (a deploy subscribes a thousand keys one by one).
    if (this.budgetNotifyPending || this.budgetListeners.size === 0) return;
    this.budgetNotifyPending = true;
    void Promise.resolve().then(() => {
      this.budgetNotifyPending = false;
      if (this.closed) return;
      const state = this.budgetState();
      for (const listener of [...this.budgetListeners]) this.safely(() => listener(state));
    });
  }

  private viewOfBudget(): string {
    const s = this.budget.state(this.now());
    const round = (x: number) => Math.round(x * 100) / 100;
    return JSON.stringify([s.perHour, s.effectivePerHour, s.reason, s.loweredUntil, round(this.stretch.alerts), round(this.stretch.others)]);
  }

  /** Not dropped: fetched again as soon as the API (and the budget) allows, then back in the rounds. */
  private defer<T>(entry: Entry<T>, waitMs: number): void {
    entry.notBefore = this.now() + waitMs;
    clearTimeout(entry.deferTimer);
    entry.deferTimer = setTimeout(() => {
      entry.deferTimer = undefined;
      // Timers and Date.now() can disagree by a few ms: the wait is over, whatever the clock says.
      entry.notBefore = 0;
      this.noteDue(entry as Entry<unknown>);
      this.retryDeferred(entry);
    }, waitMs);
  }

  private retryDeferred<T>(entry: Entry<T>): void {
    if (this.closed || entry.listeners.size === 0 || entry.slot) return;
    const now = this.now();
    entry.retriedAt = now;
    if (entry.inFlight) return;
    if (!this.budget.mayStart(now)) {
      entry.slot = this.slots.wait(entry.group.priority === 'alerts', () => {
        entry.slot = undefined;
        this.retryDeferred(entry);
      });
      return;
    }
    this.run(entry, now, false);
  }

  private deliver<T>(listener: Listener<T>, value: T, key: string): void {
    this.safely(() => listener.next(value, key));
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

/** The first index of `sorted` whose value is not below `value`. */
function sortedIndex(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid]! < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function isRateLimited(err: unknown): err is LeapcraftError {
  return isLeapcraftError(err) && err.code === 'LEAPCRAFT_RATE_LIMITED';
}

/** A fetch that throws instead of rejecting must not escape from a timer callback. */
function invoke<T>(fetch: Fetch<T>, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fetch(signal));
  } catch (err) {
    return Promise.reject(err);
  }
}
