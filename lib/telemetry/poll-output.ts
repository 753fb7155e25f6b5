/**
 * What a poll answer turns into, by output mode, emit mode and "only on change": the msgs to
 * send and how many readings they carry (the status shows it).
 *
 * Emit *every interval* (the default): one msg per device per interval, at the key's visit of
 * that interval (the scheduler marks it `round`), with the freshest reading the account has;
 * `msg.fresh` says whether it is new since the previous msg for that device. Emit *each new
 * reading*: a msg as soon as a reading not sent before is read, never a repeat. Array mode
 * collects a whole round first either way (each new reading: only the fresh ones, no msg when
 * none is).
 */
import type { AnswerMeta } from '../poll/delivery';
import { ChangeFilter } from './change-filter';
import { ArrayCycle } from './cycle';
import { Freshness } from './freshness';
import { arrayMsg, messagesFor, MsgLike, Outcome, OutputMode, Shaping } from './messages';

export const EMIT_MODES = ['interval', 'reading'] as const;
export type EmitMode = (typeof EMIT_MODES)[number];

/**
 * With the account shared through Redis: every replica's node emits (dashboards), or only the one
 * acting for the account (databases, actuators), a survivor after a takeover.
 */
export const REPLICA_MODES = ['every', 'one'] as const;
export type ReplicaMode = (typeof REPLICA_MODES)[number];

export interface PollEmission<M> {
  /** Empty when nothing changed since the last emission. */
  msgs: M[];
  emitted: number;
}

export class PollOutput<M extends MsgLike> {
  private readonly changes = new ChangeFilter();
  private readonly cycle: ArrayCycle;
  private readonly freshness = new Freshness();

  /** `polled`: the devices polled right now, in the array's order. */
  constructor(
    private readonly mode: OutputMode,
    private readonly changesOnly: boolean,
    polled: () => Iterable<string>,
    private readonly shaping: Shaping<M>,
    private readonly emit: EmitMode = 'interval',
  ) {
    this.cycle = new ArrayCycle(polled);
  }

  /**
   * Undefined when there is nothing to show: an array round still waiting for devices, a failed
   * device outside array mode (its failure is reported, it has no msg), a value that is not this
   * interval's (every interval) or not new (each new reading). `meta` comes with a value.
   */
  answer(outcome: Outcome, meta?: AnswerMeta): PollEmission<M> | undefined {
    // Only a key's visit of the interval counts towards a round (a failure is one too).
    const visit = meta === undefined || meta.round;
    if (this.mode === 'array') {
      if (!visit) return undefined;
      const round = this.cycle.record(outcome);
      if (!round) return undefined;
      const outcomes = this.emit === 'reading' ? round.filter((o) => o.value === undefined || this.freshness.isFresh(o.id, o.value)) : round;
      const readings = outcomes.filter((o) => o.value !== undefined);
      if (outcomes.length === 0) return { msgs: [], emitted: 0 };
      if (this.changesOnly && !this.changes.roundChanged(outcomes)) return { msgs: [], emitted: 0 };
      const msg = arrayMsg<M>(undefined, outcomes);
      (msg as MsgLike).fresh = this.sent(readings);
      return { msgs: [msg], emitted: readings.length };
    }
    if (outcome.value === undefined) return undefined;
    const fresh = this.freshness.isFresh(outcome.id, outcome.value);
    if (this.emit === 'reading' ? !fresh : !visit) return undefined;
    if (this.changesOnly && !this.changes.deviceChanged(outcome.id, outcome.value)) return { msgs: [], emitted: 0 };
    this.freshness.sentFor(outcome.id, outcome.value);
    const msgs = messagesFor(this.mode, undefined, [outcome], this.shaping);
    for (const msg of msgs) (msg as MsgLike).fresh = fresh;
    return { msgs, emitted: msgs.length };
  }

  /** A msg asked for `outcomes` and got `msgs`: each says whether its reading is new to this node. */
  markFresh(outcomes: readonly Outcome[], msgs: readonly M[]): void {
    const fresh = new Map<string, boolean>();
    for (const o of outcomes) if (o.value !== undefined) fresh.set(o.id, this.freshness.isFresh(o.id, o.value));
    if (this.mode === 'array') {
      for (const msg of msgs) (msg as MsgLike).fresh = [...fresh.values()].includes(true);
    } else {
      for (const msg of msgs) (msg as MsgLike).fresh = fresh.get(String((msg as MsgLike).physical_id)) ?? false;
    }
    this.sent(outcomes.filter((o) => o.value !== undefined));
  }

  joined(id: string): void {
    this.cycle.joined(id);
  }

  left(id: string): void {
    this.cycle.left(id);
    this.freshness.forget(id);
  }

  /** Drops a round under way (the node closes). */
  reset(): void {
    this.cycle.reset();
  }

  /** Records the readings as sent; true when any was fresh. */
  private sent(outcomes: readonly Outcome[]): boolean {
    let any = false;
    for (const o of outcomes) {
      if (this.freshness.isFresh(o.id, o.value)) any = true;
      this.freshness.sentFor(o.id, o.value);
    }
    return any;
  }
}
