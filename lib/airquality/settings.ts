/**
 * The air-quality node's settings: defaults, limits and validation, without Node-RED. The
 * editor gets the same numbers through lib/editor-rules.ts; every bad setting is refused
 * with LEAPCRAFT_INVALID_INPUT naming it, so the node turns red at deploy.
 */
import { CONTROL_CHARS, integerInRange, invalid, oneOf } from '../api/validation';
import { DemandRules } from './demand';
import { AQ_PROFILES, AqProfileId, ProfileSettings } from './profiles';
import { OccupiedHours } from './occupancy';
import { MINUTE_MS, timeZoneSetting } from './zone';

/** The settings as the editor stores them (numbers may come as strings). */
export interface AqSettingsInput {
  profile?: unknown;
  outdoorCo2?: unknown;
  limit?: unknown;
  thresholds?: unknown;
  labels?: unknown;
  margin?: unknown;
  dwell?: unknown;
  demandLow?: unknown;
  demandHigh?: unknown;
  onAt?: unknown;
  offAt?: unknown;
  minOn?: unknown;
  minOff?: unknown;
  gap?: unknown;
  reportAt?: unknown;
  timeZone?: unknown;
  days?: unknown;
  occupiedFrom?: unknown;
  occupiedTo?: unknown;
  store?: unknown;
}

/** The profile (profiles.ts), the demand's set-points (demand.ts), and: */
export interface AqSettings extends ProfileSettings, DemandRules {
  outdoorCo2: number;
  /** How far past a boundary a value must go before the category may change (ppm). */
  marginPpm: number;
  /** How long it must stay past it. */
  dwellMs: number;
  /** A reading counts for the time until the next one, at most this long; after it: no data. */
  gapMs: number;
  /** The daily report's local time (minutes after midnight); undefined: only on request. */
  reportAt?: number;
  timeZone: string;
  occupied: OccupiedHours;
  store?: string;
}

/** A new node's settings (the editor's defaults). */
export const AQ_DEFAULTS = {
  profile: 'en16798',
  outdoorCo2: 420,
  limit: 1000,
  thresholds: '800, 1000, 1400',
  labels: 'good, fair, poor, bad',
  margin: 50,
  dwell: 2,
  demandLow: 700,
  demandHigh: 1100,
  onAt: 1000,
  offAt: 800,
  minOn: 5,
  minOff: 5,
  gap: 30,
  reportAt: '00:00',
  timeZone: '',
  days: '1,2,3,4,5',
  occupiedFrom: '08:00',
  occupiedTo: '18:00',
  store: '',
} as const;

/** Limits of the settings (ppm; minutes). */
export const AQ_LIMITS = {
  ppm: { min: 1, max: 20_000 },
  outdoorCo2: { min: 0, max: 2000 },
  margin: { min: 0, max: 1000 },
  minutes: { min: 0, max: 1440 },
  gap: { min: 1, max: 1440 },
  /** Custom profile: at most this many thresholds (one category more). */
  maxThresholds: 5,
  maxLabelLength: 40,
  maxStoreLength: 64,
} as const;

/** A local time of day "HH:MM"; occupied hours may end at "24:00". */
export const AQ_TIME_OF_DAY = /^(?:([01]\d|2[0-3]):([0-5]\d)|(24):(00))$/;
/** The report's time: on a quarter hour, as the report's history is kept in quarter hours. */
export const AQ_REPORT_TIME = /^([01]\d|2[0-3]):(00|15|30|45)$/;
/** ISO weekdays, comma-separated: "1,2,3,4,5" is Monday to Friday. */
export const AQ_DAYS = /^\s*[1-7](\s*,\s*[1-7])*\s*$/;

const given = (value: unknown) => !(value === undefined || value === null || (typeof value === 'string' && value.trim() === ''));
const or = (value: unknown, fallback: unknown) => (given(value) ? value : fallback);

function ppm(value: unknown, field: string, fallback: number): number {
  return integerInRange(or(value, fallback), field, AQ_LIMITS.ppm.min, AQ_LIMITS.ppm.max);
}

function minutesMs(value: unknown, field: string, fallback: number, min: number = AQ_LIMITS.minutes.min): number {
  return integerInRange(or(value, fallback), field, min, AQ_LIMITS.minutes.max) * MINUTE_MS;
}

/** "HH:MM" as minutes after midnight. */
function timeOfDay(value: unknown, field: string, pattern: RegExp): number {
  const m = typeof value === 'string' ? pattern.exec(value.trim()) : null;
  if (!m) throw invalid(field, `expected a time of day such as 08:00, got ${JSON.stringify(value)}`);
  const [h, mi] = m[1] !== undefined ? [m[1], m[2]] : [m[3], m[4]];
  return Number(h) * 60 + Number(mi);
}

function occupiedHours(def: AqSettingsInput): OccupiedHours {
  const days = String(or(def.days, AQ_DEFAULTS.days));
  if (!AQ_DAYS.test(days)) throw invalid('days', 'expected weekdays as numbers 1 (Monday) to 7 (Sunday), e.g. 1,2,3,4,5');
  const from = timeOfDay(or(def.occupiedFrom, AQ_DEFAULTS.occupiedFrom), 'occupiedFrom', AQ_TIME_OF_DAY);
  const to = timeOfDay(or(def.occupiedTo, AQ_DEFAULTS.occupiedTo), 'occupiedTo', AQ_TIME_OF_DAY);
  if (from === 1440) throw invalid('occupiedFrom', '24:00 ends a day: start at 00:00');
  const wholeDay = from === 0 && to === 1440;
  if (to % 1440 === from && !wholeDay) throw invalid('occupiedTo', 'must differ from the start (00:00 to 24:00 for the whole day)');
  return { days: [...new Set(days.split(',').map((d) => Number(d.trim())))].sort(), from, to };
}

/** The custom profile's thresholds: ascending integers; its labels: one more, distinct. */
function customProfile(def: AqSettingsInput): { thresholds: number[]; labels: string[] } {
  const text = String(or(def.thresholds, AQ_DEFAULTS.thresholds));
  const thresholds = text.split(',').map((s) => integerInRange(s.trim(), 'thresholds', AQ_LIMITS.ppm.min, AQ_LIMITS.ppm.max));
  if (thresholds.length > AQ_LIMITS.maxThresholds) throw invalid('thresholds', `at most ${AQ_LIMITS.maxThresholds} thresholds`);
  if (thresholds.some((t, i) => i > 0 && t <= thresholds[i - 1])) throw invalid('thresholds', 'must be ascending, e.g. 800, 1000, 1400');
  const labels = String(or(def.labels, AQ_DEFAULTS.labels)).split(',').map((s) => s.trim());
  if (labels.length !== thresholds.length + 1) throw invalid('labels', `expected ${thresholds.length + 1} labels (one more than thresholds), got ${labels.length}`);
  for (const label of labels) {
    if (label === '' || label.length > AQ_LIMITS.maxLabelLength || CONTROL_CHARS.test(label)) {
      throw invalid('labels', `each label 1 to ${AQ_LIMITS.maxLabelLength} characters, without control characters`);
    }
  }
  if (new Set(labels).size !== labels.length) throw invalid('labels', 'must differ from each other');
  return { thresholds, labels };
}

function storeSetting(value: unknown): string | undefined {
  if (!given(value)) return undefined;
  const store = typeof value === 'string' ? value.trim() : '';
  if (store === '' || store.length > AQ_LIMITS.maxStoreLength || CONTROL_CHARS.test(store)) {
    throw invalid('store', `expected a context store name of at most ${AQ_LIMITS.maxStoreLength} characters`);
  }
  return store;
}

/** The settings, checked; throws LEAPCRAFT_INVALID_INPUT naming the first bad one. Empty means the default. */
export function parseAqSettings(def: AqSettingsInput): AqSettings {
  const profile: AqProfileId = oneOf(or(def.profile, AQ_DEFAULTS.profile), 'profile', AQ_PROFILES);
  const custom = profile === 'custom' ? customProfile(def) : { thresholds: [], labels: [] };
  const demandLow = ppm(def.demandLow, 'demandLow', AQ_DEFAULTS.demandLow);
  const demandHigh = ppm(def.demandHigh, 'demandHigh', AQ_DEFAULTS.demandHigh);
  if (demandHigh <= demandLow) throw invalid('demandHigh', `must be above demandLow (${demandLow} ppm)`);
  const onAt = ppm(def.onAt, 'onAt', AQ_DEFAULTS.onAt);
  const offAt = ppm(def.offAt, 'offAt', AQ_DEFAULTS.offAt);
  if (offAt >= onAt) throw invalid('offAt', `must be below onAt (${onAt} ppm), or the demand would never switch off`);
  // Not set at all: the default; set empty: no daily report (only on request).
  const reportText = def.reportAt === undefined || def.reportAt === null ? AQ_DEFAULTS.reportAt : def.reportAt;
  const reportAt = given(reportText) ? timeOfDay(reportText, 'reportAt', AQ_REPORT_TIME) : undefined;
  const store = storeSetting(def.store);
  return {
    profile,
    outdoorCo2: integerInRange(or(def.outdoorCo2, AQ_DEFAULTS.outdoorCo2), 'outdoorCo2', AQ_LIMITS.outdoorCo2.min, AQ_LIMITS.outdoorCo2.max),
    limit: ppm(def.limit, 'limit', AQ_DEFAULTS.limit),
    ...custom,
    marginPpm: integerInRange(or(def.margin, AQ_DEFAULTS.margin), 'margin', AQ_LIMITS.margin.min, AQ_LIMITS.margin.max),
    dwellMs: minutesMs(def.dwell, 'dwell', AQ_DEFAULTS.dwell),
    demandLow,
    demandHigh,
    onAt,
    offAt,
    minOnMs: minutesMs(def.minOn, 'minOn', AQ_DEFAULTS.minOn),
    minOffMs: minutesMs(def.minOff, 'minOff', AQ_DEFAULTS.minOff),
    gapMs: minutesMs(def.gap, 'gap', AQ_DEFAULTS.gap, AQ_LIMITS.gap.min),
    ...(reportAt !== undefined ? { reportAt } : {}),
    timeZone: timeZoneSetting(def.timeZone, 'timeZone'),
    occupied: occupiedHours(def),
    ...(store ? { store } : {}),
  };
}
