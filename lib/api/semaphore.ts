import { abortReason } from './abort';

/**
 * What a queued waiter can be cancelled by: an AbortSignal, or something that says so as
 * cheaply (the transport's request under way: no AbortSignal per queued request).
 */
export interface Cancellation {
  readonly aborted: boolean;
  readonly reason: unknown;
  /** Runs `fn` once when it is cancelled; returns how to stop listening. */
  onCancel(fn: () => void): () => void;
}

interface Waiter {
  resolve: (release: () => void) => void;
  reject: (err: unknown) => void;
  off?: () => void;
}

/**
 * Caps how many requests an account has on the wire at once. A waiter that is aborted
 * leaves the queue, so a closing node does not hold a slot it will never use.
 */
export class Semaphore {
  private active = 0;
  private readonly waiters: Waiter[] = [];

  /** Slots, at most this many taken at once. */
  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`concurrency must be a positive integer, got ${limit}`);
  }

  get inUse(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /**
   * Resolves with a release function; call it exactly once. `first` puts the waiter at the
   * head of the queue (work that other work waits for).
   */
  acquire(signal?: AbortSignal | Cancellation, first = false): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(signal instanceof AbortSignal ? abortReason(signal) : signal.reason);
    if (this.active < this.limit) {
      this.active++;
      return Promise.resolve(this.releaser());
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { resolve, reject };
      if (signal) {
        const onAbort = () => {
          const i = this.waiters.indexOf(waiter);
          if (i >= 0) this.waiters.splice(i, 1);
          reject(signal instanceof AbortSignal ? abortReason(signal) : signal.reason);
        };
        if (signal instanceof AbortSignal) {
          signal.addEventListener('abort', onAbort, { once: true });
          waiter.off = () => signal.removeEventListener('abort', onAbort);
        } else {
          waiter.off = signal.onCancel(onAbort);
        }
      }
      if (first) this.waiters.unshift(waiter);
      else this.waiters.push(waiter);
    });
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiters.shift();
      if (next) {
        // The slot passes straight on: `active` stays the same.
        next.off?.();
        next.resolve(this.releaser());
      } else {
        this.active--;
      }
    };
  }
}
