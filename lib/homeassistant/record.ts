/**
 * What the bridge announced, kept in the node's context so that it survives a redeploy and,
 * with a persistent context store, a restart: each device's discovery form and components
 * (to remove them, or migrate them to the other form, without having seen the device since),
 * since when it has been missing from the account's device list, and the form of each gateway
 * and of the bridge's own device. Plain JSON; anything unreadable in a stored value is dropped,
 * never trusted (a store can hold an older shape or a hand-edited one).
 */
import { HA_AIR_QUALITY_ID, HA_PROBLEM_ID, HaPlatform } from './ids';

export type HaDiscoveryMode = 'device' | 'entity';

export interface HaAnnounced {
  mode: HaDiscoveryMode;
  /** Component id → platform. */
  components: Record<string, HaPlatform>;
  /** Each reading component's key and whether it was numeric (1), to announce it the same after a restart. */
  readings?: Record<string, [string, number]>;
  /** The air quality's enum options (the profile's categories), to announce it the same after a restart. */
  airQuality?: string[];
  /** Since when (epoch ms) the device has been missing from the account's device list. */
  gone?: number;
}

/** What a restart needs of a recorded device to announce its components the same. */
export function haRecordedComponents(entry: HaAnnounced | undefined): { readings: Array<[string, number]>; airQuality?: string[]; problem?: boolean } | undefined {
  if (!entry) return undefined;
  return {
    readings: Object.values(entry.readings ?? {}),
    ...(entry.airQuality ? { airQuality: entry.airQuality } : {}),
    ...(entry.components[HA_PROBLEM_ID] === 'binary_sensor' ? { problem: true } : {}),
  };
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
  const options = value.airQuality;
  if (HA_AIR_QUALITY_ID in components && Array.isArray(options) && options.length > 0 && options.length <= 16
    && options.every((o) => typeof o === 'string' && o.length > 0 && o.length <= 255)) entry.airQuality = [...options];
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

/**
 * The record while the bridge runs: the only place it changes, so `version` (which tells the
 * node to store it) moves with every change and with nothing else.
 */
export class HaAnnouncedRecord {
  private readonly devices = new Map<string, HaAnnounced>();
  private readonly gateways = new Map<string, HaDiscoveryMode>();
  private bridgeMode?: HaDiscoveryMode;
  private changes = 0;

  constructor(private readonly maxDevices: number) {}

  /** Takes in a stored record: what an earlier run announced. Not a change (it is what the store holds). */
  restore(value: unknown): void {
    const record = readHaRecord(value, this.maxDevices);
    if (!record) return;
    for (const [id, entry] of Object.entries(record.devices)) this.devices.set(id, entry);
    for (const [id, mode] of Object.entries(record.gateways)) this.gateways.set(id, mode);
    this.bridgeMode = record.bridge;
  }

  /** What to store. */
  toRecord(): HaRecord {
    return {
      v: 1, devices: Object.fromEntries(this.devices), gateways: Object.fromEntries(this.gateways),
      ...(this.bridgeMode ? { bridge: this.bridgeMode } : {}),
    };
  }

  get version(): number {
    return this.changes;
  }

  // ---- devices ------------------------------------------------------------------------------

  device(id: string): HaAnnounced | undefined {
    return this.devices.get(id);
  }

  deviceIds(): IterableIterator<string> {
    return this.devices.keys();
  }

  /** A device as just announced; since when it is missing from the device list stays as it was. */
  announcedDevice(id: string, announced: Omit<HaAnnounced, 'gone'>): void {
    const entry = this.devices.get(id);
    const next: HaAnnounced = { ...announced, ...(entry?.gone !== undefined ? { gone: entry.gone } : {}) };
    if (!entry || JSON.stringify(entry) !== JSON.stringify(next)) {
      this.devices.set(id, next);
      this.changes++;
    }
  }

  deleteDevice(id: string): void {
    if (this.devices.delete(id)) this.changes++;
  }

  /** The device reports: whatever the device list said, it is there. */
  present(id: string): void {
    const entry = this.devices.get(id);
    if (entry?.gone === undefined) return;
    delete entry.gone;
    this.changes++;
  }

  /** The account's device list: every recorded device not in it is missing from now on (unless it already was). */
  listed(present: ReadonlySet<string>, now: number): void {
    for (const [id, entry] of this.devices) {
      if (present.has(id)) this.present(id);
      else if (entry.gone === undefined) {
        entry.gone = now;
        this.changes++;
      }
    }
  }

  /** Physical ids missing from the device list, and since when. */
  missing(): Array<{ physicalId: string; since: number }> {
    return [...this.devices].filter(([, e]) => e.gone !== undefined).map(([physicalId, e]) => ({ physicalId, since: e.gone! }));
  }

  // ---- gateways and the bridge's own device ---------------------------------------------------

  gatewayMode(id: string): HaDiscoveryMode | undefined {
    return this.gateways.get(id);
  }

  gatewayModes(): IterableIterator<[string, HaDiscoveryMode]> {
    return this.gateways.entries();
  }

  setGatewayMode(id: string, mode: HaDiscoveryMode): void {
    if (this.gateways.get(id) === mode) return;
    this.gateways.set(id, mode);
    this.changes++;
  }

  deleteGateway(id: string): void {
    if (this.gateways.delete(id)) this.changes++;
  }

  clearGateways(): void {
    if (this.gateways.size === 0) return;
    this.gateways.clear();
    this.changes++;
  }

  get bridge(): HaDiscoveryMode | undefined {
    return this.bridgeMode;
  }

  setBridge(mode: HaDiscoveryMode | undefined): void {
    if (this.bridgeMode === mode) return;
    this.bridgeMode = mode;
    this.changes++;
  }
}
