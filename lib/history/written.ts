/**
 * What the history output has written, so that nothing is written twice, even to a database
 * that would store it twice: per device, the time of the newest reading written, and the days
 * whose averages were written. The node keeps it in its context store (a persistent store
 * carries it across restarts); every stored value is read as untrusted.
 */
import { HistoryPoint } from './points';

/** Bounds what a context store rewrites: more devices than any account holds. */
export const MAX_REMEMBERED_DEVICES = 100_000;

/** More ranges than a year of days with gaps between them all: a stored value beyond it is cut. */
const MAX_RANGES = 400;

/** Days as ranges of UTC day numbers (days since 1970-01-01), inclusive: a month is one pair. */
export type DayRanges = Array<[number, number]>;

/**
 * What is saved. Persistent context stores keep this exact shape (version 1), so it may
 * only grow compatibly.
 */
export interface HistoryState {
  v: 1;
  /** Physical id → epoch ms of the newest reading written. */
  last: Record<string, number>;
  /** Physical id → the days whose daily averages were written. */
  days: Record<string, DayRanges>;
}

const isRecord = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const isDay = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

function readRanges(value: unknown): DayRanges | undefined {
  if (!Array.isArray(value)) return undefined;
  const ranges = value.slice(0, MAX_RANGES).filter((r): r is [number, number] => Array.isArray(r) && r.length === 2 && isDay(r[0]) && isDay(r[1]) && r[0] <= r[1]);
  return ranges.length ? ranges : undefined;
}

/** A stored value as a HistoryState (bad entries dropped), or undefined when it is not one. */
export function readHistoryState(value: unknown): HistoryState | undefined {
  if (!isRecord(value) || value.v !== 1 || !isRecord(value.last)) return undefined;
  const state: HistoryState = { v: 1, last: {}, days: {} };
  for (const [id, time] of Object.entries(value.last).slice(0, MAX_REMEMBERED_DEVICES)) {
    if (typeof time === 'number' && Number.isFinite(time)) state.last[id] = time;
  }
  if (isRecord(value.days)) {
    for (const [id, ranges] of Object.entries(value.days).slice(0, MAX_REMEMBERED_DEVICES)) {
      const read = readRanges(ranges);
      if (read) state.days[id] = read;
    }
  }
  return state;
}

/** Sorted, disjoint, non-adjacent ranges covering the same days as `ranges`. */
function normalise(ranges: DayRanges): DayRanges {
  const out: DayRanges = [];
  for (const [a, b] of [...ranges].sort((x, y) => x[0] - y[0])) {
    const last = out[out.length - 1];
    if (last && a <= last[1] + 1) last[1] = Math.max(last[1], b);
    else out.push([a, b]);
  }
  return out;
}

/** A set of days kept as ranges. */
export class DaySet {
  private ranges: DayRanges;

  constructor(ranges: DayRanges = []) {
    this.ranges = normalise(ranges);
  }

  has(day: number): boolean {
    return this.ranges.some(([a, b]) => day >= a && day <= b);
  }

  add(day: number): void {
    if (!this.has(day)) this.ranges = normalise([...this.ranges, [day, day]]);
  }

  /** Forgets the days before `day`. */
  forgetBefore(day: number): void {
    this.ranges = this.ranges.filter(([, b]) => b >= day).map(([a, b]): [number, number] => [Math.max(a, day), b]);
  }

  get empty(): boolean {
    return this.ranges.length === 0;
  }

  toJSON(): DayRanges {
    return this.ranges.map(([a, b]): [number, number] => [a, b]);
  }
}

export class WrittenLog {
  private readonly last = new Map<string, number>();
  private readonly days = new Map<string, DaySet>();

  constructor(state?: HistoryState) {
    if (!state) return;
    for (const [id, time] of Object.entries(state.last)) this.last.set(id, time);
    for (const [id, ranges] of Object.entries(state.days)) this.days.set(id, new DaySet(ranges));
  }

  /** The points of `id` newer than the newest written before, which count as written from now on. */
  takeNew(id: string, points: readonly HistoryPoint[]): HistoryPoint[] {
    const before = this.last.get(id) ?? -Infinity;
    const fresh = points.filter((p) => p.timestamp.getTime() > before);
    if (fresh.length === 0) return [];
    if (!this.last.has(id) && this.last.size >= MAX_REMEMBERED_DEVICES) this.forgetOldest();
    this.last.set(id, Math.max(before, ...fresh.map((p) => p.timestamp.getTime())));
    return fresh;
  }

  hasDay(id: string, day: number): boolean {
    return this.days.get(id)?.has(day) ?? false;
  }

  addDay(id: string, day: number): void {
    let set = this.days.get(id);
    if (!set) this.days.set(id, (set = new DaySet()));
    set.add(day);
  }

  /** Forgets every day before `day` (older than any backfill reaches). */
  forgetDaysBefore(day: number): void {
    for (const [id, set] of this.days) {
      set.forgetBefore(day);
      if (set.empty) this.days.delete(id);
    }
  }

  /** The device whose last reading is oldest: gone from the account, most likely. */
  private forgetOldest(): void {
    let oldest: string | undefined;
    for (const [id, time] of this.last) if (oldest === undefined || time < this.last.get(oldest)!) oldest = id;
    if (oldest !== undefined) this.last.delete(oldest);
  }

  toJSON(): HistoryState {
    const days: Record<string, DayRanges> = {};
    for (const [id, set] of this.days) days[id] = set.toJSON();
    return { v: 1, last: Object.fromEntries(this.last), days };
  }
}
