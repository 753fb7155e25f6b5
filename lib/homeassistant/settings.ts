/**
 * The Home Assistant bridge node's settings and the decisions that follow from them, without
 * Node-RED: defaults and validation, the bridge's options, when data counts as stale, how long
 * a re-announcement waits, and how often the account's topologies are read.
 */
import { integerInRange } from '../api/validation';
import { PackageInfo, packageInfo } from '../package';
import { MAX_INTERVAL_S } from '../poll/interval';
import { HaBridgeOptions, HaQos } from './bridge';
import { haTopicSetting } from './ids';

/** The node's settings as the editor stores them (numbers may come as strings). */
export interface HaSettingsInput {
  discoveryPrefix?: unknown;
  baseTopic?: unknown;
  birthTopic?: unknown;
  interval?: unknown;
  qos?: unknown;
  announceDelay?: unknown;
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

/** A device with no reading for this many expected intervals is offline; Home Assistant expires its values then too. */
export const HA_STALE_INTERVALS = 3;
/** Gateways rarely change: the topologies are read once an hour. */
export const HA_TOPOLOGY_REFRESH_MS = 60 * 60_000;
/** The scheduler key of the bridge's topology read (shared by every bridge of an account). */
export const HA_TOPOLOGY_KEY = 'homeassistant\u0000topologies';
/** How long the first msgs wait for the gateways (so the first announcement already has via_device). */
export const HA_TOPOLOGY_WAIT_MS = 5000;

function settingOr(value: unknown, fallback: number | string): unknown {
  return value === undefined || value === null || value === '' ? fallback : value;
}

/** The settings, checked; throws LEAPCRAFT_INVALID_INPUT naming the first bad one. Empty means the default. */
export function parseHaSettings(def: HaSettingsInput): HaSettings {
  const d = HA_DEFAULT_SETTINGS;
  return {
    discoveryPrefix: haTopicSetting(settingOr(def.discoveryPrefix, d.discoveryPrefix), 'discoveryPrefix'),
    baseTopic: haTopicSetting(settingOr(def.baseTopic, d.baseTopic), 'baseTopic'),
    birthTopic: haTopicSetting(settingOr(def.birthTopic, d.birthTopic), 'birthTopic'),
    intervalS: integerInRange(settingOr(def.interval, d.interval), 'interval', 0, MAX_INTERVAL_S),
    qos: integerInRange(settingOr(def.qos, d.qos), 'qos', 0, 2) as HaQos,
    announceDelayS: integerInRange(settingOr(def.announceDelay, d.announceDelay), 'announceDelay', 0, HA_MAX_ANNOUNCE_DELAY_S),
  };
}

/** The bridge's options: topics, QoS, this package as the origin, expire_after from the interval. */
export function haBridgeOptions(settings: HaSettings, info: PackageInfo = packageInfo): HaBridgeOptions {
  return {
    discoveryPrefix: settings.discoveryPrefix,
    baseTopic: settings.baseTopic,
    qos: settings.qos,
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

/**
 * How long to wait before announcing everything again: a random 1 s .. announceDelay, so a
 * Home Assistant restart does not meet every bridge at the same instant; 0 for no delay.
 */
export function haAnnounceDelayMs(settings: HaSettings, random: () => number = Math.random): number {
  const s = settings.announceDelayS;
  return s === 0 ? 0 : 1000 + random() * (s - 1) * 1000;
}
