/**
 * What the bridge announced, kept in the node's context so that it survives a redeploy and,
 * with a persistent context store, a restart: each device's discovery form and components
 * (to remove them, or migrate them to the other form, without having seen the device since),
 * since when it has been missing from the account's device list, and the form of each gateway
 * and of the bridge's own device. Plain JSON; anything unreadable in a stored value is dropped,
 * never trusted (a store can hold an older shape or a hand-edited one).
 */
import { HaPlatform } from './ids';

export type HaDiscoveryMode = 'device' | 'entity';

export interface HaAnnounced {
  mode: HaDiscoveryMode;
  /** Component id → platform. */
  components: Record<string, HaPlatform>;
  /** Each reading component's key and whether it was numeric (1), to announce it the same after a restart. */
  readings?: Record<string, [string, number]>;
  /** Since when (epoch ms) the device has been missing from the account's device list. */
  gone?: number;
}

export interface HaRecord {
  v: 1;
  devices: Record<string, HaAnnounced>;
  gateways: Record<string, HaDiscoveryMode>;
  bridge?: HaDiscoveryMode;
}

const PLATFORMS = new Set<string>(['sensor', 'binary_sensor', 'event']);
const COMPONENT_ID = /^[A-Za-z0-9_-]{1,128}$/;
const MAX_COMPONENTS = 128;

function isObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value);
}

const isMode = (value: unknown): value is HaDiscoveryMode => value === 'device' || value === 'entity';

function readAnnounced(value: unknown): HaAnnounced | undefined {
  if (!isObject(value) || !isMode(value.mode) || !isObject(value.components)) return undefined;
  const components: Record<string, HaPlatform> = {};
  for (const [id, platform] of Object.entries(value.components).slice(0, MAX_COMPONENTS)) {
    if (COMPONENT_ID.test(id) && typeof platform === 'string' && PLATFORMS.has(platform)) components[id] = platform as HaPlatform;
  }
  if (Object.keys(components).length === 0) return undefined;
  const entry: HaAnnounced = { mode: value.mode, components };
  if (isObject(value.readings)) {
    const readings: Record<string, [string, number]> = {};
    for (const [id, pair] of Object.entries(value.readings)) {
      if (!(id in components) || !Array.isArray(pair) || typeof pair[0] !== 'string' || pair[0].length === 0 || pair[0].length > 64) continue;
      readings[id] = [pair[0], pair[1] === 1 ? 1 : 0];
    }
    entry.readings = readings;
  }
  if (typeof value.gone === 'number' && Number.isFinite(value.gone) && value.gone > 0) entry.gone = value.gone;
  return entry;
}

/** A stored record, read defensively; undefined when there is none (or nothing usable). At most `maxDevices` devices. */
export function readHaRecord(value: unknown, maxDevices: number): HaRecord | undefined {
  if (!isObject(value) || value.v !== 1 || !isObject(value.devices)) return undefined;
  const record: HaRecord = { v: 1, devices: {}, gateways: {} };
  let count = 0;
  for (const [id, entry] of Object.entries(value.devices)) {
    if (count >= maxDevices) break;
    const announced = id.length > 0 && id.length <= 256 ? readAnnounced(entry) : undefined;
    if (announced) {
      record.devices[id] = announced;
      count++;
    }
  }
  if (isObject(value.gateways)) {
    for (const [id, mode] of Object.entries(value.gateways).slice(0, maxDevices)) if (id.length <= 256 && isMode(mode)) record.gateways[id] = mode;
  }
  if (isMode(value.bridge)) record.bridge = value.bridge;
  return record;
}
