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

function timeOf(alert: Alert): number | undefined {
  for (const key of ['created_at', 'timestamp', 'time', 'date']) {
    const t = parseApiTime(alert[key]);
    if (t !== undefined) return t;
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
