/**
 * The Home Assistant bridge's memory and decisions, without Node-RED: what it has
 * announced per device, and which MQTT messages a reading, a device list, a failed poll,
 * stale data, a birth message or a removal call for.
 *
 * A device is announced once, again for a reading key it has not announced yet (only that
 * entity), and as a whole when its device block changes (name, model, gateway, firmware).
 * Every reading publishes the device's state; availability only when it changes.
 * Memory is bounded: at most `maxDevices` devices and `maxKeysPerDevice` entities each.
 */
import { LeapcraftInvalidInputError } from '../api/errors';
import {
  HaDeviceBlock, haSensorConfig, HaOrigin, haValueTemplate, HA_MANUFACTURER,
} from './discovery';
import {
  haDeviceIdentifier, haDeviceKey, haGatewayIdentifier, haGatewayNodeId, haNodeId, haObjectId, HaTopics, haUniqueId,
} from './ids';
import { HaCommand, HaDeviceInput, HaReadingInput } from './input';
import {
  HA_EXPECTED_READINGS, HA_KNOWN_READINGS, haModelName, HaReadingSpec, haReadingSpec, HaReadingValue,
} from './readings';
import { HaGateway, HaGatewayIndex } from './topology';

export type HaQos = 0 | 1 | 2;

/** One MQTT publish, as the core `mqtt out` node takes it (plus `kind` and the device, for routing). */
export interface HaMessage {
  topic: string;
  /** JSON for configs and states, `online`/`offline` for availability, '' to delete a retained message. */
  payload: string;
  retain: true;
  qos: HaQos;
  kind: 'config' | 'state' | 'availability';
  physical_id?: string;
  gateway_id?: string;
}

export interface HaBridgeOptions {
  discoveryPrefix: string;
  baseTopic: string;
  qos: HaQos;
  origin: HaOrigin;
  /** Seconds without a reading after which Home Assistant shows the entities unavailable. */
  expireAfterS?: number;
  maxDevices?: number;
  maxKeysPerDevice?: number;
}

export const HA_ONLINE = 'online';
export const HA_OFFLINE = 'offline';
export const HA_DEFAULT_MAX_DEVICES = 10_000;
export const HA_DEFAULT_MAX_KEYS_PER_DEVICE = 64;
const GATEWAY_OBJECT_ID = 'sensors';

interface Entity {
  key: string;
  objectId: string;
  spec: HaReadingSpec;
}

interface DeviceRecord {
  physicalId: string;
  key: string;
  nodeId: string;
  name?: string;
  type?: string;
  serial?: string;
  topologyId?: string | number;
  gatewayId?: string;
  firmware?: string;
  gateway?: HaGateway;
  entities: Map<string, Entity>;
  /** The device block as last announced: a change re-announces every entity. */
  announcedBlock?: string;
  availability?: typeof HA_ONLINE | typeof HA_OFFLINE;
  lastSeen?: number;
  lastState?: string;
}

interface GatewayRecord {
  gateway: HaGateway;
  key: string;
  nodeId: string;
  announcedConfig?: string;
  lastState?: string;
}

export interface HaBridgeStats {
  devices: number;
  entities: number;
  offline: number;
  gateways: number;
  lastStateAt?: number;
  /** Reading keys left out because a device reached maxKeysPerDevice. */
  skippedKeys: number;
}

export class HomeAssistantBridge {
  readonly topics: HaTopics;
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly gateways = new Map<string, GatewayRecord>();
  /** Devices announced behind each gateway, for its sensor count when the topology does not give one. */
  private readonly members = new Map<string, Set<string>>();
  private index = new HaGatewayIndex();
  private readonly maxDevices: number;
  private readonly maxKeys: number;
  private lastStateAt?: number;
  private skippedKeys = 0;
  // Kept as they change, so the status costs nothing with thousands of devices.
  private announcedDevices = 0;
  private entityCount = 0;
  private offlineCount = 0;

  constructor(private readonly options: HaBridgeOptions) {
    this.topics = new HaTopics(options.discoveryPrefix, options.baseTopic);
    this.maxDevices = options.maxDevices ?? HA_DEFAULT_MAX_DEVICES;
    this.maxKeys = options.maxKeysPerDevice ?? HA_DEFAULT_MAX_KEYS_PER_DEVICE;
  }

  // ---- inputs -------------------------------------------------------------------------------

  /**
   * Device-list entries and readings of one msg. Devices are remembered for names, models and
   * gateways; one with no entities yet gets its model's expected readings. Readings announce
   * what is new, mark their device online and publish its state. Everything about a device is
   * taken in before it is announced, so one msg announces each entity at most once.
   */
  addData(devices: readonly HaDeviceInput[], readings: readonly HaReadingInput[], now: number): HaMessage[] {
    this.reserve([...devices.map((d) => d.physicalId), ...readings.map((r) => r.physicalId)]);
    for (const input of devices) this.updateInfo(this.record(input.physicalId), input);
    for (const reading of readings) if (reading.firmware) this.record(reading.physicalId).firmware = reading.firmware;
    for (const input of devices) {
      const rec = this.record(input.physicalId);
      if (rec.entities.size === 0 && rec.type) {
        for (const key of HA_EXPECTED_READINGS[rec.type.toLowerCase()] ?? []) this.addEntity(rec, key, null);
        // Not heard from yet: offline if no reading comes within the stale period.
        rec.lastSeen ??= now;
      }
    }
    const out: HaMessage[] = [];
    const withReadings = new Set(readings.map((r) => r.physicalId));
    for (const input of devices) {
      const rec = this.record(input.physicalId);
      if (!withReadings.has(rec.physicalId) && rec.entities.size > 0) out.push(...this.announce(rec, []));
    }
    for (const reading of readings) out.push(...this.addReading(this.record(reading.physicalId), reading, now));
    return out;
  }

  private updateInfo(rec: DeviceRecord, input: HaDeviceInput): void {
    if (input.name !== undefined) rec.name = input.name;
    if (input.type !== undefined) rec.type = input.type;
    if (input.serial !== undefined) rec.serial = input.serial;
    if (input.topologyId !== undefined) rec.topologyId = input.topologyId;
    if (input.gatewayId !== undefined) rec.gatewayId = input.gatewayId;
  }

  private addReading(rec: DeviceRecord, reading: HaReadingInput, now: number): HaMessage[] {
    const fresh: Entity[] = [];
    for (const [key, value] of reading.values) {
      if (rec.entities.has(key)) continue;
      const entity = this.addEntity(rec, key, value);
      if (entity) fresh.push(entity);
    }
    rec.lastSeen = now;
    if (rec.entities.size === 0) return [];
    const out = this.announce(rec, fresh);
    if (rec.availability !== HA_ONLINE) {
      if (rec.availability === HA_OFFLINE) this.offlineCount--;
      rec.availability = HA_ONLINE;
      out.push(this.availabilityMessage(rec));
    }
    // Every announced key is in the state: null (Home Assistant: unknown) when this reading lacks it.
    const values = new Map(reading.values);
    const state = Object.fromEntries([...rec.entities.values()].map((e) => [e.objectId, values.get(e.key) ?? null]));
    rec.lastState = JSON.stringify(state);
    out.push(this.message(this.topics.deviceState(rec.key), rec.lastState, 'state', { physical_id: rec.physicalId }));
    this.lastStateAt = now;
    return out;
  }

  /**
   * What one parsed msg (lib/homeassistant/input.ts) does: the messages to publish now, and
   * whether everything is to be announced again after the delay (Home Assistant came online,
   * the broker reconnected).
   */
  apply(command: HaCommand, now: number): { messages: HaMessage[]; reannounce: boolean } {
    switch (command.kind) {
      case 'data':
        return { messages: this.addData(command.devices, command.readings, now), reannounce: false };
      case 'failed':
        return { messages: this.markFailed(command.ids), reannounce: false };
      case 'birth':
        // Home Assistant going offline needs nothing: its own last will says so.
        return { messages: [], reannounce: command.online };
      case 'connected':
        return { messages: [], reannounce: true };
      case 'announce':
        return { messages: this.announceAll(), reannounce: false };
      case 'remove':
        return { messages: this.remove(command.ids), reannounce: false };
      case 'ignore':
        return { messages: [], reannounce: false };
    }
  }

  /** Polls that failed (a Catch node's msg): those devices go offline. */
  markFailed(ids: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids) {
      const rec = this.devices.get(id);
      if (rec) out.push(...this.goOffline(rec));
    }
    return out;
  }

  /** Devices with no reading for `maxAgeMs` go offline. */
  markStale(now: number, maxAgeMs: number): HaMessage[] {
    const out: HaMessage[] = [];
    for (const rec of this.devices.values()) {
      if (rec.lastSeen !== undefined && now - rec.lastSeen > maxAgeMs) out.push(...this.goOffline(rec));
    }
    return out;
  }

  /** New topologies: devices whose gateway changed are announced again. */
  setGatewayIndex(index: HaGatewayIndex): HaMessage[] {
    this.index = index;
    const out: HaMessage[] = [];
    for (const rec of this.devices.values()) {
      if (rec.announcedBlock !== undefined) out.push(...this.announce(rec, []));
    }
    return out;
  }

  /**
   * Everything again (Home Assistant's birth message, a broker reconnect): the bridge's
   * availability, every gateway and entity config, each device's availability and last state.
   */
  announceAll(): HaMessage[] {
    const out: HaMessage[] = [this.bridgeAvailability(true)];
    for (const g of this.gateways.values()) {
      g.announcedConfig = undefined;
      g.lastState = undefined;
    }
    for (const rec of this.devices.values()) {
      if (rec.entities.size === 0) continue;
      rec.announcedBlock = undefined;
      out.push(...this.announce(rec, []));
      if (rec.availability) out.push(this.availabilityMessage(rec));
      if (rec.lastState !== undefined) out.push(this.message(this.topics.deviceState(rec.key), rec.lastState, 'state', { physical_id: rec.physicalId }));
    }
    return out;
  }

  /**
   * Empty retained configs, so Home Assistant deletes the entities, and the retained state
   * and availability cleared. Without ids: every device and gateway the bridge announced.
   * A device it does not remember (after a restart) gets every known reading's config
   * cleared, which covers what AirBird and Ambinode sensors announce.
   */
  remove(ids?: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids ?? [...this.devices.keys()]) {
      const rec = this.devices.get(id);
      const key = rec?.key ?? haDeviceKey(id);
      const nodeId = haNodeId(key);
      const objectIds = rec ? [...rec.entities.values()].map((e) => e.objectId) : [...new Set(Object.keys(HA_KNOWN_READINGS).map(haObjectId))];
      for (const objectId of objectIds) out.push(this.message(this.topics.config(nodeId, objectId), '', 'config', { physical_id: id }));
      out.push(this.message(this.topics.deviceState(key), '', 'state', { physical_id: id }));
      out.push(this.message(this.topics.deviceAvailability(key), '', 'availability', { physical_id: id }));
      if (rec) this.forget(rec);
    }
    for (const [id, g] of this.gateways) {
      if (this.members.get(id)?.size) {
        out.push(...this.announceGateway(g.gateway));
        continue;
      }
      if (g.announcedConfig !== undefined) {
        out.push(this.message(this.topics.config(g.nodeId, GATEWAY_OBJECT_ID), '', 'config', { gateway_id: id }));
        out.push(this.message(this.topics.gatewayState(g.key), '', 'state', { gateway_id: id }));
      }
      this.gateways.delete(id);
      this.members.delete(id);
    }
    return out;
  }

  bridgeAvailability(online: boolean): HaMessage {
    return this.message(this.topics.bridgeAvailability(), online ? HA_ONLINE : HA_OFFLINE, 'availability');
  }

  /** Devices and entities announced (gateways included in entities), devices offline. */
  stats(): HaBridgeStats {
    // Every gateway record was announced (one is made only to announce it).
    const gateways = this.gateways.size;
    return {
      devices: this.announcedDevices, entities: this.entityCount + gateways, offline: this.offlineCount, gateways,
      lastStateAt: this.lastStateAt, skippedKeys: this.skippedKeys,
    };
  }

  // ---- the memory ---------------------------------------------------------------------------

  /** Refuses a msg that would take the bridge past maxDevices, before anything changes. */
  private reserve(ids: readonly string[]): void {
    const added = new Set(ids.filter((id) => !this.devices.has(id))).size;
    if (this.devices.size + added > this.maxDevices) {
      throw new LeapcraftInvalidInputError(`Invalid msg.payload: the bridge already remembers ${this.devices.size} devices (at most ${this.maxDevices})`, { field: 'msg.payload' });
    }
  }

  private record(physicalId: string): DeviceRecord {
    let rec = this.devices.get(physicalId);
    if (!rec) {
      const key = haDeviceKey(physicalId);
      rec = { physicalId, key, nodeId: haNodeId(key), entities: new Map() };
      this.devices.set(physicalId, rec);
    }
    return rec;
  }

  private addEntity(rec: DeviceRecord, key: string, sample: HaReadingValue): Entity | undefined {
    if (rec.entities.size >= this.maxKeys) {
      this.skippedKeys++;
      return undefined;
    }
    const entity = { key, objectId: haObjectId(key), spec: haReadingSpec(key, sample) };
    rec.entities.set(key, entity);
    this.entityCount++;
    if (rec.entities.size === 1) this.announcedDevices++;
    return entity;
  }

  private gatewayOf(rec: DeviceRecord): HaGateway | undefined {
    return this.index.resolve(rec.physicalId, rec.topologyId) ?? (rec.gatewayId ? { id: rec.gatewayId } : undefined);
  }

  private deviceBlock(rec: DeviceRecord): HaDeviceBlock {
    const block: HaDeviceBlock = { identifiers: [haDeviceIdentifier(rec.physicalId)], name: rec.name ?? rec.physicalId, manufacturer: HA_MANUFACTURER };
    const model = haModelName(rec.type);
    if (model) block.model = model;
    if (rec.serial) block.serial_number = rec.serial;
    if (rec.firmware) block.sw_version = rec.firmware;
    if (rec.gateway) block.via_device = haGatewayIdentifier(rec.gateway.id);
    return block;
  }

  /** The gateway first (Home Assistant links via_device to a device it already knows), then the configs due. */
  private announce(rec: DeviceRecord, fresh: readonly Entity[]): HaMessage[] {
    const out: HaMessage[] = [];
    const before = rec.gateway?.id;
    rec.gateway = this.gatewayOf(rec);
    if (before !== rec.gateway?.id) {
      if (before) this.members.get(before)?.delete(rec.physicalId);
      if (rec.gateway) {
        let set = this.members.get(rec.gateway.id);
        if (!set) this.members.set(rec.gateway.id, (set = new Set()));
        set.add(rec.physicalId);
      }
    }
    if (rec.gateway) out.push(...this.announceGateway(rec.gateway));
    const block = this.deviceBlock(rec);
    const text = JSON.stringify(block);
    const due = rec.announcedBlock === text ? fresh : [...rec.entities.values()];
    rec.announcedBlock = text;
    for (const entity of due) {
      out.push(this.message(this.topics.config(rec.nodeId, entity.objectId), this.entityConfig(rec, entity, block), 'config', { physical_id: rec.physicalId }));
    }
    // The gateway it left has one sensor less.
    if (before && before !== rec.gateway?.id) {
      const old = this.gateways.get(before);
      if (old) out.push(...this.announceGateway(old.gateway));
    }
    return out;
  }

  private entityConfig(rec: DeviceRecord, entity: Entity, device: HaDeviceBlock): string {
    return haSensorConfig({
      ...entity.spec,
      unique_id: haUniqueId(rec.nodeId, entity.objectId),
      state_topic: this.topics.deviceState(rec.key),
      value_template: haValueTemplate(entity.objectId),
      // Unavailable when the bridge is gone (its last will) or the device is (failed or stale).
      availability: [{ topic: this.topics.bridgeAvailability() }, { topic: this.topics.deviceAvailability(rec.key) }],
      availability_mode: 'all',
      ...(this.options.expireAfterS ? { expire_after: this.options.expireAfterS } : {}),
      qos: this.options.qos,
      device,
      origin: this.options.origin,
    });
  }

  /** The gateway as a device of its own, with one diagnostic entity: how many sensors report through it. */
  private announceGateway(gateway: HaGateway): HaMessage[] {
    let g = this.gateways.get(gateway.id);
    if (!g) {
      const key = haDeviceKey(gateway.id);
      g = { gateway, key, nodeId: haGatewayNodeId(key) };
      this.gateways.set(gateway.id, g);
    }
    g.gateway = gateway;
    const out: HaMessage[] = [];
    const config = haSensorConfig({
      name: 'Sensors',
      unique_id: haUniqueId(g.nodeId, GATEWAY_OBJECT_ID),
      state_topic: this.topics.gatewayState(g.key),
      value_template: haValueTemplate(GATEWAY_OBJECT_ID),
      state_class: 'measurement',
      entity_category: 'diagnostic',
      icon: 'mdi:access-point-network',
      availability: [{ topic: this.topics.bridgeAvailability() }],
      qos: this.options.qos,
      device: { identifiers: [haGatewayIdentifier(gateway.id)], name: gateway.name ?? `Leapcraft gateway ${gateway.id}`, manufacturer: HA_MANUFACTURER, model: 'Gateway' },
      origin: this.options.origin,
    });
    if (g.announcedConfig !== config) {
      g.announcedConfig = config;
      out.push(this.message(this.topics.config(g.nodeId, GATEWAY_OBJECT_ID), config, 'config', { gateway_id: gateway.id }));
    }
    const sensors = gateway.sensors ?? this.members.get(gateway.id)?.size ?? 0;
    const state = JSON.stringify({ [GATEWAY_OBJECT_ID]: sensors });
    if (g.lastState !== state) {
      g.lastState = state;
      out.push(this.message(this.topics.gatewayState(g.key), state, 'state', { gateway_id: gateway.id }));
    }
    return out;
  }

  private forget(rec: DeviceRecord): void {
    if (rec.gateway) this.members.get(rec.gateway.id)?.delete(rec.physicalId);
    if (rec.entities.size > 0) this.announcedDevices--;
    this.entityCount -= rec.entities.size;
    if (rec.availability === HA_OFFLINE) this.offlineCount--;
    this.devices.delete(rec.physicalId);
  }

  private goOffline(rec: DeviceRecord): HaMessage[] {
    if (rec.entities.size === 0 || rec.availability === HA_OFFLINE) return [];
    rec.availability = HA_OFFLINE;
    this.offlineCount++;
    return [this.availabilityMessage(rec)];
  }

  private availabilityMessage(rec: DeviceRecord): HaMessage {
    return this.message(this.topics.deviceAvailability(rec.key), rec.availability ?? HA_OFFLINE, 'availability', { physical_id: rec.physicalId });
  }

  private message(topic: string, payload: string, kind: HaMessage['kind'], about: { physical_id?: string; gateway_id?: string } = {}): HaMessage {
    return { topic, payload, retain: true, qos: this.options.qos, kind, ...about };
  }
}
