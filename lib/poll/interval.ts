/**
 * Poll interval limits, shared by every polling node and (through the generated editor
 * rules) by their editor dialogs.
 */
import { LeapcraftInvalidInputError } from '../api/errors';

/** Polling faster than this is refused (raised to it): the API's rate limits are unknown. */
export const MIN_INTERVAL_S = 1;
/** A week; beyond about 24.8 days Node's timers overflow and would fire at once. */
export const MAX_INTERVAL_S = 604_800;

/** A poll interval setting in seconds → ms; 0 means "only when a msg arrives". */
export function intervalMs(value: unknown, fallbackS: number): number {
  const seconds = value === undefined || value === '' ? fallbackS : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_INTERVAL_S) {
    throw new LeapcraftInvalidInputError(`Invalid interval: ${String(value)} (seconds from 0 to ${MAX_INTERVAL_S}; 0 for "only on input")`, { field: 'interval' });
  }
  return seconds === 0 ? 0 : Math.max(MIN_INTERVAL_S, seconds) * 1000;
}
