/**
 * Simulator options: defaults and validation, shared by the constructor, set() and the control
 * interface's POST /__sim/set (which can only carry the JSON-serialisable ones).
 */
import { checkDialect, DEFAULT_DIALECT } from './dialect';
import { MIN_MEETING_EVERY_MS } from './meetings';
import type { Dialect, SimulatorOptions } from './types';

/**
 * Every option set. `dialect` is always complete; `alertOrder` and `alertIds` mirror
 * `dialect.alertOrder` and `dialect.alertIds` (the dialect is the source of truth).
 */
export type ResolvedOptions = Required<Omit<SimulatorOptions, 'dialect'>> & { dialect: Readonly<Dialect> };

/** Options as checkOptions returns them: `dialect` already turned into a partial Dialect. */
export type CheckedOptions = Omit<Partial<SimulatorOptions>, 'dialect'> & { dialect?: Partial<Dialect> };

export const DEFAULT_OPTIONS: Readonly<ResolvedOptions> = {
  host: '127.0.0.1',
  port: 0,
  apiKey: 'demo-key',
  apiKeys: [],
  deviceCount: 12,
  gateways: 3,
  thingCount: 15,
  seed: 1,
  tokenLifetimeMs: 3_600_000,
  latencyMs: 0,
  reportIntervalMs: 60_000,
  reportJitterMs: 0,
  reportJitterShare: 0,
  lossRate: 0,
  initialAlerts: 0,
  alertOrder: 'newest',
  alertIds: true,
  autoAlerts: false,
  co2Threshold: 1000,
  meetingEveryMs: 0,
  maxAlerts: 5000,
  now: Date.now,
  dialect: DEFAULT_DIALECT,
};

/** Options that only make sense before start() or cannot travel as JSON. */
const NOT_SETTABLE_REMOTELY = new Set(['host', 'port', 'now']);

/** Upper bounds that keep a typo from allocating the world. */
const MAX_DEVICES = 100_000;
const MAX_GATEWAYS = 1000;
const MAX_THINGS = 10_000;
/** A day: rarer meetings would not show in a demo anyway. */
const MAX_MEETING_EVERY_MS = 86_400_000;

type Check = (value: unknown) => string | undefined;

const int = (min: number, max = Number.MAX_SAFE_INTEGER): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `an integer ${min}..${max}`;
const nonNegative: Check = (v) =>
  typeof v === 'number' && !Number.isNaN(v) && v >= 0 ? undefined : 'a number >= 0 (Infinity allowed)';
const positiveFinite: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v > 0 ? undefined : 'a finite number > 0');
const bool: Check = (v) => (typeof v === 'boolean' ? undefined : 'a boolean');
const share: Check = (v) => (typeof v === 'number' && v >= 0 && v < 1 ? undefined : 'a number from 0 to below 1');
const nonEmptyString: Check = (v) => (typeof v === 'string' && v.length > 0 ? undefined : 'a non-empty string');

const CHECKS: Record<Exclude<keyof SimulatorOptions, 'dialect'>, Check> = {
  host: nonEmptyString,
  port: int(0, 65535),
  apiKey: nonEmptyString,
  apiKeys: (v) => (Array.isArray(v) && v.every((k) => typeof k === 'string' && k.length > 0) ? undefined : 'an array of non-empty strings'),
  deviceCount: int(0, MAX_DEVICES),
  gateways: int(1, MAX_GATEWAYS),
  thingCount: int(0, MAX_THINGS),
  seed: int(Number.MIN_SAFE_INTEGER),
  tokenLifetimeMs: nonNegative,
  latencyMs: (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a finite number >= 0'),
  reportIntervalMs: int(1),
  reportJitterMs: (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : 'a finite number >= 0'),
  reportJitterShare: share,
  lossRate: share,
  initialAlerts: int(0, 1_000_000),
  alertOrder: (v) => (v === 'newest' || v === 'oldest' ? undefined : "'newest' or 'oldest'"),
  alertIds: bool,
  autoAlerts: bool,
  co2Threshold: positiveFinite,
  meetingEveryMs: (v) => (v === 0 || (typeof v === 'number' && Number.isInteger(v) && v >= MIN_MEETING_EVERY_MS && v <= MAX_MEETING_EVERY_MS)
    ? undefined : `0 (none) or an integer ${MIN_MEETING_EVERY_MS}..${MAX_MEETING_EVERY_MS}`),
  maxAlerts: int(1, 1_000_000),
  now: (v) => (typeof v === 'function' ? undefined : 'a function returning epoch milliseconds'),
};

/**
 * Checks a partial options object; throws a TypeError naming the first bad field. `remote`
 * refuses the options that cannot be changed over HTTP, and unknown keys either way, so a typo
 * in a test fails loudly instead of silently changing nothing.
 */
export function checkOptions(input: unknown, remote = false): CheckedOptions {
  if (input === undefined) return {};
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('options must be an object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    if (key === 'dialect') {
      out.dialect = checkDialect(value);
      continue;
    }
    const check = (CHECKS as Record<string, Check | undefined>)[key];
    if (check === undefined) throw new TypeError(`unknown option ${key}`);
    if (remote && NOT_SETTABLE_REMOTELY.has(key)) throw new TypeError(`option ${key} cannot be set over HTTP`);
    const problem = check(value);
    if (problem !== undefined) throw new TypeError(`option ${key} must be ${problem}`);
    out[key] = value;
  }
  const checked = out as CheckedOptions;
  // alertOrder and alertIds are aliases of the dialect's; both at once must agree.
  for (const alias of ['alertOrder', 'alertIds'] as const) {
    const inDialect = checked.dialect?.[alias];
    if (checked[alias] !== undefined && inDialect !== undefined && checked[alias] !== inDialect) {
      throw new TypeError(`option ${alias} contradicts dialect.${alias}`);
    }
  }
  return checked;
}

/**
 * Applies checked changes to resolved options: the dialect is merged (only the points named
 * change), alertOrder/alertIds go into it, and the top-level aliases follow it.
 */
export function mergeOptions(before: ResolvedOptions, changes: CheckedOptions): ResolvedOptions {
  const dialect: Dialect = { ...before.dialect, ...changes.dialect };
  if (changes.alertOrder !== undefined) dialect.alertOrder = changes.alertOrder;
  if (changes.alertIds !== undefined) dialect.alertIds = changes.alertIds;
  return {
    ...before,
    ...changes,
    apiKeys: [...(changes.apiKeys ?? before.apiKeys)],
    dialect: Object.freeze(dialect),
    alertOrder: dialect.alertOrder,
    alertIds: dialect.alertIds,
  };
}
