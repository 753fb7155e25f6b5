/**
 * What an account's nodes should know of the account as a whole, pushed to them when it changes
 * (as Node-RED's MQTT broker node pushes its connection state to the nodes registered with it):
 * how far the request budget stretches the intervals and why, whether the API refused the key,
 * until when the API asked for a pause, and how this process takes part in a cluster. No node
 * asks for it per answer; each hears of a change once, a microtask after it (a burst of changes
 * is one notice).
 */
import type { BudgetReason } from '../poll/budget';

export type Coordination = 'alone' | 'leader' | 'follower' | 'unshared';

export interface AccountView {
  /** Intervals are stretched by this factor (1: they stand); alert checks by `alertsStretch`. */
  stretch: number;
  alertsStretch: number;
  /** Why the intervals are stretched. */
  paceReason?: BudgetReason;
  /** The API refused the key (the error's message names the endpoint, never the key). */
  keyRefused?: { message: string; since: number };
  /** The API asked the account to pause until then (epoch ms). */
  rateLimitedUntil?: number;
  /** Alone: one process; leader/follower: shared through Redis; unshared: Redis is unreachable, working alone. */
  coordination: Coordination;
}

export type AccountListener = (view: AccountView) => void;

export class AccountState {
  private view: AccountView = { stretch: 1, alertsStretch: 1, coordination: 'alone' };
  private readonly listeners = new Map<unknown, AccountListener>();
  private pending = false;
  private closed = false;
  private rateTimer?: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now, private readonly onListenerError?: (err: unknown) => void) {}

  get current(): AccountView {
    return this.view;
  }

  /** `user` hears the state now and at every change until `deregister(user)`. */
  register(user: unknown, listener: AccountListener): void {
    if (this.closed) return;
    this.listeners.set(user, listener);
    this.call(listener, this.view);
  }

  deregister(user: unknown): void {
    this.listeners.delete(user);
  }

  pace(stretch: number, alertsStretch: number, reason: BudgetReason | undefined): void {
    const paceReason = stretch > 1 || alertsStretch > 1 ? reason ?? 'budget' : undefined;
    this.update({ stretch, alertsStretch, paceReason });
  }

  keyRefused(refusal: { message: string } | undefined): void {
    if (!refusal) return this.update({ keyRefused: undefined });
    if (this.view.keyRefused?.message === refusal.message) return;
    this.update({ keyRefused: { message: refusal.message, since: this.now() } });
  }

  /** The API asked for a pause until `until` (epoch ms); it ends by itself then. */
  rateLimitedUntil(until: number): void {
    if (this.closed || until <= this.now() || until <= (this.view.rateLimitedUntil ?? 0)) return;
    clearTimeout(this.rateTimer);
    this.rateTimer = setTimeout(() => this.update({ rateLimitedUntil: undefined }), until - this.now());
    this.update({ rateLimitedUntil: until });
  }

  coordination(coordination: Coordination): void {
    this.update({ coordination });
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.rateTimer);
    this.listeners.clear();
  }

  private update(patch: Partial<AccountView>): void {
    if (this.closed) return;
    const next: AccountView = { ...this.view, ...patch };
    for (const key of Object.keys(patch) as Array<keyof AccountView>) if (patch[key] === undefined) delete next[key];
    if (JSON.stringify(next) === JSON.stringify(this.view)) return;
    this.view = next;
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => {
      this.pending = false;
      if (this.closed) return;
      for (const listener of [...this.listeners.values()]) this.call(listener, this.view);
    });
  }

  private call(listener: AccountListener, view: AccountView): void {
    try {
      listener(view);
    } catch (err) {
      this.onListenerError?.(err);
    }
  }
}
