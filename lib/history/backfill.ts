/**
 * The backfill's day plan: which days of daily averages a device still lacks, how to ask the
 * API for them, and which point of the answer is which day. Days are UTC days, as the API's
 * buckets are (docs/API.md); today is left out, since its average is still changing.
 *
 * The shape of an averages answer is open (docs/API.md): an array of buckets, `{data: [...]}`,
 * or one object for the whole range (alone, or as the only item of an array). A series is read
 * bucket by bucket, each by the day its time falls on; one point for a range of several days
 * cannot be told from their mix, not a day's average, so then each day is asked on its own,
 * and the one point of a one-day request is that day's.
 */
import { Device, TelemetryResponse } from '../api/types';
import { telemetryPoints } from '../telemetry/readings';
import { answerPoints, HistoryPoint, PointTarget } from './points';
import { HistoryTag } from './settings';

export const DAY_MS = 86_400_000;

/** The UTC day (days since 1970-01-01) an instant falls on. */
export function dayOf(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

/** `2026-03-28` */
export function dayLabel(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** The last `count` complete UTC days before today's, oldest first. */
export function backfillDays(now: number, count: number): number[] {
  const today = dayOf(now);
  return Array.from({ length: Math.max(0, Math.floor(count)) }, (_, i) => today - count + i);
}

/** The period one request covers: from the first day's midnight to the last millisecond of the last day. */
export function dayRange(first: number, last: number): { from: Date; to: Date } {
  return { from: new Date(first * DAY_MS), to: new Date((last + 1) * DAY_MS - 1) };
}

/** One answer's points with the days they are, or `folded` when it may have mixed several days into one. */
export type DailyAnswer = { points: HistoryPoint[]; skipped: number } | 'folded';

/**
 * The daily points of an answer for the days `first..last`, one per wanted day that has one,
 * each stamped at its day's midnight (UTC) whatever time the API gave its bucket, so every
 * backfill of a day is the same point.
 */
export function dailyPoints(answer: unknown, first: number, last: number, wanted: (day: number) => boolean, target: PointTarget): DailyAnswer {
  const count = telemetryPoints(answer).length;
  if (count === 0) return { points: [], skipped: 0 };
  const onePoint = count === 1;
  if (onePoint && first !== last) return 'folded';
  // A one-day request answered with one point: that is the day's average, whatever its time says.
  const shaped = answerPoints(answer, target, onePoint ? first * DAY_MS : undefined);
  const byDay = new Map<number, HistoryPoint>();
  for (const point of shaped.points) {
    const day = onePoint ? first : dayOf(point.timestamp.getTime());
    if (day < first || day > last || !wanted(day) || byDay.has(day)) continue;
    byDay.set(day, { ...point, timestamp: new Date(day * DAY_MS) });
  }
  return { points: [...byDay.values()], skipped: shaped.skipped };
}

/** Fetches one device's daily averages for a period (the node goes through the account's scheduler). */
export type AveragesFetch = (id: string, from: Date, to: Date, signal: AbortSignal) => Promise<TelemetryResponse>;

export interface DeviceBackfill {
  id: string;
  device: Device | undefined;
  tags: readonly HistoryTag[];
  measurement: string;
  /** The days still missing, oldest first (never empty). */
  days: number[];
}

/**
 * The daily points of one device's missing days: one request for the whole period, or one per
 * day when the server answers a period with one mixed object.
 */
export async function fetchDaily(job: DeviceBackfill, fetch: AveragesFetch, signal: AbortSignal): Promise<{ points: HistoryPoint[]; skipped: number }> {
  const wanted = new Set(job.days);
  const target: PointTarget = { id: job.id, device: job.device, tags: job.tags, measurement: job.measurement };
  const first = job.days[0]!;
  const last = job.days[job.days.length - 1]!;
  const ask = async (a: number, b: number): Promise<DailyAnswer> => {
    const { from, to } = dayRange(a, b);
    return dailyPoints(await fetch(job.id, from, to, signal), a, b, (d) => wanted.has(d), target);
  };
  const whole = await ask(first, last);
  if (whole !== 'folded') return whole;
  const out = { points: [] as HistoryPoint[], skipped: 0 };
  for (const day of job.days) {
    const one = await ask(day, day);
    if (one === 'folded') continue; // cannot happen for one day; typed for completeness
    out.points.push(...one.points);
    out.skipped += one.skipped;
  }
  return out;
}
