/**
 * The account's request budget as the scheduler plans with it: one stretch factor for the
 * intervals when the keys need more than the budget allows (alert checks first), the slots that
 * make a request wait while the rolling hour is full, and the budget's listeners, told when its
 * state or the stretch changes. What the limits are lives in budget.ts; who waits first, in
 * slots.ts.
 */
import type { RateLimitInfo } from '../api/rate-limit';
import { BudgetState, Need, paceFloor, RequestBudget, Stretch, stretchFactors } from './budget';
import { RequestSlots, SlotWaiter } from './slots';

export interface BudgetPlannerOptions {
  /** Requests per rolling hour; undefined: none. */
  perHour?: number;
  now: () => number;
  /** Requests per hour the keys need at their own intervals. */
  need: () => Need;
  /** The stretch moved: every interval and plan that depends on it is worked out again. */
  onStretch: () => void;
  /** A listener that threw must not stop the others. */
  onListenerError?: (err: unknown) => void;
}

export class BudgetPlanner {
  private readonly budget: RequestBudget;
  private readonly slots: RequestSlots;
  private stretchNow: Stretch = { alerts: 1, others: 1 };
  /** Wakes the plan when the pace rises or an API window runs out. */
  private timer?: { timer: NodeJS.Timeout; at: number };
  private readonly listeners = new Set<(state: BudgetState) => void>();
  private view: string;
  private notifyPending = false;
  private replanPending = false;
  private closed = false;

  constructor(private readonly options: BudgetPlannerOptions) {
    this.budget = new RequestBudget(options.perHour);
    this.slots = new RequestSlots((now) => this.budget.nextStartAt(now), options.now);
    this.view = this.viewOf();
  }

  get stretch(): Stretch {
    return this.stretchNow;
  }

  /** How far the intervals of keys with `priority` are stretched now. */
  factor(priority: 'alerts' | undefined): number {
    return priority === 'alerts' ? this.stretchNow.alerts : this.stretchNow.others;
  }

  /** True when a budget (configured or learnt from the API) shapes the plan. */
  get planning(): boolean {
    return this.budget.planningPerHour(this.options.now()) !== undefined;
  }

  mayStart(now: number): boolean {
    return this.budget.mayStart(now);
  }

  /** A request started (by a round, a check, a retry or a msg). */
  record(now: number): void {
    this.budget.record(now);
  }

  /** `resume` runs once a request may start and it is this waiter's turn (alert checks first). */
  wait(alerts: boolean, resume: () => void): SlotWaiter {
    return this.slots.wait(alerts, resume);
  }

  cancel(waiter: SlotWaiter | undefined): void {
    this.slots.cancel(waiter);
  }

  setBudget(perHour: number | undefined): void {
    this.budget.setConfigured(perHour ?? undefined);
    this.slots.reopen();
    this.replan();
  }

  /** What the API's rate-limit headers said: the plan stays under it, and no request starts once none remain. */
  noteApiLimit(info: RateLimitInfo): void {
    if (this.closed) return;
    if (this.budget.noteApiLimit(info, this.options.now())) this.replan();
    this.slots.reopen();
  }

  /** A 429: the pace is cut, and rises again while no further 429 comes (budget.ts says by how much). */
  rateLimited(): void {
    if (this.closed) return;
    this.budget.setPaceFloor(paceFloor(this.options.need().alerts));
    if (this.budget.rateLimited(this.options.now(), this.state().plannedPerHour)) this.replan();
  }

  state(): BudgetState {
    const need = this.options.need();
    const s = this.stretchNow;
    return {
      ...this.budget.state(this.options.now()),
      neededPerHour: need.alerts + need.others,
      plannedPerHour: need.alerts / s.alerts + need.others / s.others,
      stretch: s.others,
      alertsStretch: s.alerts,
    };
  }

  /**
   * Told (once per burst of changes, a microtask later) when the budget state or the stretch
   * changes; `state()` gives it at any time.
   */
  onChange(listener: (state: BudgetState) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Works the stretch out again from the keys' need and the working budget. */
  replan(): void {
    if (this.closed) return;
    const now = this.options.now();
    const need = this.options.need();
    this.budget.setPaceFloor(paceFloor(need.alerts));
    this.budget.expire(now);
    const perHour = this.budget.planningPerHour(now);
    const next = perHour === undefined ? { alerts: 1, others: 1 } : stretchFactors(need, perHour);
    const moved = next.alerts !== this.stretchNow.alerts || next.others !== this.stretchNow.others;
    this.stretchNow = next;
    if (moved) this.options.onStretch();
    this.armTimer();
    this.notify();
  }

  /**
   * `replan` once, a microtask later, for a burst of keys coming or going: a deploy or a close
   * subscribes or drops ten thousand keys one by one, and each replan weighs every key's need.
   */
  replanSoon(): void {
    if (this.replanPending || this.closed) return;
    this.replanPending = true;
    queueMicrotask(() => {
      this.replanPending = false;
      try {
        this.replan();
      } catch (err) {
        this.options.onListenerError?.(err);
      }
    });
  }

  close(): void {
    this.closed = true;
    this.slots.close();
    clearTimeout(this.timer?.timer);
    this.timer = undefined;
    this.listeners.clear();
  }

  private armTimer(): void {
    const at = this.budget.nextChangeAt(this.options.now());
    if (this.timer?.at === at) return;
    clearTimeout(this.timer?.timer);
    this.timer = undefined;
    if (at === undefined || this.closed) return;
    const timer = setTimeout(() => {
      this.timer = undefined;
      this.replan();
      this.slots.reopen();
    }, Math.max(0, at - this.options.now()));
    this.timer = { timer, at };
  }

  private notify(): void {
    const view = this.viewOf();
    if (view === this.view) return;
    this.view = view;
    // Once per burst of changes (a deploy subscribes a thousand keys one by one).
    if (this.notifyPending || this.listeners.size === 0) return;
    this.notifyPending = true;
    void Promise.resolve().then(() => {
      this.notifyPending = false;
      if (this.closed) return;
      const state = this.state();
      for (const listener of [...this.listeners]) {
        try {
          listener(state);
        } catch (err) {
          this.options.onListenerError?.(err);
        }
      }
    });
  }

  private viewOf(): string {
    const s = this.budget.state(this.options.now());
    const round = (x: number) => Math.round(x * 100) / 100;
    return JSON.stringify([s.perHour, s.effectivePerHour, s.reason, s.rateLimitedAt, round(this.stretchNow.alerts), round(this.stretchNow.others)]);
  }
}
