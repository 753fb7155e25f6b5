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
 */
import { raceAbort } from '../api/abort';
import { isLeapcraftError, LeapcraftAbortedError } from '../api/errors';

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
}

export interface SubscribeOptions {
  /**
   * Retry a transient failure soon, backing off, even after the key had a value. For a rare
   * key whose next round is far away (the device list every ten minutes), not for per-device
   * keys: a thousand early retries during an outage would be the retry storm we avoid.
   */
  retryFailures?: boolean;
}

/** Early retries back off to once a minute at most. */
const EARLY_RETRY_MAX_MS = 60_000;

/** Failures worth retrying before the next round: the API or the way to it, not the request. */
const TRANSIENT_CODES = new Set(['LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_BAD_RESPONSE', 'LEAPCRAFT_AUTH']);

interface Entry<T> {
  key: string;
  group: Group;
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
  intervalMs: number;
  entries: Entry<unknown>[];
  queue: Entry<unknown>[];
  roundStart: number;
  timer?: NodeJS.Timeout;
  /** The timer paces a round under way (rather than waiting for the next round). */
  pacing: boolean;
  /** When the pending step was due: the next one is due a gap later, not a gap after this one ran. */
  due: number;
}

export class PollScheduler {
  private readonly entries = new Map<string, Entry<unknown>>();
  private readonly groups = new Map<number, Group>();
  /** fetchNow calls under way by key, so simultaneous msgs share one request. */
  private readonly adhoc = new Map<string, AdhocJob>();
  private readonly maxGapMs: number;
  private closed = false;
  /** Requests started by the scheduler, for tests and benchmarks. */
  fetches = 0;

  constructor(private readonly options: SchedulerOptions = {}) {
    this.maxGapMs = options.maxGapMs ?? 1000;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Subscribe `listener` to `key`, fetched with `fetch` every `intervalMs`. A key that
   * is already polled at that interval is shared; its last value, if any, is handed to
   * the new listener at once. Returns the unsubscribe function.
   */
  subscribe<T>(key: string, intervalMs: number, fetch: Fetch<T>, listener: Listener<T>, options: SubscribeOptions = {}): () => void {
    if (this.closed) throw new Error('poll scheduler is closed');
    if (!(intervalMs > 0)) throw new RangeError(`interval must be positive, got ${intervalMs}`);
    const id = entryId(intervalMs, key);
    let entry = this.entries.get(id) as Entry<T> | undefined;
    if (!entry) {
      const group = this.group(intervalMs);
      entry = { key, group, fetch, listeners: new Set(), notBefore: 0, heard: new Map() };
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
    }
    entry.listeners.add(listener);
    if (options.retryFailures) entry.retryFailures = true;
    if (entry.last) this.deliver(listener, entry.last.value, key);
    const subscribed = entry;
    return () => this.unsubscribe(id, subscribed, listener);
  }

  /**
   * Fetch `key` now, outside the rounds (a msg asked for it). Joins a request for the
   * same key that is already under way instead of sending a second one.
   */
  fetchNow<T>(key: string, fetch: Fetch<T>, signal?: AbortSignal): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled(key));
    for (const interval of this.groups.keys()) {
      const entry = this.entries.get(entryId(interval, key));
      if (entry?.inFlight) return this.wait(entry.inFlight.promise as Promise<T>, key, signal);
    }
    let job = this.adhoc.get(key);
    if (!job) {
      this.fetches++;
      const controller = new AbortController();
      const created: AdhocJob = { controller, waiters: 0, promise: invoke(fetch, controller.signal) };
      created.promise.then(() => this.adhoc.delete(key), () => this.adhoc.delete(key));
      this.adhoc.set(key, created);
      job = created;
    }
    // The request belongs to everyone waiting for it: it is cancelled only when the last
    // of them gives up (or the scheduler closes).
    const shared = job;
    shared.waiters++;
    const onAbort = () => {
      if (--shared.waiters === 0) shared.controller.abort();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    return this.wait(shared.promise as Promise<T>, key, signal).finally(() => signal?.removeEventListener('abort', onAbort));
  }

  private wait<T>(promise: Promise<T>, key: string, signal?: AbortSignal): Promise<T> {
    return raceAbort(promise, signal).catch((err: unknown) => {
      throw signal?.aborted ? cancelled(key) : err;
    });
  }

  close(): void {
    this.closed = true;
    for (const group of this.groups.values()) clearTimeout(group.timer);
    for (const entry of this.entries.values()) {
      clearTimeout(entry.deferTimer);
      entry.inFlight?.controller.abort();
      entry.listeners.clear();
    }
    this.entries.clear();
    this.groups.clear();
    for (const job of this.adhoc.values()) job.controller.abort();
    this.adhoc.clear();
  }

  private group(intervalMs: number): Group {
    let group = this.groups.get(intervalMs);
    if (!group) {
      group = { intervalMs, entries: [], queue: [], roundStart: Date.now(), pacing: false, due: Date.now() };
      this.groups.set(intervalMs, group);
    }
    return group;
  }

  private unsubscribe<T>(id: string, entry: Entry<T>, listener: Listener<T>): void {
    entry.listeners.delete(listener);
    entry.heard.delete(listener);
    if (entry.listeners.size > 0 || this.entries.get(id) !== (entry as Entry<unknown>)) return;
    // Nobody wants this key any more: stop polling it and drop what is under way.
    this.entries.delete(id);
    clearTimeout(entry.deferTimer);
    entry.inFlight?.controller.abort();
    const group = entry.group;
    group.entries = group.entries.filter((e) => e !== (entry as Entry<unknown>));
    group.queue = group.queue.filter((e) => e !== (entry as Entry<unknown>));
    if (group.entries.length === 0) {
      clearTimeout(group.timer);
      this.groups.delete(group.intervalMs);
    } else if (group.pacing && group.queue.length === 0) {
      // The round's last keys left: wait for the next round instead of starting it now.
      clearTimeout(group.timer);
      group.timer = undefined;
      this.arm(group);
    }
  }

  /** Paces the group's queue; starts the next round when the interval is over. */
  private arm(group: Group): void {
    if (group.timer || this.closed) return;
    group.pacing = group.queue.length > 0;
    const delay = group.pacing ? 0 : Math.max(0, group.roundStart + group.intervalMs - Date.now());
    group.due = Date.now() + delay;
    group.timer = setTimeout(() => this.step(group), delay);
  }

  private step(group: Group): void {
    group.timer = undefined;
    group.pacing = false;
    if (this.closed || !this.groups.has(group.intervalMs)) return;
    const now = Date.now();
    if (group.queue.length === 0) {
      group.roundStart = now;
      group.queue = [...group.entries];
    }
    const entry = group.queue.shift();
    if (entry && !(entry.retriedAt !== undefined && entry.retriedAt >= group.roundStart)) this.run(entry);
    if (group.queue.length > 0) {
      const gap = Math.min(this.maxGapMs, group.intervalMs / Math.max(1, group.entries.length));
      // Steps are due a gap apart, measured from when the previous one was due: a timer's
      // lateness and each step's own work, added up over N steps, used to stretch every round
      // past its interval. Catching up is limited to one gap, so a stalled loop never bursts.
      const at = Date.now();
      group.due = Math.max(group.due + gap, at - gap);
      group.pacing = true;
      group.timer = setTimeout(() => this.step(group), Math.max(0, group.due - at));
    } else {
      this.arm(group);
    }
  }

  private run<T>(entry: Entry<T>): void {
    // Still waiting out a Retry-After, or the previous round's request is still going.
    if (entry.inFlight || Date.now() < entry.notBefore) return;
    const controller = new AbortController();
    this.fetches++;
    const promise = invoke(entry.fetch, controller.signal);
    entry.inFlight = { controller, promise };
    promise.then(
      (value) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        entry.last = { value, at: Date.now() };
        entry.failuresInRow = undefined;
        entry.failure = undefined;
        for (const l of [...entry.heard.keys()]) this.safely(() => l.recovered?.(entry.key));
        entry.heard.clear();
        for (const l of [...entry.listeners]) this.deliver(l, value, entry.key);
      },
      (err: unknown) => {
        if (entry.inFlight?.controller !== controller) return;
        entry.inFlight = undefined;
        if (controller.signal.aborted || (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED')) return;
        if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_RATE_LIMITED' && err.retryAfterMs) {
          this.defer(entry, err.retryAfterMs);
        } else if ((!entry.last || entry.retryFailures) && isLeapcraftError(err) && TRANSIENT_CODES.has(err.code)) {
          // Try again soon, backing off, but never later than the round would.
          entry.failuresInRow = (entry.failuresInRow ?? 0) + 1;
          const waitMs = Math.min(EARLY_RETRY_MAX_MS, (this.options.firstValueRetryMs ?? 2000) * 2 ** (entry.failuresInRow - 1));
          if (waitMs < entry.group.intervalMs) this.defer(entry, waitMs);
        }
        const code = isLeapcraftError(err) ? err.code : 'error';
        if (entry.failure?.code !== code) entry.failure = { code, since: Date.now() };
        const since = entry.failure.since;
        for (const l of [...entry.listeners]) {
          const first = entry.heard.get(l) !== code;
          entry.heard.set(l, code);
          this.safely(() => l.error(err, { key: entry.key, code, first, since }));
        }
      },
    );
  }

  /** Not dropped: fetched again as soon as the API allows, then back in the rounds. */
  private defer<T>(entry: Entry<T>, waitMs: number): void {
    entry.notBefore = Date.now() + waitMs;
    clearTimeout(entry.deferTimer);
    entry.deferTimer = setTimeout(() => {
      entry.deferTimer = undefined;
      // Timers and Date.now() can disagree by a few ms: the wait is over, whatever the clock says.
      entry.notBefore = 0;
      if (!this.closed && entry.listeners.size > 0) {
        entry.retriedAt = Date.now();
        this.run(entry);
      }
    }, waitMs);
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

/** A fetch that throws instead of rejecting must not escape from a timer callback. */
function invoke<T>(fetch: Fetch<T>, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fetch(signal));
  } catch (err) {
    return Promise.reject(err);
  }
}
