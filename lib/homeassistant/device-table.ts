/**
 * The sensors the bridge knows in this process: what it was told about each (name, model,
 * gateway, firmware, meta), its reading entities, availability and last state, and the counts
 * the node's status shows. The counts are kept as the devices change (the status costs
 * nothing with thousands of devices), and only here: entities and availability change
 * through this table, which takes a device's share out of the counts before and adds it back
 * after. Bounded: at most `maxDevices` devices and `maxKeys` reading entities each.
 */
import { LeapcraftInvalidInputError } from '../api/errors';
import { haDeviceKey, haNodeId, haReadingId } from './ids';
import { HaDeviceInput } from './input';
import { HaAvailability, HA_OFFLINE, HA_ONLINE } from './publisher';
import { HaReadingSpec, haReadingSpec, HaReadingValue } from './readings';
import { HaGateway } from './topology';

/** One reading's entity: its key in the API, its component id and how Home Assistant shows it. */
export interface HaReadingEntity {
  key: string;
  id: string;
  spec: HaReadingSpec;
  numeric: boolean;
}

/** The air quality the air-quality node last told of a device (null: not since a restart). */
export interface HaAirQualityState {
  /** The enum sensor's options: the profile's categories by their labels, best first. */
  options: string[];
  category: string | null;
  id?: string;
  level?: number;
  profile?: string;
  demand: number | null;
}

/** The device's health as the telemetry node last told it (undefined: not since a restart). */
export interface HaProblemState {
  silent?: boolean;
  batteryLow?: boolean;
}

/** What a device had announced before a restart (from the record), to announce it the same. */
export interface HaRecordedComponents {
  /** Each reading's key and whether it was numeric (1). */
  readings: Iterable<[string, number]>;
  airQuality?: string[];
  problem?: boolean;
}

/** What the bridge was told about a device (name, model, gateway, meta) and what it announced of it. */
export interface HaKnownDevice extends Omit<HaDeviceInput, 'physicalId'> {
  readonly physicalId: string;
  readonly key: string;
  readonly nodeId: string;
  firmware?: string;
  /** The gateway it was last announced behind. */
  gateway?: HaGateway;
  /** Changed only through the table (as are airQuality and problem, which count as entities too). */
  readonly entities: ReadonlyMap<string, HaReadingEntity>;
  readonly airQuality?: Readonly<HaAirQualityState>;
  readonly problem?: Readonly<HaProblemState>;
  readonly availability?: HaAvailability;
  /** The device block as last announced in this process: a change announces every entity again. */
  announcedBlock?: string;
  lastSeen?: number;
  /** The last reading's values by key and its time, for the state (other inputs publish it too). */
  lastValues?: ReadonlyMap<string, HaReadingValue>;
  lastTime?: number;
  lastState?: string;
}

type Device = HaKnownDevice & { entities: Map<string, HaReadingEntity>; availability?: HaAvailability; airQuality?: HaAirQualityState; problem?: HaProblemState };

/** The components beside the readings: the air quality's two, the problem sensor. */
function otherComponents(d: HaKnownDevice): number {
  return (d.airQuality ? 2 : 0) + (d.problem ? 1 : 0);
}

/** Whether the device has anything to announce. */
export function haHasComponents(d: HaKnownDevice): boolean {
  return d.entities.size > 0 || otherComponents(d) > 0;
}

export interface HaDeviceCounts {
  /** Devices with at least one component (announced). */
  devices: number;
  entities: number;
  online: number;
  offline: number;
  /** Reading keys left out because a device reached maxKeys. */
  skippedKeys: number;
}

export class HaDeviceTable {
  private readonly devices = new Map<string, Device>();
  private readonly totals: HaDeviceCounts = { devices: 0, entities: 0, online: 0, offline: 0, skippedKeys: 0 };

  constructor(private readonly maxDevices: number, private readonly maxKeys: number) {}

  get(physicalId: string): HaKnownDevice | undefined {
    return this.devices.get(physicalId);
  }

  values(): IterableIterator<HaKnownDevice> {
    return this.devices.values();
  }

  ids(): IterableIterator<string> {
    return this.devices.keys();
  }

  get counts(): Readonly<HaDeviceCounts> {
    return this.totals;
  }

  /** Refuses a msg that would take the table past maxDevices, before anything changes. */
  reserve(ids: readonly string[]): void {
    const added = new Set(ids.filter((id) => !this.devices.has(id))).size;
    if (this.devices.size + added > this.maxDevices) {
      throw new LeapcraftInvalidInputError(`Invalid msg.payload: the bridge already remembers ${this.devices.size} devices (at most ${this.maxDevices})`, { field: 'msg.payload' });
    }
  }

  /**
   * The device's memory, made on first use with the components it had before (from the record):
   * its reading entities, the air quality's (its options, no value yet) and the problem sensor.
   */
  device(physicalId: string, recorded: () => HaRecordedComponents | undefined): HaKnownDevice {
    let device = this.devices.get(physicalId);
    if (!device) {
      const key = haDeviceKey(physicalId);
      device = { physicalId, key, nodeId: haNodeId(key), entities: new Map() };
      this.devices.set(physicalId, device);
      const before = recorded();
      for (const [readingKey, numeric] of before?.readings ?? []) this.addEntity(device, readingKey, numeric ? 0 : null);
      if (before?.airQuality) this.setAirQuality(device, { options: before.airQuality, category: null, demand: null });
      if (before?.problem) this.setProblem(device, {});
    }
    return device;
  }

  /** The air quality now; true when its components are new or their options changed (announce them). */
  setAirQuality(device: HaKnownDevice, state: HaAirQualityState): boolean {
    const d = this.own(device);
    const changed = !d.airQuality || d.airQuality.options.join('\u0000') !== state.options.join('\u0000');
    this.change(d, () => { d.airQuality = state; });
    return changed;
  }

  /** The health told now (what it leaves out stays as it was); true when the problem sensor is new. */
  setProblem(device: HaKnownDevice, change: HaProblemState): boolean {
    const d = this.own(device);
    const added = !d.problem;
    this.change(d, () => { d.problem = { ...d.problem, ...change }; });
    return added;
  }

  /** A reading's entity, unless the device has maxKeys already; `sample` tells whether it is numeric. */
  addEntity(device: HaKnownDevice, key: string, sample: HaReadingValue): HaReadingEntity | undefined {
    const d = this.own(device);
    if (d.entities.size >= this.maxKeys) {
      this.totals.skippedKeys++;
      return undefined;
    }
    const spec = haReadingSpec(key, sample);
    const entity = { key, id: haReadingId(key), spec, numeric: spec.state_class === 'measurement' };
    this.change(d, () => d.entities.set(key, entity));
    return entity;
  }

  /** How many of these reading entities the device had (and no longer has). */
  removeEntities(device: HaKnownDevice, keys: readonly string[]): number {
    const d = this.own(device);
    return this.change(d, () => keys.filter((key) => d.entities.delete(key)).length);
  }

  /** Whether this changed the device's availability. */
  setAvailability(device: HaKnownDevice, availability: HaAvailability): boolean {
    const d = this.own(device);
    if (d.availability === availability) return false;
    this.change(d, () => { d.availability = availability; });
    return true;
  }

  forget(device: HaKnownDevice): void {
    const d = this.own(device);
    this.count(d, -1);
    this.devices.delete(d.physicalId);
  }

  /** A device's share of the counts, taken out before a change and added back after. */
  private change<T>(d: Device, mutate: () => T): T {
    this.count(d, -1);
    const result = mutate();
    this.count(d, 1);
    return result;
  }

  private count(d: Device, sign: 1 | -1): void {
    if (haHasComponents(d)) this.totals.devices += sign;
    this.totals.entities += sign * (d.entities.size + otherComponents(d));
    if (d.availability === HA_ONLINE) this.totals.online += sign;
    if (d.availability === HA_OFFLINE) this.totals.offline += sign;
  }

  /** The table's own (mutable) entry; a device forgotten since is a bug the counts must not absorb. */
  private own(device: HaKnownDevice): Device {
    const d = this.devices.get(device.physicalId);
    if (d !== device) throw new Error(`Home Assistant bridge: device ${device.physicalId} is not in the table`);
    return d;
  }
}
