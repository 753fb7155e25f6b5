/**
 * The figures of the reliability suite, computed from what the simulator logged and what the
 * observed flow's files hold. Pure functions: no waiting, no I/O.
 */
import type { RequestLogEntry } from '../../../../simulator';

/** A telemetry msg as the observed flow writes it. */
export interface TelemetryLine {
  at: number;
  physical_id: string;
  timestamp?: string;
}

export interface AlertLine {
  at: number;
  id?: string;
  physical_id?: string;
}

export interface CaughtLine {
  at: number;
  code?: string;
  message?: string;
  source?: string;
  physical_id?: string;
}

export interface StatusLine {
  at: number;
  source?: string;
  fill?: string;
  shape?: string;
  text?: string;
}

export const between = <T extends { at: number }>(lines: readonly T[], from: number, to = Infinity): T[] =>
  lines.filter((l) => l.at >= from && l.at < to);

export interface RateFigures {
  total: number;
  /** Mean requests per second over the window. */
  perSecond: number;
  /** The busiest one-second bucket of the window. */
  peakPerSecond: number;
}

/** Requests the simulator received in [from, to), per second. */
export function requestRate(requests: readonly RequestLogEntry[], from: number, to: number): RateFigures {
  const inWindow = requests.filter((r) => r.at >= from && r.at < to);
  const buckets = new Map<number, number>();
  for (const r of inWindow) {
    const b = Math.floor((r.at - from) / 1000);
    buckets.set(b, (buckets.get(b) ?? 0) + 1);
  }
  const seconds = Math.max(0.001, (to - from) / 1000);
  return { total: inWindow.length, perSecond: inWindow.length / seconds, peakPerSecond: Math.max(0, ...buckets.values()) };
}

export interface ReadingMatch {
  /** Readings the simulator served (normal 200s) up to the cut. */
  served: number;
  emitted: number;
  /** Served up to the cut, never emitted. */
  lost: number;
  /** Emitted more often than served at all. */
  duplicated: number;
  examples: string[];
}

const readingKey = (physicalId: string, timestamp: string | undefined) => `${physicalId} @ ${timestamp ?? '?'}`;

/**
 * Matches every reading the simulator served with the msgs that left the telemetry node, by
 * physical_id and timestamp (as multisets: a device repeats its reading within a report period).
 * Readings served after `cut` may still be on their way: they count against duplicates only.
 */
export function matchReadings(requests: readonly RequestLogEntry[], lines: readonly TelemetryLine[], cut: number): ReadingMatch {
  const servedAll = new Map<string, number>();
  const servedByCut = new Map<string, number>();
  for (const r of requests) {
    if (!r.reading) continue;
    const key = readingKey(r.reading.physical_id, r.reading.timestamp);
    servedAll.set(key, (servedAll.get(key) ?? 0) + 1);
    if (r.at <= cut) servedByCut.set(key, (servedByCut.get(key) ?? 0) + 1);
  }
  const emitted = new Map<string, number>();
  for (const l of lines) {
    const key = readingKey(l.physical_id, l.timestamp);
    emitted.set(key, (emitted.get(key) ?? 0) + 1);
  }
  let lost = 0;
  let duplicated = 0;
  const examples: string[] = [];
  for (const [key, n] of servedByCut) {
    const missing = n - (emitted.get(key) ?? 0);
    if (missing > 0) {
      lost += missing;
      if (examples.length < 5) examples.push(`lost ${key}`);
    }
  }
  for (const [key, n] of emitted) {
    const extra = n - (servedAll.get(key) ?? 0);
    if (extra > 0) {
      duplicated += extra;
      if (examples.length < 5) examples.push(`extra ${key}`);
    }
  }
  return { served: [...servedByCut.values()].reduce((a, b) => a + b, 0), emitted: lines.length, lost, duplicated, examples };
}

export interface AlertMatch {
  raised: number;
  emitted: number;
  lost: number;
  duplicated: number;
  /** Emitted but never raised by the test (e.g. the backlog at start). */
  unexpected: number;
}

/** Each raised alert must have left the notifications node exactly once, and nothing else. */
export function matchAlerts(raisedIds: readonly string[], lines: readonly AlertLine[]): AlertMatch {
  const counts = new Map<string, number>();
  for (const l of lines) counts.set(String(l.id), (counts.get(String(l.id)) ?? 0) + 1);
  const raised = new Set(raisedIds);
  let lost = 0;
  let duplicated = 0;
  for (const id of raised) {
    const n = counts.get(id) ?? 0;
    if (n === 0) lost++;
    if (n > 1) duplicated += n - 1;
  }
  const unexpected = [...counts.entries()].filter(([id]) => !raised.has(id)).reduce((a, [, n]) => a + n, 0);
  return { raised: raised.size, emitted: lines.length, lost, duplicated, unexpected };
}

/**
 * Time from `from` until every device in `ids` had a msg again (the slowest device decides);
 * undefined when some device has none yet.
 */
export function recoveryMs(lines: readonly TelemetryLine[], ids: readonly string[], from: number): number | undefined {
  let worst = 0;
  for (const id of ids) {
    const first = lines.find((l) => l.physical_id === id && l.at >= from);
    if (!first) return undefined;
    worst = Math.max(worst, first.at - from);
  }
  return worst;
}

/** The last status each node showed at or before `at`. */
export function lastStatus(lines: readonly StatusLine[], source: string, at = Infinity): StatusLine | undefined {
  let last: StatusLine | undefined;
  for (const l of lines) if (l.source === source && l.at <= at) last = l;
  return last;
}

/** Distinct values, in order of first appearance. */
export function distinct<T>(values: Iterable<T>): T[] {
  return [...new Set(values)];
}

export const seconds = (ms: number | undefined): string => (ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);
