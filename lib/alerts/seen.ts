/**
 * Remembering which alerts were already emitted. Alerts are recognised by their id, or,
 * since the docs do not promise one, by a fingerprint of their content.
 */
import { parseApiTime } from '../api/time';
import { fingerprint } from '../telemetry/readings';
import { Alert } from '../api/types';

export function alertKey(alert: Alert): string {
  const id = alert.id;
  if ((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))) return `id:${String(id)}`;
  return `fp:${fingerprint(alert)}`;
}

/** Where servers put an alert's time, most likely first (docs/API.md: the field is not documented). */
const TIME_FIELDS = ['created_at', 'timestamp', 'time', 'date', 'raised', 'raised_at', 'triggered_at', 'occurred_at'];
/** Any other field holding a date-time (2026-03-29T15:24:05Z, 2020-12-16 13:51:58) is taken for the time. */
const DATE_TIME_TEXT = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}/;

function timeOf(alert: Alert): number | undefined {
  for (const key of TIME_FIELDS) {
    const t = parseApiTime(alert[key]);
    if (t !== undefined) return t;
  }
  for (const value of Object.values(alert)) {
    if (typeof value === 'string' && DATE_TIME_TEXT.test(value)) {
      const t = parseApiTime(value);
      if (t !== undefined) return t;
    }
  }
  return undefined;
}

/**
 * The API's order is undocumented. Read it off a page: times rising means oldest first.
 * Undefined when the page cannot tell (fewer than two dated alerts, or all equal).
 */
export function detectOrder(page: Alert[]): 'newest' | 'oldest' | undefined {
  const times = page.map(timeOf).filter((t): t is number => t !== undefined);
  if (times.length < 2) return undefined;
  const first = times[0];
  const last = times[times.length - 1];
  if (first === last) return undefined;
  return first > last ? 'newest' : 'oldest';
}

/**
 * A bounded memory of seen alert keys, oldest forgotten first. Serialises to a plain
 * array for a context store.
 */
export class SeenAlerts {
  private readonly keys: Set<string>;

  constructor(initial: unknown, private readonly max: number) {
    const list = Array.isArray(initial) ? initial.filter((k): k is string => typeof k === 'string') : [];
    this.keys = new Set(max > 0 ? list.slice(-max) : []);
  }

  has(key: string): boolean {
    return this.keys.has(key);
  }

  add(key: string): void {
    this.keys.delete(key);
    this.keys.add(key);
    while (this.keys.size > this.max) {
      const oldest = this.keys.values().next().value as string;
      this.keys.delete(oldest);
    }
  }

  get size(): number {
    return this.keys.size;
  }

  toJSON(): string[] {
    return [...this.keys];
  }
}

/**
 * The order told by where new alerts stand among those already seen: new ones above the
 * seen ones, newest first; below them, oldest first. For a list whose alerts carry no time.
 * Undefined when the page has only seen or only new alerts, or both mixed (no clear side).
 */
export function orderFromPositions(page: Alert[], seen: SeenAlerts): 'newest' | 'oldest' | undefined {
  const isSeen = page.map((alert) => seen.has(alertKey(alert)));
  const firstSeen = isSeen.indexOf(true);
  const lastSeen = isSeen.lastIndexOf(true);
  if (firstSeen === -1 || isSeen.every((v) => v)) return undefined;
  const newAbove = isSeen.slice(0, firstSeen).length > 0;
  const newBelow = isSeen.slice(lastSeen + 1).length > 0;
  if (newAbove && !newBelow) return 'newest';
  if (newBelow && !newAbove) return 'oldest';
  return undefined;
}
