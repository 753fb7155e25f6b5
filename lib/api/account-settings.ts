/**
 * The account's (leapcraft-config's) concurrency and timeout settings: their ranges and
 * defaults, shared by the config node and (through the generated editor rules,
 * lib/editor-rules.ts) by its edit dialog. An empty setting takes the default; anything
 * else out of range is refused.
 */
import { LeapcraftInvalidInputError } from './errors';
import { integerInRange } from './validation';

/** Requests of one account in flight at once. */
export const CONCURRENCY_MIN = 1;
export const CONCURRENCY_MAX = 64;
export const CONCURRENCY_DEFAULT = 8;

/** Seconds one request may take. */
export const TIMEOUT_MIN_S = 1;
export const TIMEOUT_MAX_S = 300;
export const TIMEOUT_DEFAULT_S = 30;

const isBlank = (value: unknown) => value === undefined || value === null || (typeof value === 'string' && value.trim() === '');

/** The concurrency setting: an integer from CONCURRENCY_MIN to CONCURRENCY_MAX. */
export function concurrencySetting(value: unknown): number {
  return isBlank(value) ? CONCURRENCY_DEFAULT : integerInRange(value, 'concurrency', CONCURRENCY_MIN, CONCURRENCY_MAX);
}

/** The timeout setting in seconds (fractions allowed) → ms. */
export function timeoutMsSetting(value: unknown): number {
  if (isBlank(value)) return TIMEOUT_DEFAULT_S * 1000;
  const seconds = typeof value === 'number' || typeof value === 'string' ? Number(value) : NaN;
  if (!Number.isFinite(seconds) || seconds < TIMEOUT_MIN_S || seconds > TIMEOUT_MAX_S) {
    throw new LeapcraftInvalidInputError(`Invalid timeout: ${JSON.stringify(value)} (seconds from ${TIMEOUT_MIN_S} to ${TIMEOUT_MAX_S})`, { field: 'timeout' });
  }
  return Math.round(seconds * 1000);
}

/** Requests per hour the account may send, all its nodes together (empty: no budget). */
export const BUDGET_MIN_PER_HOUR = 60;
export const BUDGET_MAX_PER_HOUR = 1_000_000;

/** The budget setting: undefined when blank, else whole requests per hour in range. */
export function budgetSetting(value: unknown): number | undefined {
  return isBlank(value) ? undefined : integerInRange(value, 'budget', BUDGET_MIN_PER_HOUR, BUDGET_MAX_PER_HOUR);
}
