/**
 * A device's category without chatter: it changes only when the value has passed the boundary
 * by a margin and stayed past it for a dwell time, so a reading that wobbles around a boundary
 * keeps its category. A device's first reading sets its category at once. Time is the
 * readings' own time, so the decision is the same whenever the msgs arrive.
 */

export interface CategoryState {
  /** The level in force (1 best). */
  level: number;
  /** When it came into force (epoch ms). */
  since: number;
  /** A change under way: the level the readings point to and since when they have. */
  pending?: { level: number; since: number };
}

export interface CategoryRules {
  /** The level of a value as the profile's table reads (for this reading's outdoor CO2). */
  classify: (co2: number) => number;
  marginPpm: number;
  dwellMs: number;
}

/** The level a reading points to: past a boundary by the margin, or the level in force. */
export function targetLevel(level: number, co2: number, rules: CategoryRules): number {
  const up = rules.classify(co2 - rules.marginPpm);
  if (up > level) return up;
  const down = rules.classify(co2 + rules.marginPpm);
  return down < level ? down : level;
}

/** The category after a reading at `at`, and whether it changed. */
export function nextCategory(state: CategoryState | undefined, co2: number, at: number, rules: CategoryRules): { state: CategoryState; changed: boolean } {
  if (!state) return { state: { level: rules.classify(co2), since: at }, changed: true };
  const target = targetLevel(state.level, co2, rules);
  if (target === state.level) return { state: { level: state.level, since: state.since }, changed: false };
  // The dwell runs while the readings stay on the same side; turning back starts it again.
  const sameWay = state.pending && Math.sign(state.pending.level - state.level) === Math.sign(target - state.level);
  const pendingSince = sameWay ? state.pending!.since : at;
  if (at - pendingSince >= rules.dwellMs) return { state: { level: target, since: at }, changed: true };
  return { state: { level: state.level, since: state.since, pending: { level: target, since: pendingSince } }, changed: false };
}
