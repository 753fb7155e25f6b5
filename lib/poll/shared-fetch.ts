/**
 * Fetches a msg asked for, outside the rounds: simultaneous msgs for the same key share one
 * request, which is cancelled only when the last of them gives up (or the scheduler closes).
 */
import { onAbort } from '../api/abort';
import { LeapcraftAbortedError } from '../api/errors';

export type Fetch<T> = (signal: AbortSignal) => Promise<T>;

interface Job {
  promise: Promise<unknown>;
  controller: AbortController;
  waiters: number;
}

export class SharedFetches {
  private readonly jobs = new Map<string, Job>();

  /**
   * Joins the request for `key` under way, or starts one with `fetch` (`started` runs then, to
   * count it; `failed` with its error, once, however many wait).
   */
  run<T>(key: string, fetch: Fetch<T>, signal: AbortSignal | undefined, started: () => void, failed: (err: unknown) => void): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled(key));
    let job = this.jobs.get(key);
    if (!job) {
      started();
      const controller = new AbortController();
      const created: Job = { controller, waiters: 0, promise: invoke(fetch, controller.signal) };
      created.promise.then(() => this.jobs.delete(key), (err: unknown) => {
        this.jobs.delete(key);
        failed(err);
      });
      this.jobs.set(key, created);
      job = created;
    }
    const shared = job;
    shared.waiters++;
    return waitFor(shared.promise as Promise<T>, key, signal, () => {
      if (--shared.waiters === 0) shared.controller.abort();
    });
  }

  close(): void {
    for (const job of this.jobs.values()) job.controller.abort();
    this.jobs.clear();
  }
}

/**
 * Settles with `promise`, or rejects as cancelled when `signal` aborts first (`gaveUp` runs then,
 * before the rejection). One callback on the signal (lib/api/abort.ts: onAbort), not two
 * listeners: a msg for a thousand devices waits on one signal a thousand times.
 */
export function waitFor<T>(promise: Promise<T>, key: string, signal?: AbortSignal, gaveUp?: () => void): Promise<T> {
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

export function cancelled(key: string): LeapcraftAbortedError {
  return new LeapcraftAbortedError(`${key.split('\u0000').join(' ')}: the request was cancelled`);
}

/** A fetch that throws instead of rejecting must not escape from a timer callback. */
export function invoke<T>(fetch: Fetch<T>, signal: AbortSignal): Promise<T> {
  try {
    return Promise.resolve(fetch(signal));
  } catch (err) {
    return Promise.reject(err);
  }
}
