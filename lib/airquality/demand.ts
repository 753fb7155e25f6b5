/**
 * Ventilation demand from CO2: a share from 0 % to 100 % between two set-points (for a damper
 * or a variable-speed fan), and an on/off demand that switches on at one value and off at a
 * lower one, each state held for a minimum time (for a fan or a relay).
 */

export interface DemandRules {
  /** The proportional demand: 0 % at `demandLow`, 100 % at `demandHigh` (ppm). */
  demandLow: number;
  demandHigh: number;
  /** The on/off demand: on at ≥ onAt, off at ≤ offAt, each held at least minOn/minOff. */
  onAt: number;
  offAt: number;
  minOnMs: number;
  minOffMs: number;
}

/** 0 at or below `demandLow`, 100 at or above `demandHigh`, in proportion between (whole percent). */
export function proportionalDemand(co2: number, rules: Pick<DemandRules, 'demandLow' | 'demandHigh'>): number {
  const share = (co2 - rules.demandLow) / (rules.demandHigh - rules.demandLow);
  return Math.round(Math.min(1, Math.max(0, share)) * 100);
}

export interface SwitchState {
  on: boolean;
  /** When it last switched (epoch ms of the reading). */
  since: number;
}

/** The on/off demand after a reading at `at`, and whether it switched. The first reading decides at once. */
export function nextSwitch(state: SwitchState | undefined, co2: number, at: number, rules: DemandRules): { state: SwitchState; changed: boolean } {
  if (!state) return { state: { on: co2 >= rules.onAt, since: at }, changed: true };
  const held = at - state.since;
  if (!state.on && co2 >= rules.onAt && held >= rules.minOffMs) return { state: { on: true, since: at }, changed: true };
  if (state.on && co2 <= rules.offAt && held >= rules.minOnMs) return { state: { on: false, since: at }, changed: true };
  return { state: { on: state.on, since: state.since }, changed: false };
}
