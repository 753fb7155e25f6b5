/**
 * Date-time parsing and formatting, and the calendar arithmetic of averages buckets. All of it
 * is UTC: the simulated building runs on UTC so results do not depend on the host's time zone.
 */
import type { Resolution } from './types';

export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** ISO 8601 in UTC with "Z", without the ".000" when the time is whole seconds (as the docs' samples). */
export function isoUtc(ms: number): string {
  const s = new Date(ms).toISOString();
  return s.endsWith('.000Z') ? `${s.slice(0, -5)}Z` : s;
}

/** "YYYY-MM-DD HH:MM:SS", zone-less and space-separated, as the docs show topology `created_at`. */
export function zonelessUtc(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** Date.UTC that does not map years 0–99 to 1900–1999. */
function utc(y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo, d);
  date.setUTCHours(h, mi, s, ms);
  return date.getTime();
}

function daysInMonth(y: number, month1: number): number {
  return new Date(utc(y, month1, 0, 0, 0, 0, 0)).getUTCDate();
}

// Date, optional time (T, t or space), optional seconds and fraction, optional zone. The zone may
// start with a space: an unencoded "+02:00" in a query string arrives as " 02:00" once "+" is
// decoded to a space, and refusing that would be narrower than clients reasonably send.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(Z|z|[+\- ]\d{2}(?::?\d{2})?)?)?$/;

/**
 * Parses the date-time forms a client may send: the docs' zone-less `2021-05-26T00:00:00.000`
 * (taken as UTC), with `Z` or an offset, with or without seconds or fraction, or a bare date.
 * Returns epoch milliseconds, or null when the text is not such a date-time or names an
 * impossible date.
 */
export function parseDateTime(text: string): number | null {
  const m = DATE_TIME.exec(text);
  if (!m) return null;
  const y = Number(m[1]);
  const mo = Number(m[2]);
  const d = Number(m[3]);
  const h = m[4] === undefined ? 0 : Number(m[4]);
  const mi = m[5] === undefined ? 0 : Number(m[5]);
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const ms = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, '0'));
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  if (h > 23 || mi > 59 || s > 59) return null;
  let offsetMin = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return null;
    offsetMin = sign * (oh * 60 + om);
  }
  return utc(y, mo - 1, d, h, mi, s, ms) - offsetMin * MINUTE;
}

/**
 * True when `text` is a date-time parseDateTime accepts and it names its zone (Z or an offset,
 * the offset's "+" possibly decoded to a space); false for zone-less ones and bare dates.
 */
export function hasZone(text: string): boolean {
  const m = DATE_TIME.exec(text);
  return m !== null && m[8] !== undefined;
}

/** Start (UTC) of the day, ISO week (Monday) or calendar month containing `ms`. */
export function bucketStart(ms: number, resolution: Resolution): number {
  const date = new Date(ms);
  const midnight = utc(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate(), 0, 0, 0, 0);
  switch (resolution) {
    case 'daily':
      return midnight;
    case 'weekly':
      return midnight - ((date.getUTCDay() + 6) % 7) * DAY;
    case 'monthly':
      return utc(date.getUTCFullYear(), date.getUTCMonth(), 1, 0, 0, 0, 0);
  }
}

/** Start of the bucket after the one starting at `start`. */
export function nextBucketStart(start: number, resolution: Resolution): number {
  switch (resolution) {
    case 'daily':
      return start + DAY;
    case 'weekly':
      return start + 7 * DAY;
    case 'monthly': {
      const date = new Date(start);
      return utc(date.getUTCFullYear(), date.getUTCMonth() + 1, 1, 0, 0, 0, 0);
    }
  }
}
