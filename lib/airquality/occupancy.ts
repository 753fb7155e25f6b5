/**
 * Occupied hours: on the chosen weekdays, from one local time of day to another (past
 * midnight when `to` is not after `from`), in the node's time zone. Reports count occupied
 * time only, so the stretches that fall into a span of time are what matters here.
 */
import { addDays, dateKey, isoWeekday, LocalDate, Zone } from './zone';

export interface OccupiedHours {
  /** ISO weekdays the occupied period starts on: 1 Monday … 7 Sunday. */
  days: number[];
  /** Minutes after local midnight (0 … 1439). */
  from: number;
  /** Minutes after local midnight (1 … 1440); not after `from`: the next day. */
  to: number;
}

export interface Span {
  from: number;
  to: number;
}

/** Days looked up are kept for the next spans (readings arrive in order); this many at most. */
const CACHED_DAYS = 64;

export class Occupancy {
  private readonly days: Set<number>;
  private readonly cache = new Map<string, Span | null>();

  constructor(readonly zone: Zone, private readonly hours: OccupiedHours) {
    this.days = new Set(hours.days);
  }

  /** The occupied stretch that starts on a local date, if that weekday is occupied. */
  private spanOf(date: LocalDate): Span | null {
    const key = dateKey(date);
    const cached = this.cache.get(key);
    if (cached !== undefined) return cached;
    let span: Span | null = null;
    if (this.days.has(isoWeekday(date))) {
      const end = this.hours.to > this.hours.from ? this.zone.instant(date, this.hours.to) : this.zone.instant(addDays(date, 1), this.hours.to);
      span = { from: this.zone.instant(date, this.hours.from), to: end };
    }
    if (this.cache.size >= CACHED_DAYS) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, span);
    return span;
  }

  /** The occupied parts of [from, to), in order. */
  within(from: number, to: number): Span[] {
    if (!(to > from)) return [];
    const out: Span[] = [];
    const last = this.zone.dateOf(to);
    // A stretch past midnight starts the day before.
    for (let date = addDays(this.zone.dateOf(from), -1); dateKey(date) <= dateKey(last); date = addDays(date, 1)) {
      const span = this.spanOf(date);
      if (!span) continue;
      const a = Math.max(span.from, from);
      const b = Math.min(span.to, to);
      if (b > a) out.push({ from: a, to: b });
    }
    return out;
  }

  /** Occupied ms in [from, to). */
  length(from: number, to: number): number {
    return this.within(from, to).reduce((sum, s) => sum + s.to - s.from, 0);
  }
}
