/**
 * Who gets the next request the budget allows, when polls are waiting for one: alert checks
 * first, otherwise first come first served (rounds and retries of every interval take turns,
 * so no key is starved). After three alert checks in a row a waiting poll gets a turn, so
 * even alert checks that alone fill the budget cannot starve the other keys. One timer, set
 * to when the budget next allows a request, however many wait.
 */

export interface SlotWaiter {
  readonly alerts: boolean;
  readonly resume: () => void;
}

const ALERTS_IN_A_ROW = 3;

export class RequestSlots {
  private alerts: SlotWaiter[] = [];
  private others: SlotWaiter[] = [];
  private alertsInARow = 0;
  private timer?: NodeJS.Timeout;
  private closed = false;

  /** `nextStartAt(now)`: the earliest time the budget lets a request start. */
  constructor(private readonly nextStartAt: (now: number) => number, private readonly now: () => number) {}

  get size(): number {
    return this.alerts.length + this.others.length;
  }

  /** `resume` runs (once) when a request may start and it is this waiter's turn. */
  wait(alerts: boolean, resume: () => void): SlotWaiter {
    const waiter: SlotWaiter = { alerts, resume };
    (alerts ? this.alerts : this.others).push(waiter);
    this.arm();
    return waiter;
  }

  /** The waiter no longer wants a slot (its key or group is gone). */
  cancel(waiter: SlotWaiter | undefined): void {
    if (!waiter) return;
    if (waiter.alerts) this.alerts = this.alerts.filter((w) => w !== waiter);
    else this.others = this.others.filter((w) => w !== waiter);
  }

  /** The limits moved: waiters may go sooner (or later) than the timer thought. */
  reopen(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.arm();
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.alerts = [];
    this.others = [];
  }

  private arm(): void {
    if (this.timer || this.size === 0 || this.closed) return;
    const now = this.now();
    this.timer = setTimeout(() => this.open(), Math.max(0, this.nextStartAt(now) - now));
  }

  /** Hands out the requests the budget allows now, in turn. */
  private open(): void {
    this.timer = undefined;
    while (!this.closed && this.size > 0 && this.nextStartAt(this.now()) <= this.now()) this.next()!.resume();
    this.arm();
  }

  /** The waiter whose turn it is, taken off the queue. */
  private next(): SlotWaiter | undefined {
    if (this.alerts.length > 0 && (this.others.length === 0 || this.alertsInARow < ALERTS_IN_A_ROW)) {
      this.alertsInARow++;
      return this.alerts.shift();
    }
    this.alertsInARow = 0;
    return this.others.shift();
  }
}
