/**
 * The delivering side of the poll scheduler: each key's listeners, the last value they were
 * handed, and the key's failure state. Answers reach it as `Answer`s, whether this process
 * fetched them or another one did (a cluster's leader, through Redis): a listener cannot tell.
 */
import { isLeapcraftError } from '../api/errors';

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

/** What a delivered value is to the key's listeners. */
export interface AnswerMeta {
  /**
   * The key's visit of this interval: one per key per interval (the fetched value, or the cached
   * one while no new reading can be due). False for a value between visits (a new reading a
   * planned check found, a retry's), delivered only when it carries news.
   */
  round: boolean;
  /** It carries a reading the key had not seen before (always true for keys without cadence). */
  news: boolean;
}

/**
 * A subscriber of a key. `error` comes with every failed fetch (a round must know a key has
 * answered, even badly), `failure.first` once per change; `recovered` once, before the value
 * that ends a failure. A fetch cancelled by unsubscribe or close (LEAPCRAFT_ABORTED) is
 * nobody's failure and reaches no listener.
 */
export interface Listener<T> {
  next(value: T, key: string, meta: AnswerMeta): void;
  error(err: unknown, failure: Failure): void;
  recovered?(key: string): void;
}

/**
 * One answer for a key polled at an interval: a value (delivered with `meta`, or only kept) or a
 * failure. `fetched`: it is a request's answer (not a visit served from the cache), which a
 * scheduler that did not send it still learns from and counts against the budget.
 */
export type Answer<T = unknown> =
  | { kind: 'value'; key: string; intervalMs: number; value: T; at: number; meta?: AnswerMeta; fetched?: boolean }
  | { kind: 'failure'; key: string; intervalMs: number; error: unknown; at: number; fetched?: boolean };

/** One key's listeners, its last value and its failure state (Home Assistant's `last_update_success`). */
export class Audience<T> {
  readonly listeners = new Set<Listener<T>>();
  /** Listeners subscribed without `cadence`: while there is one, the key follows the rounds. */
  readonly plain = new Set<Listener<T>>();
  /** The failure code each listener was last told of, so it hears each change once. */
  private readonly heard = new Map<Listener<T>, string>();
  last?: { value: T; at: number };
  failure?: { code: string; since: number };

  /** `safely` runs a listener's call so that one that throws stops neither the others nor a round. */
  constructor(readonly key: string, private readonly safely: (call: () => void) => void) {}

  get size(): number {
    return this.listeners.size;
  }

  add(listener: Listener<T>, plain: boolean): void {
    this.listeners.add(listener);
    if (plain) this.plain.add(listener);
    else this.plain.delete(listener);
  }

  remove(listener: Listener<T>): void {
    this.listeners.delete(listener);
    this.heard.delete(listener);
    this.plain.delete(listener);
  }

  /** Hands the last value to one listener (it just joined) or to all (a visit served from the cache). */
  replay(meta: AnswerMeta, only?: Listener<T>): void {
    const last = this.last;
    if (!last) return;
    for (const l of only ? [only] : [...this.listeners]) this.safely(() => l.next(last.value, this.key, meta));
  }

  /** A value: it ends a failure (`recovered`, once to each listener that heard of it), and is delivered with `meta`. */
  value(value: T, at: number, meta: AnswerMeta | undefined): void {
    this.last = { value, at };
    this.failure = undefined;
    for (const l of [...this.heard.keys()]) this.safely(() => l.recovered?.(this.key));
    this.heard.clear();
    if (meta) this.replay(meta);
  }

  failed(err: unknown, now: number): void {
    const code = errorCode(err);
    if (this.failure?.code !== code) this.failure = { code, since: now };
    const since = this.failure.since;
    for (const l of [...this.listeners]) {
      const first = this.heard.get(l) !== code;
      this.heard.set(l, code);
      this.safely(() => l.error(err, { key: this.key, code, first, since }));
    }
  }

  clear(): void {
    this.listeners.clear();
    this.plain.clear();
    this.heard.clear();
  }
}

function errorCode(err: unknown): string {
  return isLeapcraftError(err) ? err.code : 'error';
}
