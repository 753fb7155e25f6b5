/**
 * The Home Assistant bridge node's settings and the decisions that follow from them, without
 * Node-RED: defaults and validation, the bridge's options, when data counts as stale, how long
 * a re-announcement waits, and how often the account's topologies are read.
 */
import { CONTROL_CHARS, integerInRange, invalid, oneOf } from '../api/validation';
import { PackageInfo, packageInfo } from '../package';
import { MAX_INTERVAL_S } from '../poll/interval';
import { HaBridgeOptions } from './bridge';
import { HaAreaSource } from './device-configs';
import { HaQos } from './publisher';
import { HaDiscoveryMode } from './record';
import { haTopicSetting } from './ids';

/** The node's settings as the editor stores them (numbers may come as strings). */
export interface HaSettingsInput {
  discoveryPrefix?: unknown;
  baseTopic?: unknown;
  birthTopic?: unknown;
  interval?: unknown;
  qos?: unknown;
  announceDelay?: unknown;
  discovery?: unknown;
  area?: unknown;
  areaField?: unknown;
  removeAfter?: unknown;
  removeAfterUnit?: unknown;
  store?: unknown;
}

export interface HaSettings {
  discoveryPrefix: string;
  baseTopic: string;
  /** Where Home Assistant announces itself (its birth message). */
  birthTopic: string;
  /** How often readings are expected, in seconds; 0: no expectation (never stale). */
  intervalS: number;
  qos: HaQos;
  /** The longest random wait before announcing again, in seconds. */
  announceDelayS: number;
  /** One config per device (Home Assistant 2024.11+) or per entity. */
  discovery: HaDiscoveryMode;
  /** Where a device's suggested_area comes from, and the meta field when from `meta`. */
  area: HaAreaSource;
  areaField?: string;
  /** How long a device stays out of the account's device list before it is removed; 0: never. */
  removeAfterMs: number;
  /** The context store that keeps what was announced ('' or undefined: the default store). */
  store?: string;
}

export const HA_DEFAULT_SETTINGS = {
  discoveryPrefix: 'homeassistant',
  baseTopic: 'leapcraft',
  birthTopic: 'homeassistant/status',
  interval: 60,
  qos: 1,
  announceDelay: 5,
} as const;
export const HA_MAX_ANNOUNCE_DELAY_S = 60;

export const HA_DISCOVERY_MODES = ['device', 'entity'] as const;
export const HA_AREA_SOURCES = ['gateway', 'device', 'meta', 'none'] as const;
export const HA_REMOVE_AFTER_UNITS = ['s', 'min', 'h', 'd'] as const;
export type HaRemoveAfterUnit = typeof HA_REMOVE_AFTER_UNITS[number];
const UNIT_MS: Record<HaRemoveAfterUnit, number> = { s: 1000, min: 60_000, h: 3_600_000, d: 86_400_000 };
/** The longest grace period: a year. */
export const HA_MAX_REMOVE_AFTER_MS = 365 * 86_400_000;
export const HA_MAX_AREA_FIELD_LENGTH = 64;
export const HA_MAX_STORE_LENGTH = 64;

/**
 * The defaults of the discovery, area, clean-up and store settings (the editor's defaults
 * for a new node). A node saved without these settings has no `discovery` and keeps per-entity
 * discovery (HA_LEGACY_DISCOVERY): its retained per-entity configs are what Home Assistant
 * knows, and a bridge that has never run cannot migrate what it does not remember.
 */
export const HA_DEFAULT_BRIDGE_SETTINGS = {
  discovery: 'device',
  area: 'gateway',
  areaField: '',
  removeAfter: 24,
  removeAfterUnit: 'h',
  store: '',
} as const;
export const HA_LEGACY_DISCOVERY: HaDiscoveryMode = 'entity';

/** A device with no reading for this many expected intervals is offline; Home Assistant expires its values then too. */
export const HA_STALE_INTERVALS = 3;
/** Gateways rarely change: the topologies are read once an hour. */
export const HA_TOPOLOGY_REFRESH_MS = 60 * 60_000;
/** A poll that answers "not found" makes the bridge read the device list at once, at most this often. */
export const HA_DEVICE_LIST_CHECK_MIN_MS = 60_000;
/** How often the bridge's health (rate limit, devices polled, last poll) is looked at and published when changed. */
export const HA_HEALTH_EVERY_MS = 30_000;
/** The scheduler key of the bridge's topology read (shared by every bridge of an account). */
export const HA_TOPOLOGY_KEY = 'homeassistant\u0000topologies';
/** How long the first msgs wait for the gateways (so the first announcement already has via_device). */
export const HA_TOPOLOGY_WAIT_MS = 5000;

function settingOr(value: unknown, fallback: number | string): unknown {
  return value === undefined || value === null || value === '' ? fallback : value;
}

function textSetting(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalid(field, 'expected text');
  const text = value.trim();
  if (text.length > max || CONTROL_CHARS.test(text)) throw invalid(field, `expected at most ${max} characters without control characters`);
  return text === '' ? undefined : text;
}

/** The grace period in ms: a whole number of the unit, 0 for never, at most a year. */
function removeAfterMs(value: unknown, unitValue: unknown): number {
  const unit = oneOf(settingOr(unitValue, HA_DEFAULT_BRIDGE_SETTINGS.removeAfterUnit), 'removeAfterUnit', HA_REMOVE_AFTER_UNITS);
  const count = integerInRange(settingOr(value, HA_DEFAULT_BRIDGE_SETTINGS.removeAfter), 'removeAfter', 0, Math.floor(HA_MAX_REMOVE_AFTER_MS / UNIT_MS[unit]));
  return count * UNIT_MS[unit];
}

/** The settings, checked; throws LEAPCRAFT_INVALID_INPUT naming the first bad one. Empty means the default. */
export function parseHaSettings(def: HaSettingsInput): HaSettings {
  const d = HA_DEFAULT_SETTINGS;
  const b = HA_DEFAULT_BRIDGE_SETTINGS;
  const area = oneOf(settingOr(def.area, b.area), 'area', HA_AREA_SOURCES);
  const areaField = textSetting(def.areaField, 'areaField', HA_MAX_AREA_FIELD_LENGTH);
  if (area === 'meta' && !areaField) throw invalid('areaField', 'name the meta field that holds the area');
  const store = textSetting(def.store, 'store', HA_MAX_STORE_LENGTH);
  return {
    discoveryPrefix: haTopicSetting(settingOr(def.discoveryPrefix, d.discoveryPrefix), 'discoveryPrefix'),
    baseTopic: haTopicSetting(settingOr(def.baseTopic, d.baseTopic), 'baseTopic'),
    birthTopic: haTopicSetting(settingOr(def.birthTopic, d.birthTopic), 'birthTopic'),
    intervalS: integerInRange(settingOr(def.interval, d.interval), 'interval', 0, MAX_INTERVAL_S),
    qos: integerInRange(settingOr(def.qos, d.qos), 'qos', 0, 2) as HaQos,
    announceDelayS: integerInRange(settingOr(def.announceDelay, d.announceDelay), 'announceDelay', 0, HA_MAX_ANNOUNCE_DELAY_S),
    discovery: oneOf(settingOr(def.discovery, HA_LEGACY_DISCOVERY), 'discovery', HA_DISCOVERY_MODES),
    area,
    ...(area === 'meta' ? { areaField } : {}),
    removeAfterMs: removeAfterMs(def.removeAfter, def.removeAfterUnit),
    ...(store ? { store } : {}),
  };
}

/** The bridge's options: topics, QoS, this package as the origin, expire_after from the interval. */
export function haBridgeOptions(settings: HaSettings, info: PackageInfo = packageInfo): HaBridgeOptions {
  return {
    discoveryPrefix: settings.discoveryPrefix,
    baseTopic: settings.baseTopic,
    qos: settings.qos,
    mode: settings.discovery,
    area: { source: settings.area, ...(settings.areaField ? { field: settings.areaField } : {}) },
    removeAfterMs: settings.removeAfterMs,
    origin: { name: info.name, ...(info.version ? { sw_version: info.version } : {}), ...(info.homepage ? { support_url: info.homepage } : {}) },
    ...(settings.intervalS > 0 ? { expireAfterS: HA_STALE_INTERVALS * settings.intervalS } : {}),
  };
}

/**
 * When data is stale, and how often to look: one check for all devices, every half interval
 * (1 s to 1 min), so a device is marked offline at most that late. None without an interval.
 */
export function haStaleCheck(settings: HaSettings): { everyMs: number; maxAgeMs: number } | undefined {
  if (settings.intervalS <= 0) return undefined;
  const intervalMs = settings.intervalS * 1000;
  return { everyMs: Math.min(60_000, Math.max(1000, intervalMs / 2)), maxAgeMs: HA_STALE_INTERVALS * intervalMs };
}

/** How often to look for devices whose grace period is over: a tenth of it, 1 s to 1 min. None without clean-up. */
export function haCleanupEveryMs(settings: HaSettings): number | undefined {
  if (settings.removeAfterMs <= 0) return undefined;
  return Math.min(60_000, Math.max(1000, Math.floor(settings.removeAfterMs / 10)));
}

/**
 * How long to wait before announcing everything again: a random 1 s .. announceDelay, so a
 * Home Assistant restart does not meet every bridge at the same instant; 0 for no delay.
 */
export function haAnnounceDelayMs(settings: HaSettings, random: () => number = Math.random): number {
  const s = settings.announceDelayS;
  return s === 0 ? 0 : 1000 + random() * (s - 1) * 1000;
}
