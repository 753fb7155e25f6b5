/**
 * A group's checks between rounds: cadence-aware keys that plan a request just after their next
 * reading is due are fetched then, by one timer for the whole group, paced like a round (a gap
 * apart at least) and waiting for the budget like a round does.
 */
import { DueHeap, DueItem, DueKey } from './due-heap';
import type { SlotWaiter } from './slots';

export interface OffRoundHost<K extends DueKey> {
  now(): number;
  /**
   * Brings every key's plan up to date before the heap is read (a pending change of the period
   * the keys agree on re-notes every key: done first, not halfway through a read).
   */
  settle(): void;
  /** When the key's off-round check is due; Infinity when it has none. */
  dueAt(key: K, now: number): number;
  /** The least pause between two checks of the group. */
  gapMs(): number;
  /** False once the group (or the scheduler) is gone. */
  live(): boolean;
  mayStart(now: number): boolean;
  waitForSlot(resume: () => void): SlotWaiter;
  cancelSlot(waiter: SlotWaiter | undefined): void;
  /** Starts the key's request. */
  start(key: K, now: number): void;
}

export class OffRoundChecks<K extends DueKey> {
  private readonly heap = new DueHeap<K>();
  private timer?: NodeJS.Timeout;
  private blocked?: SlotWaiter;
  private lastAt = -Infinity;
  private soon = false;
  /** Cadence-aware keys in the group: without any, nothing to arm. */
  keys = 0;

  constructor(private readonly host: OffRoundHost<K>) {}

  /**
   * The key's check may have come sooner (or gone): its item is replaced. A check that went
   * later needs nothing: its item is found stale when it reaches the top.
   */
  note(key: K): void {
    this.heap.schedule(key, this.host.dueAt(key, this.host.now()));
  }

  /** Every key's plan may have moved (the period hint, the budget's stretch). */
  renote(keys: Iterable<K>): void {
    this.heap.clear();
    for (const key of keys) this.note(key);
  }

  /** (Re)sets the timer to the earliest planned check. */
  arm(): void {
    this.soon = false;
    this.host.settle();
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.blocked || this.keys === 0 || !this.host.live()) return;
    const now = this.host.now();
    const earliest = this.earliest(now);
    if (!earliest) return;
    const at = Math.max(earliest.at, this.lastAt + this.host.gapMs());
    this.timer = setTimeout(() => this.step(), Math.max(0, at - now));
  }

  /**
   * Re-arms at the end of the current task (or sooner, when anything arms it meanwhile): a node
   * closing ten thousand keys re-arms the group once, with every key gone, not once per key.
   */
  armSoon(): void {
    if (this.soon) return;
    this.soon = true;
    queueMicrotask(() => {
      if (this.soon) this.arm();
    });
  }

  close(): void {
    this.soon = false;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.host.cancelSlot(this.blocked);
    this.blocked = undefined;
    this.heap.clear();
  }

  /**
   * The earliest check, as a scan of every key would find it (the lowest time, then the key that
   * joined first). Stale items on top are dropped; one whose key's time moved later (its request
   * went out, a Retry-After) is put back at its time.
   */
  private earliest(now: number): DueItem<K> | undefined {
    for (;;) {
      const top = this.heap.peek();
      if (!top) return undefined;
      if (!DueHeap.current(top)) {
        this.heap.pop();
        continue;
      }
      const at = this.host.dueAt(top.key, now);
      if (at === top.at) return top;
      this.heap.pop();
      this.heap.schedule(top.key, at);
    }
  }

  /** Fetches the most overdue check, then waits for the next one. */
  private step(): void {
    this.host.settle();
    this.timer = undefined;
    if (!this.host.live()) return;
    const now = this.host.now();
    const earliest = this.earliest(now);
    if (earliest && earliest.at <= now) {
      if (!this.host.mayStart(now)) {
        this.blocked = this.host.waitForSlot(() => {
          this.blocked = undefined;
          this.step();
        });
        return;
      }
      this.lastAt = now;
      this.host.start(earliest.key, now);
    }
    this.arm();
  }
}
