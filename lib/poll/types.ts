/**
 * The poll scheduler's shapes: what a subscriber and the account may set, and the state it keeps
 * per key (an entry) and per interval (a group), shared by the scheduler's parts.
 */
import type { CadenceLearner, CadenceMode, CadenceOptions } from './cadence';
import type { Answer, Audience } from './delivery';
import type { DueKey } from './due-heap';
import type { OffRoundChecks } from './off-round';
import type { Fetch } from './shared-fetch';
import type { SlotWaiter } from './slots';

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
  /** Every answer this scheduler fetched and delivered, as it is delivered (a cluster shares them). */
  onAnswer?: (answer: Answer) => void;
  /** False: decide and fetch nothing until `setFetching(true)`; default true. */
  fetching?: boolean;
  /**
   * Asked before every scheduled request and again when its answer arrives: false (a cluster
   * leader whose lease may have passed to another) sends nothing and delivers nothing.
   */
  mayFetch?: () => boolean;
  /** A key nobody subscribed before is subscribed (a cluster's follower fetches its last shared answer). */
  onNewKey?: (key: string, intervalMs: number) => void;
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

/** Why a request starts: a round's visit, a planned check between rounds, a deferred or early retry. */
export type Reason = 'round' | 'check' | 'retry';

/** An entry's id: a key polled at two intervals is two entries. */
export function entryId(intervalMs: number, key: string): string {
  return `${intervalMs}\u0000${key}`;
}

export interface Entry<T = unknown> extends DueKey {
  id: string;
  key: string;
  group: Group;
  audience: Audience<T>;
  fetch: Fetch<T>;
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
  inFlight?: { controller: AbortController; promise: Promise<T> };
  notBefore: number;
  deferTimer?: NodeJS.Timeout;
  /** When a Retry-After retry ran: the round it fell in does not fetch the key again. */
  retriedAt?: number;
  /** Failures since the last value (for the early retries' backoff). */
  failuresInRow?: number;
  retryFailures?: boolean;
  /** A round visited the key with nothing to hand out: the next answer is that visit's value. */
  roundOwed: boolean;
  /**
   * `planAt` as last worked out, valid while `planEpoch` equals the scheduler's: a key's plan
   * changes only when the key does (an answer, a failure, a listener) or the account's context
   * does (the period keys agree on, the budget's stretch).
   */
  planEpoch: number;
  planAt?: number;
}

export interface Group {
  id: string;
  intervalMs: number;
  priority?: 'alerts';
  entries: Entry[];
  queue: Entry[];
  roundStart: number;
  timer?: NodeJS.Timeout;
  /** The timer paces a round under way (rather than waiting for the next round). */
  pacing: boolean;
  /** When the pending step was due: the next one is due a gap later, not a gap after this one ran. */
  due: number;
  /** The round waits for the budget to allow its next request. */
  blocked?: SlotWaiter;
  offRound: OffRoundChecks<Entry>;
}

