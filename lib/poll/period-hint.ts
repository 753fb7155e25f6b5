/**
 * The reporting period most cadence-aware keys agree on: a key with no period of its own yet
 * plans with it (a thousand sensors of one model report alike). Each key's own period is kept
 * sorted as it changes, so working the hint out again is cheap.
 */
import { CadenceOptions, commonPeriod } from './cadence';

export class PeriodHint<K> {
  private readonly own = new Map<K, number>();
  private readonly sorted: number[] = [];
  private value?: number;
  /**
   * A key with a period of its own left: the hint is worked out again when next read or at the end
   * of the current task, whichever comes first, so a node closing ten thousand keys works it out
   * once, not ten thousand times.
   */
  private stale = false;
  private closed = false;

  /** `moved` runs when the hint changes: every key planning with it re-plans. */
  constructor(private readonly options: CadenceOptions | undefined, private readonly moved: () => void) {}

  /** The agreed period; undefined while keys agree on none. */
  get periodMs(): number | undefined {
    this.settle();
    return this.value;
  }

  /** The key's own period is now `period` (undefined: none); the hint is worked out again now. */
  set(key: K, period: number | undefined): void {
    this.place(key, period);
    this.update();
  }

  /** The key is gone. */
  forget(key: K): void {
    if (!this.own.has(key)) return;
    this.place(key, undefined);
    if (this.stale) return;
    this.stale = true;
    queueMicrotask(() => this.settle());
  }

  /** Works out a hint left stale. */
  settle(): void {
    if (!this.stale) return;
    this.stale = false;
    if (!this.closed) this.update();
  }

  close(): void {
    this.closed = true;
    this.own.clear();
    this.sorted.length = 0;
  }

  private place(key: K, period: number | undefined): void {
    const old = this.own.get(key);
    if (old !== undefined) this.sorted.splice(sortedIndex(this.sorted, old), 1);
    if (period === undefined) {
      this.own.delete(key);
      return;
    }
    this.own.set(key, period);
    this.sorted.splice(sortedIndex(this.sorted, period), 0, period);
  }

  private update(): void {
    this.stale = false;
    const hint = commonPeriod(this.sorted, this.options);
    if (hint === this.value) return;
    this.value = hint;
    this.moved();
  }
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
