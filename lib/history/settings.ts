/**
 * The settings of the telemetry node's history output (`output: history`): which tags a
 * point carries, the measurements it goes to, how many days of daily averages to backfill.
 * Read once at deploy; a bad one is LEAPCRAFT_INVALID_INPUT naming the setting.
 */
import { CONTROL_CHARS, integerInRange, invalid } from '../api/validation';

/**
 * What a point may be tagged with: the device's physical id, its name, its model (the device
 * list's `type`) and its gateway (the device list's `topology_id`). `device` is always one:
 * without it the points of two devices taken at the same instant would be the same point.
 */
export const HISTORY_TAGS = ['device', 'name', 'model', 'gateway'] as const;
export type HistoryTag = (typeof HISTORY_TAGS)[number];

export const DEFAULT_HISTORY_TAGS = 'device,name,model,gateway';
/** The measurement of readings, and that of the daily averages a backfill writes. */
export const DEFAULT_MEASUREMENT = 'leapcraft';
export const DEFAULT_DAILY_MEASUREMENT = 'leapcraft_daily';
/** A year: the API's averages reach back that far, and a context store keeps it small. */
export const MAX_BACKFILL_DAYS = 365;
/** Measurement names: printable, at most this long. */
export const MAX_MEASUREMENT_LENGTH = 128;
/** Context store names, as the other nodes take them. */
export const MAX_STORE_LENGTH = 64;

export interface HistorySettings {
  /** Always starts with `device`, each tag once, in HISTORY_TAGS order. */
  tags: HistoryTag[];
  measurement: string;
  dailyMeasurement: string;
  /** Days of daily averages a deploy writes; 0: none. */
  backfillDays: number;
  /** The context store that keeps what was written; undefined: the default store. */
  store?: string;
}

/** The node's properties as saved (every one may be missing in a flow saved before they existed). */
export interface HistorySettingsInput {
  historyTags?: unknown;
  measurement?: unknown;
  dailyMeasurement?: unknown;
  backfillDays?: unknown;
  store?: unknown;
}

/** "device,name": a list of HISTORY_TAGS; `device` is added when missing. */
export function parseHistoryTags(value: unknown, field = 'historyTags'): HistoryTag[] {
  const text = value === undefined || value === null ? DEFAULT_HISTORY_TAGS : value;
  if (typeof text !== 'string') throw invalid(field, `expected a comma-separated list of ${HISTORY_TAGS.join(', ')}`);
  const wanted = new Set<string>(['device']);
  for (const part of text.split(',').map((s) => s.trim()).filter((s) => s !== '')) {
    if (!(HISTORY_TAGS as readonly string[]).includes(part)) throw invalid(field, `${JSON.stringify(part.slice(0, 40))} is not one of ${HISTORY_TAGS.join(', ')}`);
    wanted.add(part);
  }
  return HISTORY_TAGS.filter((t) => wanted.has(t));
}

/** A name setting, trimmed; undefined when empty. */
function nameSetting(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'expected a name');
  const name = value.trim();
  if (name.length > max) throw invalid(field, `longer than ${max} characters`);
  if (CONTROL_CHARS.test(name)) throw invalid(field, 'contains control characters');
  return name === '' ? undefined : name;
}

export function parseMeasurement(value: unknown, field: string, fallback: string): string {
  return nameSetting(value, field, MAX_MEASUREMENT_LENGTH) ?? fallback;
}

export function parseBackfillDays(value: unknown, field = 'backfillDays'): number {
  if (value === undefined || value === null || value === '') return 0;
  return integerInRange(value, field, 0, MAX_BACKFILL_DAYS);
}

export function parseHistorySettings(input: HistorySettingsInput): HistorySettings {
  const measurement = parseMeasurement(input.measurement, 'measurement', DEFAULT_MEASUREMENT);
  const dailyMeasurement = parseMeasurement(input.dailyMeasurement, 'dailyMeasurement', DEFAULT_DAILY_MEASUREMENT);
  // A daily average stamped at midnight would be the same point as a reading taken at midnight.
  if (dailyMeasurement === measurement) throw invalid('dailyMeasurement', `must differ from the readings' measurement (${JSON.stringify(measurement)})`);
  const store = nameSetting(input.store, 'store', MAX_STORE_LENGTH);
  return { tags: parseHistoryTags(input.historyTags), measurement, dailyMeasurement, backfillDays: parseBackfillDays(input.backfillDays), ...(store ? { store } : {}) };
}
