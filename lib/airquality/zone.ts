/**
 * Local time in an IANA time zone with nothing but the Intl API: the date and weekday of an
 * instant, and the instant of a local date and time of day. Daylight-saving changes are
 * handled as the zone's rules say: a day may have 23 or 25 hours, a local time in the spring
 * gap is taken as the same time after the gap, and a local time that occurs twice (autumn) as
 * its first occurrence.
 */
import { invalid } from '../api/validation';

/** A calendar date, as local to a zone. */
export interface LocalDate {
  year: number;
  month: number;
  day: number;
}

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;
/** Longer than any IANA zone name. */
export const MAX_TIME_ZONE_LENGTH = 64;

/** The zone Node-RED's host runs in (what `new Date().toString()` shows). */
export function hostTimeZone(): string {
  return new Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/** An IANA zone name as Intl knows it ('' or nothing: the host's); throws LEAPCRAFT_INVALID_INPUT otherwise. */
export function timeZoneSetting(value: unknown, field: string): string {
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === '')) return hostTimeZone();
  if (typeof value !== 'string' || value.trim().length > MAX_TIME_ZONE_LENGTH) throw invalid(field, 'expected an IANA time zone such as Europe/Copenhagen');
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value.trim() }).resolvedOptions().timeZone;
  } catch {
    throw invalid(field, `${JSON.stringify(value.trim())} is not a time zone this Node.js knows: use an IANA name such as Europe/Copenhagen`);
  }
}

/** ISO weekday of a calendar date: 1 Monday … 7 Sunday. */
export function isoWeekday(date: LocalDate): number {
  return new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay() || 7;
}

/** The calendar date `days` after `date` (negative: before). */
export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function dateKey(date: LocalDate): string {
  return `${date.year}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`;
}

export class Zone {
  private readonly format: Intl.DateTimeFormat;

  constructor(readonly name: string) {
    this.format = new Intl.DateTimeFormat('en-US', {
      timeZone: name, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
  }

  /** The local wall clock at `t`, as if it were UTC (epoch ms of the same digits). */
  private wallClock(t: number): number {
    const parts: Record<string, number> = {};
    for (const p of this.format.formatToParts(new Date(t))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
    return Date.UTC(parts.year, parts.month - 1, parts.day, parts.hour % 24, parts.minute, parts.second);
  }

  /** The zone's offset from UTC at `t`, in ms (Copenhagen in summer: +2 h). */
  offset(t: number): number {
    const whole = Math.floor(t / 1000) * 1000;
    return this.wallClock(whole) - whole;
  }

  /** The local date `t` falls on. */
  dateOf(t: number): LocalDate {
    const d = new Date(this.wallClock(t));
    return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
  }

  /** Minutes since local midnight at `t` (0 … 1439). */
  minuteOf(t: number): number {
    return Math.floor((((this.wallClock(t) % DAY_MS) + DAY_MS) % DAY_MS) / MINUTE_MS);
  }

  /**
   * The instant of a local date and time of day (`minutes` after midnight; 1440 is the next
   * midnight). A time in the spring gap moves forward by the gap; one that occurs twice is
   * the first.
   */
  instant(date: LocalDate, minutes: number): number {
    const wall = Date.UTC(date.year, date.month - 1, date.day) + minutes * MINUTE_MS;
    // Every zone changes its offset at most once within a day on either side of a time.
    const before = wall - this.offset(wall - DAY_MS);
    const after = wall - this.offset(wall + DAY_MS);
    const fits = (t: number) => this.wallClock(t) === wall;
    if (fits(before) && fits(after)) return Math.min(before, after);
    if (fits(before)) return before;
    if (fits(after)) return after;
    return before; // in the gap: the clock read `before`'s offset up to the change
  }
}
