/**
 * Cadence-aware keys' plans: when each key next needs a request (just after its next reading is
 * due), what it needs per hour for the budget, and what its learner is told of each answer. A
 * plan is worked out once per change of its key or of what every plan depends on (the period the
 * keys agree on, the budget's stretch), not on every read: the off-round timer reads plans after
 * every answer, ten thousand of them per request at building scale.
 */
import { HOUR_MS, Need } from './budget';
import { CadenceContext, CadenceOptions } from './cadence';
import { PeriodHint } from './period-hint';
import type { CadenceView, Entry } from './types';

export class KeyPlans {
  /** Bumped when what every plan depends on moves: a key's plan is valid while its `planEpoch` equals it. */
  private epoch = 0;
  private readonly hint: PeriodHint<Entry>;

  /**
   * `factor(priority)`: how far the budget stretches the intervals now; `hintMoved` runs when the
   * agreed period moves (after the plans are marked stale).
   */
  constructor(options: CadenceOptions | undefined, private readonly factor: (priority: 'alerts' | undefined) => number, hintMoved: () => void) {
    this.hint = new PeriodHint(options, () => {
      this.moved();
      hintMoved();
    });
  }

  /** Every plan is worked out again when next read. */
  moved(): void {
    this.epoch++;
  }

  /** The key's plan changed (an answer, a failure, a listener, its group). */
  stale(entry: Entry): void {
    entry.planEpoch = -1;
  }

  /** Works out an agreed period left stale by keys that left (see PeriodHint). */
  settle(): void {
    this.hint.settle();
  }

  /** When a cadence-aware key next needs a request; undefined when it follows the rounds. */
  plannedAt(entry: Entry, now: number): number | undefined {
    this.hint.settle();
    if (entry.planEpoch === this.epoch) return entry.planAt;
    const cadence = entry.cadence;
    const audience = entry.audience;
    let at: number | undefined;
    // A key plans only once it has a reading (and so a last check) to plan from: the plan does not depend on `now`.
    if (cadence && audience.plain.size === 0 && !audience.failure && audience.last) {
      const context = this.contextOf(entry);
      if (cadence.learner.plans(entry.group.intervalMs, context)) at = cadence.learner.nextCheckAt(now, entry.group.intervalMs, context);
    }
    entry.planEpoch = this.epoch;
    entry.planAt = at;
    return at;
  }

  /** Feeds a value to the key's learner. True when it carries a new reading (always, without cadence). */
  observe<T>(entry: Entry<T>, value: T, now: number, onError: (err: unknown) => void): boolean {
    const cadence = entry.cadence;
    if (!cadence) return true;
    let time: number | undefined;
    try {
      time = cadence.source.timeOf(value);
    } catch (err) {
      onError(err);
    }
    const before = cadence.learner.ownPeriodMs;
    const news = cadence.learner.observe(time, now, this.contextOf(entry as Entry));
    this.stale(entry as Entry);
    if (cadence.learner.ownPeriodMs !== before) this.hint.set(entry as Entry, cadence.learner.ownPeriodMs);
    return news;
  }

  /** Requests per hour one key needs at its own interval (cadence-aware: at its expected rate). */
  needOf(entry: Entry): number {
    const cadence = entry.cadence;
    const hourly = HOUR_MS / entry.group.intervalMs;
    if (!cadence || entry.audience.plain.size > 0 || !entry.audience.last) return hourly;
    const context: CadenceContext = {};
    const hint = this.hint.periodMs;
    if (hint !== undefined) context.hintPeriodMs = hint;
    return cadence.learner.expectedPerHour(entry.group.intervalMs, context);
  }

  /** When the key's off-round check is due (Infinity: none planned). */
  dueAt(entry: Entry, now: number): number {
    if (!entry.cadence || entry.inFlight) return Infinity;
    const at = this.plannedAt(entry, now);
    return at === undefined ? Infinity : Math.max(at, entry.notBefore, entry.cadence.holdUntil);
  }

  /** Requests per hour the keys need at their own intervals, alert checks apart. */
  need(entries: Iterable<Entry>): Need {
    const need: Need = { alerts: 0, others: 0 };
    for (const entry of entries) {
      const perHour = this.needOf(entry);
      if (entry.group.priority === 'alerts') need.alerts += perHour;
      else need.others += perHour;
    }
    return need;
  }

  /** The key is gone: its period no longer counts towards the agreed one. */
  forget(entry: Entry): void {
    this.hint.forget(entry);
  }

  view(entry: Entry, now: number): CadenceView | undefined {
    const cadence = entry.cadence;
    if (!cadence) return undefined;
    const planned = this.plannedAt(entry, now);
    const view: CadenceView = {
      mode: cadence.learner.mode,
      marginMs: cadence.learner.marginMs,
      planned: planned !== undefined,
      readings: cadence.learner.readings,
      checks: cadence.learner.checks,
    };
    const period = cadence.learner.periodMs(this.contextOf(entry));
    if (period !== undefined) view.periodMs = period;
    if (planned !== undefined) view.nextCheckAt = planned;
    return view;
  }

  close(): void {
    this.hint.close();
  }

  private contextOf(entry: Entry): CadenceContext {
    const context: CadenceContext = { stretch: this.factor(entry.group.priority) };
    const hint = this.hint.periodMs;
    if (hint !== undefined) context.hintPeriodMs = hint;
    return context;
  }
}
