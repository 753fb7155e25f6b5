/**
 * What a poll answer turns into, by output mode and "only on change": the msgs to send and
 * how many readings they carry (the status shows it). Array mode collects a whole round first.
 */
import { ChangeFilter } from './change-filter';
import { ArrayCycle } from './cycle';
import { arrayMsg, messagesFor, MsgLike, Outcome, OutputMode, Shaping } from './messages';

export interface PollEmission<M> {
  /** Empty when nothing changed since the last emission. */
  msgs: M[];
  emitted: number;
}

export class PollOutput<M extends MsgLike> {
  private readonly changes = new ChangeFilter();
  private readonly cycle: ArrayCycle;

  /** `polled`: the devices polled right now, in the array's order. */
  constructor(
    private readonly mode: OutputMode,
    private readonly changesOnly: boolean,
    polled: () => Iterable<string>,
    private readonly shaping: Shaping<M>,
  ) {
    this.cycle = new ArrayCycle(polled);
  }

  /**
   * Undefined when there is nothing to show yet: an array round still waiting for devices, or
   * a failed device outside array mode (its failure is reported, it has no msg).
   */
  answer(outcome: Outcome): PollEmission<M> | undefined {
    if (this.mode === 'array') {
      const outcomes = this.cycle.record(outcome);
      if (!outcomes) return undefined;
      if (this.changesOnly && !this.changes.roundChanged(outcomes)) return { msgs: [], emitted: 0 };
      return { msgs: [arrayMsg<M>(undefined, outcomes)], emitted: outcomes.filter((o) => o.value !== undefined).length };
    }
    if (outcome.value === undefined) return undefined;
    if (this.changesOnly && !this.changes.deviceChanged(outcome.id, outcome.value)) return { msgs: [], emitted: 0 };
    const msgs = messagesFor(this.mode, undefined, [outcome], this.shaping);
    return { msgs, emitted: msgs.length };
  }

  joined(id: string): void {
    this.cycle.joined(id);
  }

  left(id: string): void {
    this.cycle.left(id);
  }

  /** Drops a round under way (the node closes). */
  reset(): void {
    this.cycle.reset();
  }
}
