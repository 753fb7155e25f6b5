/**
 * Array mode's round: the scheduler paces a round's requests over the interval, so the
 * answers trickle in one by one. The array msg waits until every polled device has
 * answered (a value or an error), so it always covers the whole round.
 */
import { Outcome } from './messages';

export class ArrayCycle {
  private round?: { pending: Set<string>; outcomes: Map<string, Outcome> };

  /** `polled`: the devices polled right now, in the order the array lists them. */
  constructor(private readonly polled: () => Iterable<string>) {}

  /** Records a device's answer; returns the round's outcomes, in device order, once it is complete. */
  record(outcome: Outcome): Outcome[] | undefined {
    // A round starts with the first answer after the last one completed.
    const round = this.round ?? (this.round = { pending: new Set(this.polled()), outcomes: new Map() });
    round.outcomes.set(outcome.id, outcome);
    round.pending.delete(outcome.id);
    if (round.pending.size > 0) return undefined;
    this.round = undefined;
    // Devices that stopped being polled during the round are left out.
    return [...this.polled()].map((id) => round.outcomes.get(id)).filter((o): o is Outcome => !!o);
  }

  /** A device started being polled: a round under way waits for it too. */
  joined(id: string): void {
    this.round?.pending.add(id);
  }

  /** A device is no longer polled: a round under way no longer waits for it. */
  left(id: string): void {
    this.round?.pending.delete(id);
  }

  reset(): void {
    this.round = undefined;
  }
}
