/**
 * What the daily report needs of past readings, kept small enough for a context store:
 * per device and quarter hour of occupied time, the seconds at each level, the ppm·seconds
 * above the profile's limit and the highest CO2 with its time. Unoccupied time is never
 * stored; a quarter hour is the grain of every time zone's offset, so local report times on
 * the quarter hour fall on slot boundaries.
 */
import { MINUTE_MS } from './zone';

export const SLOT_MS = 15 * MINUTE_MS;

/** [seconds at level 1 … n, ppm·seconds above the limit, highest CO2 (-1: none), its time (epoch s)]. */
export type Slot = number[];
/** By slot index (epoch ms / SLOT_MS). */
export type Slots = Record<string, Slot>;

/** A stretch of occupied time during which one reading held. */
export interface Held {
  from: number;
  to: number;
  co2: number;
  level: number;
  /** ppm above the limit (0 when below). */
  over: number;
}

/** Adds a held stretch to the slots it covers (`levels`: the profile's number of categories). */
export function addHeld(slots: Slots, held: Held, levels: number): void {
  for (let t = held.from; t < held.to;) {
    const index = Math.floor(t / SLOT_MS);
    const end = Math.min(held.to, (index + 1) * SLOT_MS);
    const seconds = (end - t) / 1000;
    const slot = (slots[index] ??= [...new Array<number>(levels + 1).fill(0), -1, 0]);
    slot[held.level - 1] += seconds;
    slot[levels] += held.over * seconds;
    if (held.co2 > slot[levels + 1]) {
      slot[levels + 1] = held.co2;
      slot[levels + 2] = t / 1000;
    }
    t = end;
  }
}

export interface Totals {
  /** Seconds at each level (index 0: level 1). */
  seconds: number[];
  /** ppm·seconds above the limit. */
  over: number;
  /** The highest CO2 and when it first held (epoch ms). */
  max?: { co2: number; at: number };
}

export function emptyTotals(levels: number): Totals {
  return { seconds: new Array<number>(levels).fill(0), over: 0 };
}

/** Adds the slots that start within [from, to) to `totals`, oldest first (a tie keeps the earlier maximum). */
export function addSlots(totals: Totals, slots: Slots, from: number, to: number, levels: number): Totals {
  const first = Math.ceil(from / SLOT_MS);
  const end = Math.ceil(to / SLOT_MS);
  const indexes = Object.keys(slots).map(Number).filter((i) => i >= first && i < end).sort((a, b) => a - b);
  for (const i of indexes) {
    const slot = slots[i];
    for (let l = 0; l < levels; l++) totals.seconds[l] += slot[l];
    totals.over += slot[levels];
    if (slot[levels + 1] >= 0 && (!totals.max || slot[levels + 1] > totals.max.co2)) totals.max = { co2: slot[levels + 1], at: slot[levels + 2] * 1000 };
  }
  return totals;
}

/** Drops the slots that start before `before`. */
export function pruneSlots(slots: Slots, before: number): void {
  const first = Math.floor(before / SLOT_MS);
  for (const key of Object.keys(slots)) if (Number(key) < first) delete slots[key];
}

/** A stored slot as it must look for `levels` categories, or undefined (a store may hold anything). */
export function readSlot(value: unknown, levels: number): Slot | undefined {
  if (!Array.isArray(value) || value.length !== levels + 3) return undefined;
  return value.every((n) => typeof n === 'number' && Number.isFinite(n)) ? (value as number[]) : undefined;
}
