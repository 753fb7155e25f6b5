/**
 * The runtime's rules that the node editors need (limits, patterns, defaults, ranges), built
 * from the lib constants themselves so the editor never repeats one by hand. The build
 * (scripts/write-editor-rules.js, after tsc) writes them to resources/leapcraft-rules.js as
 * `window.LeapcraftRules`; every node's .html loads that before resources/leapcraft-editor.js.
 *
 * Plain JSON: a RegExp travels as { source, flags }. No Node-RED here, and nothing that
 * needs more than the constants (where lib keeps a value to itself, the rule is read from the
 * runtime's own answer: the Home Assistant units of `removeAfter`).
 */
import { DEFAULT_BASE_URL } from './api/client';
import {
  BUDGET_MAX_PER_HOUR, BUDGET_MIN_PER_HOUR, CONCURRENCY_DEFAULT, CONCURRENCY_MAX, CONCURRENCY_MIN, TIMEOUT_DEFAULT_S, TIMEOUT_MAX_S, TIMEOUT_MIN_S,
} from './api/account-settings';
import {
  CONTROL_CHARS, INTEGER, ISO_DATE_TIME, LOOPBACK_HOSTS, MAX_DATE_TIME_MS, MAX_ID_LENGTH, NOTIFICATIONS_MAX_LIMIT,
  RELATIVE_TIME, RESOLUTIONS, TELEMETRY_TYPES, UNIT_MS,
} from './api/validation';
import { HA_MAX_TOPIC_SETTING_LENGTH, HA_TOPIC_SETTING } from './homeassistant/ids';
import type { HaQos } from './homeassistant/publisher';
import {
  HA_AREA_SOURCES, HA_DEFAULT_BRIDGE_SETTINGS, HA_DEFAULT_SETTINGS, HA_DISCOVERY_MODES, HA_LEGACY_DISCOVERY, HA_MAX_ANNOUNCE_DELAY_S,
  HA_MAX_AREA_FIELD_LENGTH, HA_MAX_REMOVE_AFTER_MS, HA_MAX_STORE_LENGTH, HA_REMOVE_AFTER_UNITS, parseHaSettings,
} from './homeassistant/settings';
import { MAX_INTERVAL_S, MIN_INTERVAL_S } from './poll/interval';
import { AQ_PROFILES } from './airquality/profiles';
import { AQ_DAYS, AQ_DEFAULTS, AQ_LIMITS, AQ_REPORT_TIME, AQ_TIME_OF_DAY } from './airquality/settings';
import { MAX_TIME_ZONE_LENGTH } from './airquality/zone';
import { OUTPUT_MODES } from './telemetry/messages';
import { EMIT_MODES, REPLICA_MODES } from './telemetry/poll-output';
import { HEALTH_DEFAULTS, HEALTH_LIMITS } from './telemetry/device-health';
import { REDIS_SCHEMES } from './cluster/redis-url';
import {
  DEFAULT_DAILY_MEASUREMENT, DEFAULT_HISTORY_TAGS, DEFAULT_MEASUREMENT, HISTORY_TAGS, MAX_BACKFILL_DAYS, MAX_MEASUREMENT_LENGTH, MAX_STORE_LENGTH,
} from './history/settings';

/** A RegExp as JSON carries it; the editor makes it again with new RegExp(source, flags). */
export interface PatternRule {
  source: string;
  flags: string;
}

export interface RangeRule {
  min: number;
  max: number;
}

export interface EditorRules {
  /** requireId: trimmed, 1..maxLength characters, none of controlChars, not `.` or `..`. */
  ids: { maxLength: number; controlChars: PatternRule };
  /** toInteger: an integer as text. */
  integer: PatternRule;
  /** parseDateTime: ISO 8601, or relative to now (`-7d`, `-3M`), within 1970..maxMs. */
  dateTime: { iso: PatternRule; relative: PatternRule; unitMs: Record<string, number>; maxMs: number };
  /** The account's base URL: its default, and the hosts plain http may go to. */
  baseUrl: { default: string; loopbackHost: PatternRule };
  /** Poll intervals in seconds: 0 is "only on input", polls run at least `min` apart. */
  interval: RangeRule;
  /** The account's settings: concurrency (requests at once) and timeout (seconds). */
  account: { concurrency: RangeRule & { default: number }; timeoutS: RangeRule & { default: number }; budgetPerHour: RangeRule; redisSchemes: string[] };
  telemetry: {
    types: string[]; resolutions: string[]; outputs: string[]; emits: string[]; replicas: string[];
    /** The device-health output: reporting periods until silent, the low battery's percent. */
    health: { silentPeriods: RangeRule & { default: number }; batteryLow: RangeRule & { default: number } };
  };
  notifications: { maxLimit: number };
  /** The telemetry node's history output (lib/history/settings.ts): `device` is always a tag. */
  history: {
    tags: string[];
    defaultTags: string;
    defaultMeasurement: string;
    defaultDailyMeasurement: string;
    maxMeasurementLength: number;
    maxBackfillDays: number;
    maxStoreLength: number;
  };
  homeassistant: {
    topicSetting: PatternRule;
    maxTopicSettingLength: number;
    defaults: { discoveryPrefix: string; baseTopic: string; birthTopic: string; interval: number; qos: number; announceDelay: number };
    maxAnnounceDelayS: number;
    /** MQTT QoS levels the bridge publishes with (HaQos). */
    qos: RangeRule;
    /** A new node's settings of device-based discovery (HA_DEFAULT_BRIDGE_SETTINGS). */
    bridgeDefaults: { discovery: string; area: string; areaField: string; removeAfter: number; removeAfterUnit: string; store: string };
    /** The discovery of a node saved before `discovery` existed (HA_LEGACY_DISCOVERY). */
    legacyDiscovery: string;
    discoveryModes: string[];
    areaSources: string[];
    /** removeAfter's units, in order, and each unit's length in ms. */
    removeAfterUnits: string[];
    removeAfterUnitMs: Record<string, number>;
    /** The longest grace period (removeAfter × unit) in ms. */
    maxRemoveAfterMs: number;
    /** The meta field that names the area, and the context store: trimmed, at most this many characters, no control characters. */
    maxAreaFieldLength: number;
    maxStoreLength: number;
  };
  /** The air-quality node's settings (lib/airquality/settings.ts parseAqSettings): ppm, minutes. */
  airQuality: {
    profiles: string[];
    defaults: Record<keyof typeof AQ_DEFAULTS, string | number>;
    ppm: RangeRule;
    outdoorCo2: RangeRule;
    margin: RangeRule;
    minutes: RangeRule;
    gap: RangeRule;
    maxThresholds: number;
    maxLabelLength: number;
    maxStoreLength: number;
    maxTimeZoneLength: number;
    /** "HH:MM" (occupied hours; "24:00" may end them), the report's time (quarter hours), weekdays "1,2,3,4,5". */
    timeOfDay: PatternRule;
    reportTime: PatternRule;
    days: PatternRule;
  };
}

/**
 * The QoS levels, each once: the type HaQos checks that this object names every level and no
 * other (test/nodes/editor-resources.test.ts checks that parseHaSettings takes exactly these).
 */
const HA_QOS_LEVELS = { 0: true, 1: true, 2: true } satisfies Record<HaQos, true>;

function haQosRange(): RangeRule {
  const levels = Object.keys(HA_QOS_LEVELS).map(Number);
  return { min: Math.min(...levels), max: Math.max(...levels) };
}

/**
 * Each removeAfter unit's length in ms, as the runtime reads the setting (lib keeps the table
 * to itself): one of the unit is that many ms.
 */
function haRemoveAfterUnitMs(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const unit of HA_REMOVE_AFTER_UNITS) out[unit] = parseHaSettings({ removeAfter: 1, removeAfterUnit: unit }).removeAfterMs;
  return out;
}

function pattern(re: RegExp): PatternRule {
  return { source: re.source, flags: re.flags };
}

/** A fresh copy of the rules each call, safe to change. */
export function editorRules(): EditorRules {
  return {
    ids: { maxLength: MAX_ID_LENGTH, controlChars: pattern(CONTROL_CHARS) },
    integer: pattern(INTEGER),
    dateTime: { iso: pattern(ISO_DATE_TIME), relative: pattern(RELATIVE_TIME), unitMs: { ...UNIT_MS }, maxMs: MAX_DATE_TIME_MS },
    baseUrl: { default: DEFAULT_BASE_URL, loopbackHost: pattern(LOOPBACK_HOSTS) },
    interval: { min: MIN_INTERVAL_S, max: MAX_INTERVAL_S },
    account: {
      concurrency: { min: CONCURRENCY_MIN, max: CONCURRENCY_MAX, default: CONCURRENCY_DEFAULT },
      timeoutS: { min: TIMEOUT_MIN_S, max: TIMEOUT_MAX_S, default: TIMEOUT_DEFAULT_S },
      budgetPerHour: { min: BUDGET_MIN_PER_HOUR, max: BUDGET_MAX_PER_HOUR },
      redisSchemes: [...REDIS_SCHEMES],
    },
    telemetry: {
      types: [...TELEMETRY_TYPES], resolutions: [...RESOLUTIONS], outputs: [...OUTPUT_MODES], emits: [...EMIT_MODES], replicas: [...REPLICA_MODES],
      health: {
        silentPeriods: { ...HEALTH_LIMITS.silentPeriods, default: HEALTH_DEFAULTS.silentPeriods },
        batteryLow: { ...HEALTH_LIMITS.batteryLow, default: HEALTH_DEFAULTS.batteryLow },
      },
    },
    notifications: { maxLimit: NOTIFICATIONS_MAX_LIMIT },
    history: {
      tags: [...HISTORY_TAGS],
      defaultTags: DEFAULT_HISTORY_TAGS,
      defaultMeasurement: DEFAULT_MEASUREMENT,
      defaultDailyMeasurement: DEFAULT_DAILY_MEASUREMENT,
      maxMeasurementLength: MAX_MEASUREMENT_LENGTH,
      maxBackfillDays: MAX_BACKFILL_DAYS,
      maxStoreLength: MAX_STORE_LENGTH,
    },
    homeassistant: {
      topicSetting: pattern(HA_TOPIC_SETTING),
      maxTopicSettingLength: HA_MAX_TOPIC_SETTING_LENGTH,
      defaults: { ...HA_DEFAULT_SETTINGS },
      maxAnnounceDelayS: HA_MAX_ANNOUNCE_DELAY_S,
      qos: haQosRange(),
      bridgeDefaults: { ...HA_DEFAULT_BRIDGE_SETTINGS },
      legacyDiscovery: HA_LEGACY_DISCOVERY,
      discoveryModes: [...HA_DISCOVERY_MODES],
      areaSources: [...HA_AREA_SOURCES],
      removeAfterUnits: [...HA_REMOVE_AFTER_UNITS],
      removeAfterUnitMs: haRemoveAfterUnitMs(),
      maxRemoveAfterMs: HA_MAX_REMOVE_AFTER_MS,
      maxAreaFieldLength: HA_MAX_AREA_FIELD_LENGTH,
      maxStoreLength: HA_MAX_STORE_LENGTH,
    },
    airQuality: {
      profiles: [...AQ_PROFILES],
      defaults: { ...AQ_DEFAULTS },
      ppm: { ...AQ_LIMITS.ppm },
      outdoorCo2: { ...AQ_LIMITS.outdoorCo2 },
      margin: { ...AQ_LIMITS.margin },
      minutes: { ...AQ_LIMITS.minutes },
      gap: { ...AQ_LIMITS.gap },
      maxThresholds: AQ_LIMITS.maxThresholds,
      maxLabelLength: AQ_LIMITS.maxLabelLength,
      maxStoreLength: AQ_LIMITS.maxStoreLength,
      maxTimeZoneLength: MAX_TIME_ZONE_LENGTH,
      timeOfDay: pattern(AQ_TIME_OF_DAY),
      reportTime: pattern(AQ_REPORT_TIME),
      days: pattern(AQ_DAYS),
    },
  };
}
