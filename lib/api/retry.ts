/** Retry timing: Retry-After parsing and exponential backoff with jitter. */

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date. Undefined when absent
 * or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const date = Date.parse(text);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/**
 * Delay before retry number `attempt` (0-based): half of the exponential step fixed,
 * half random ("equal jitter"), so clients that failed together do not retry together
 * yet every client still waits a little.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const step = Math.min(maxMs, baseMs * 2 ** attempt);
  return step / 2 + random() * (step / 2);
}
