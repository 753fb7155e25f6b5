/**
 * Times the API sends. The docs show zone-less date-times ("2026-11-30 09:15:00"), which
 * are UTC as everywhere in this API; numbers are epoch milliseconds.
 */
const HAS_ZONE = /[zZ]|[+-]\d{2}:?\d{2}$/;

/** Epoch ms of an API time value, or undefined when it is not one. */
export function parseApiTime(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const t = Date.parse(HAS_ZONE.test(value) ? value : `${value.replace(' ', 'T')}Z`);
  return Number.isNaN(t) ? undefined : t;
}
