/**
 * Simulated time for the runs that cover minutes or hours (frugal polling, the 10,000-device
 * hour): sinon's fake timers replace setTimeout/clearTimeout/setInterval/clearInterval and
 * Date in this process, so the package's scheduler, its pacing and its budget run on a clock
 * that only moves when told to. Requests are real: HTTP to a real simulator whose clock is the
 * same fake one. While requests are on the wire the fake clock stands still and the real event
 * loop runs (setImmediate is not faked) until they are answered, so a request and its answer
 * take no simulated time, the simulator answering at once.
 *
 * Two ways to move: `step` fires the next timer, then waits until every request is answered
 * (exact: each request sees the clock of the timer that started it; for hundreds of devices);
 * `slice` moves the clock by a slice with sinon's tickAsync (which yields to the real event
 * loop between timers, so answers arrive meanwhile), then waits for the rest (for ten
 * thousand devices; a request may be answered up to a slice later than it was sent).
 *
 * Requests count as under way when started through `track`, or while `busy()` (given at
 * construction) says so: a Node-RED node's requests cannot be wrapped, its account's client
 * counts them (`stats().inFlight`).
 */
import { performance } from 'node:perf_hooks';
import sinon from 'sinon';

const realImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export class SimClock {
  readonly clock: sinon.SinonFakeTimers;
  /** Requests under way (started through `track` and not yet settled). */
  inFlight = 0;
  /** Waits for answers that gave up (a request stuck behind a fake timer), for the report. */
  stuckWaits = 0;
  private done = false;

  /**
   * `onNow` hears every move of the clock (to share it with a simulator in a worker thread);
   * `busy` counts requests under way that were not started through `track`.
   */
  constructor(start: number, onNow?: (now: number) => void, private readonly busy: () => number = () => 0) {
    this.clock = sinon.useFakeTimers({ now: start, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    if (onNow) {
      let now = this.clock.now;
      Object.defineProperty(this.clock, 'now', {
        configurable: true,
        enumerable: true,
        get: () => now,
        set: (value: number) => {
          now = value;
          onNow(value);
        },
      });
      onNow(now);
    }
  }

  get now(): number {
    return this.clock.now;
  }

  /** Counts a request as under way until it settles. */
  track<T>(request: () => Promise<T>): Promise<T> {
    this.inFlight++;
    let promise: Promise<T>;
    try {
      promise = request();
    } catch (err) {
      this.inFlight--;
      throw err;
    }
    return promise.finally(() => {
      this.inFlight--;
    });
  }

  /** Real time passes until no request is under way (at most `maxMs` without one settling). */
  async settle(maxMs = 5000): Promise<void> {
    const pending = () => this.inFlight + this.busy();
    let last = -1;
    let since = performance.now();
    // Done once nothing has been under way for three turns of the real event loop in a row: what
    // a timer or an answer starts (a promise chain that gets to its request only after a few
    // awaits, a handler on a later tick) counts as under way by then.
    for (let quiet = 0; quiet < 3;) {
      await realImmediate();
      const n = pending();
      if (n === 0) {
        quiet++;
        continue;
      }
      quiet = 0;
      if (n !== last) {
        last = n;
        since = performance.now();
      } else if (performance.now() - since > maxMs) {
        this.stuckWaits++;
        break;
      }
    }
  }

  /** Fires timers one by one up to `end`, settling the requests each one starts. */
  async runByStep(end: number, onStep?: () => void): Promise<void> {
    this.done = false;
    const sentinel = setTimeout(() => { this.done = true; }, Math.max(0, end - this.now));
    await this.settle();
    while (!this.done) {
      this.clock.next();
      await this.settle();
      onStep?.();
    }
    clearTimeout(sentinel);
  }

  /** Moves the clock to `end` in slices of `sliceMs`, settling at the end of each; `atSlice` runs after each. */
  async runBySlice(end: number, sliceMs: number, atSlice?: (now: number) => Promise<void> | void): Promise<void> {
    await this.settle();
    while (this.now < end) {
      await this.clock.tickAsync(Math.min(sliceMs, end - this.now));
      await this.settle();
      await atSlice?.(this.now);
    }
  }

  restore(): void {
    this.clock.restore();
  }
}
