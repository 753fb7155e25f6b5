/**
 * The Home Assistant bridge's memory and decisions, without Node-RED: what it has announced
 * per device, and which MQTT messages a reading, a device list, an alert, a failed poll, stale
 * data, a birth message, the account's health or a removal call for.
 *
 * Each sensor is a device with one entity per reading key, a diagnostic `last seen` sensor
 * and an `alert` event entity; each gateway a device with a `sensors` count; the bridge a
 * device of its own with the account's health and an event entity for alerts of devices it
 * does not know. Discovery is device-based (one retained `<prefix>/device/<node id>/config`
 * per device, Home Assistant 2024.11+) or per entity (one retained config per entity), as set;
 * a device announced in the other form is migrated the way Home Assistant documents.
 *
 * A device is announced once, again when a reading key shows up (device-based: its config with
 * the new component; per entity: only that entity) and as a whole when its device block changes
 * (name, model, gateway, firmware, area). Every reading publishes the device's state;
 * availability only when it changes. What was announced is kept as a record (record.ts) the
 * node stores in its context, so removal, clean-up and migration also work for devices not
 * seen since a restart. Memory is bounded: at most `maxDevices` devices and
 * `maxKeysPerDevice` reading entities each.
 */
import { LeapcraftInvalidInputError } from '../api/errors';
import { HA_ALERT_EVENT_TYPES, HaAlertInput } from './alerts';
import {
  HaAvailabilityEntry, HaComponent, HaDeviceBlock, haDeviceConfig, HaDeviceConfig, haEntityConfig, HA_MANUFACTURER, HaOrigin, haValueTemplate,
} from './discovery';
import { HaHealth, haIsoTime } from './health';
import {
  HA_ALERT_ID, HA_LAST_SEEN_ID, haBridgeIdentifier, haBridgeNodeId, haDeviceIdentifier, haDeviceKey, haGatewayIdentifier, haGatewayNodeId,
  haNodeId, HaPlatform, haReadingId, HaTopics, haUniqueId,
} from './ids';
import { HaCommand, HaDeviceInput, HaReadingInput } from './input';
import {
  HA_EXPECTED_READINGS, HA_KNOWN_READINGS, haModelName, HaReadingSpec, haReadingSpec, HaReadingValue,
} from './readings';
import { HaAnnounced, HaDiscoveryMode, HaRecord, readHaRecord } from './record';
import { HaGateway, HaGatewayIndex } from './topology';

export type HaQos = 0 | 1 | 2;
export type HaAreaSource = 'gateway' | 'device' | 'meta' | 'none';

/** One MQTT publish, as the core `mqtt out` node takes it (plus `kind` and the device, for routing). */
export interface HaMessage {
  topic: string;
  /** JSON for configs, states and events, `online`/`offline` for availability, '' to delete a retained message. */
  payload: string;
  /** Everything but events (Home Assistant would replay a retained event after its restart). */
  retain: boolean;
  qos: HaQos;
  kind: 'config' | 'state' | 'availability' | 'event';
  physical_id?: string;
  gateway_id?: string;
}

export interface HaBridgeOptions {
  discoveryPrefix: string;
  baseTopic: string;
  qos: HaQos;
  origin: HaOrigin;
  /** Device-based (default) or per-entity discovery. */
  mode?: HaDiscoveryMode;
  /** Where suggested_area comes from (default: the gateway's name). */
  area?: { source: HaAreaSource; field?: string };
  /** A device missing from the account's device list this long is removed; 0 or undefined: never. */
  removeAfterMs?: number;
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
/** Home Assistant's hand-over between the two forms, in each form's spelling. */
const MIGRATE_ENTITY = JSON.stringify({ migrate_discovery: true });
const MIGRATE_DEVICE = JSON.stringify({ migr_discvry: true });

interface Entity {
  key: string;
  id: string;
  spec: HaReadingSpec;
  numeric: boolean;
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
  meta?: Record<string, string>;
  gateway?: HaGateway;
  entities: Map<string, Entity>;
  /** The device block as last announced in this process: a change announces every entity again. */
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

type About = { physical_id?: string; gateway_id?: string };

export class HomeAssistantBridge {
  readonly topics: HaTopics;
  readonly mode: HaDiscoveryMode;
  private readonly devices = new Map<string, DeviceRecord>();
  private readonly gateways = new Map<string, GatewayRecord>();
  /** Devices announced behind each gateway, for its sensor count when the topology does not give one. */
  private readonly members = new Map<string, Set<string>>();
  /** What was announced (the record kept in the node's context). */
  private readonly announced = new Map<string, HaAnnounced>();
  private readonly announcedGateways = new Map<string, HaDiscoveryMode>();
  private announcedBridge?: HaDiscoveryMode;
  private bridgeConfig?: string;
  /** The bridge's own device is announced (its health is published only then). */
  private bridgeOn = false;
  private index = new HaGatewayIndex();
  private readonly maxDevices: number;
  private readonly maxKeys: number;
  private readonly health = new HaHealth();
  private lastHealth?: string;
  private lastHealthFlags?: string;
  private lastStateAt?: number;
  private skippedKeys = 0;
  // Kept as they change, so the status costs nothing with thousands of devices.
  private announcedDevices = 0;
  private entityCount = 0;
  private offlineCount = 0;
  private onlineCount = 0;
  /** Counts changes to the record, so the node saves it only when it changed. */
  private recordVersion = 0;

  constructor(private readonly options: HaBridgeOptions) {
    this.topics = new HaTopics(options.discoveryPrefix, options.baseTopic);
    this.mode = options.mode ?? 'device';
    this.maxDevices = options.maxDevices ?? HA_DEFAULT_MAX_DEVICES;
    this.maxKeys = options.maxKeysPerDevice ?? HA_DEFAULT_MAX_KEYS_PER_DEVICE;
  }

  // ---- the record ---------------------------------------------------------------------------

  /** Takes in a stored record (before any msg): what an earlier run announced. */
  restore(value: unknown): void {
    const record = readHaRecord(value, this.maxDevices);
    if (!record) return;
    for (const [id, entry] of Object.entries(record.devices)) this.announced.set(id, entry);
    for (const [id, mode] of Object.entries(record.gateways)) this.announcedGateways.set(id, mode);
    this.announcedBridge = record.bridge;
  }

  /** What was announced, to store; `version` changes whenever it does. */
  record(): HaRecord {
    const devices: HaRecord['devices'] = {};
    for (const [id, entry] of this.announced) devices[id] = entry;
    return { v: 1, devices, gateways: Object.fromEntries(this.announcedGateways), ...(this.announcedBridge ? { bridge: this.announcedBridge } : {}) };
  }

  get version(): number {
    return this.recordVersion;
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
    for (const input of devices) this.updateInfo(this.device(input.physicalId), input);
    for (const reading of readings) {
      const rec = this.device(reading.physicalId);
      if (reading.firmware) rec.firmware = reading.firmware;
      if (reading.meta) rec.meta = { ...reading.meta, ...rec.meta };
    }
    for (const input of devices) {
      const rec = this.device(input.physicalId);
      if (rec.entities.size === 0 && rec.type) {
        for (const key of HA_EXPECTED_READINGS[rec.type.toLowerCase()] ?? []) this.addEntity(rec, key, null);
        // Not heard from yet: offline if no reading comes within the stale period.
        rec.lastSeen ??= now;
      }
    }
    const out: HaMessage[] = [];
    const withReadings = new Set(readings.map((r) => r.physicalId));
    for (const input of devices) {
      const rec = this.device(input.physicalId);
      if (!withReadings.has(rec.physicalId) && rec.entities.size > 0) out.push(...this.announce(rec, []));
    }
    for (const reading of readings) out.push(...this.addReading(this.device(reading.physicalId), reading, now));
    return out;
  }

  private updateInfo(rec: DeviceRecord, input: HaDeviceInput): void {
    if (input.name !== undefined) rec.name = input.name;
    if (input.type !== undefined) rec.type = input.type;
    if (input.serial !== undefined) rec.serial = input.serial;
    if (input.topologyId !== undefined) rec.topologyId = input.topologyId;
    if (input.gatewayId !== undefined) rec.gatewayId = input.gatewayId;
    if (input.meta !== undefined) rec.meta = { ...rec.meta, ...input.meta };
  }

  private addReading(rec: DeviceRecord, reading: HaReadingInput, now: number): HaMessage[] {
    const fresh: Entity[] = [];
    for (const [key, value] of reading.values) {
      if (rec.entities.has(key)) continue;
      const entity = this.addEntity(rec, key, value);
      if (entity) fresh.push(entity);
    }
    rec.lastSeen = now;
    this.health.reading(now);
    const gone = this.announced.get(rec.physicalId);
    if (gone?.gone !== undefined) {
      // It reports: whatever the device list said, it is there.
      delete gone.gone;
      this.recordVersion++;
    }
    if (rec.entities.size === 0) return [];
    const out = this.announce(rec, fresh);
    if (rec.availability !== HA_ONLINE) {
      if (rec.availability === HA_OFFLINE) this.offlineCount--;
      rec.availability = HA_ONLINE;
      this.onlineCount++;
      out.push(this.availabilityMessage(rec));
    }
    // Every announced key is in the state: null (Home Assistant: unknown) when this reading lacks it.
    const values = new Map(reading.values);
    const state: Record<string, unknown> = {};
    for (const e of rec.entities.values()) state[e.id] = values.get(e.key) ?? null;
    state[HA_LAST_SEEN_ID] = haIsoTime(reading.time ?? now);
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
    const result = this.applyCommand(command, now);
    result.messages.push(...this.healthMessages(now, false));
    return result;
  }

  private applyCommand(command: HaCommand, now: number): { messages: HaMessage[]; reannounce: boolean } {
    switch (command.kind) {
      case 'data': {
        const messages = this.addData(command.devices, command.readings, now);
        for (const alert of command.alerts) messages.push(this.alert(alert));
        return { messages, reannounce: false };
      }
      case 'failed':
        if (command.code) this.health.failed(command.code, now);
        return { messages: this.markFailed(command.ids), reannounce: false };
      case 'birth':
        // Home Assistant going offline needs nothing: its own last will says so.
        return { messages: [], reannounce: command.online };
      case 'connected':
        return { messages: [], reannounce: true };
      case 'announce':
        return { messages: this.announceAll(now), reannounce: false };
      case 'remove':
        return { messages: command.keys ? this.removeReadings(command.ids ?? [], command.keys) : this.remove(command.ids), reannounce: false };
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
   * An alert as one event (not retained) of its device's `alert` entity, or of the bridge's
   * when the bridge has not announced that device.
   */
  alert(alert: HaAlertInput): HaMessage {
    const id = alert.physicalId;
    const known = id !== undefined && ((this.devices.get(id)?.entities.size ?? 0) > 0 || this.announced.has(id));
    const topic = known ? this.topics.deviceAlert(this.devices.get(id!)?.key ?? haDeviceKey(id!)) : this.topics.bridgeAlert();
    const payload = JSON.stringify({ ...alert.attributes, event_type: alert.eventType });
    return this.message(topic, payload, 'event', id !== undefined ? { physical_id: id } : {}, false);
  }

  // ---- the account's device list: clean-up ----------------------------------------------------

  /**
   * The account's device list, read successfully: every announced device not in it is missing
   * from now on (unless it already was), every one in it is not. Returns what is due for removal.
   */
  setDeviceList(ids: Iterable<string>, now: number): HaMessage[] {
    const present = new Set(ids);
    for (const [id, entry] of this.announced) {
      if (present.has(id)) {
        if (entry.gone !== undefined) {
          delete entry.gone;
          this.recordVersion++;
        }
      } else if (entry.gone === undefined) {
        entry.gone = now;
        this.recordVersion++;
      }
    }
    return this.cleanup(now);
  }

  /** Devices missing from the device list for the whole grace period: removed. */
  cleanup(now: number): HaMessage[] {
    const after = this.options.removeAfterMs ?? 0;
    if (after <= 0) return [];
    const due = [...this.announced].filter(([, e]) => e.gone !== undefined && now - e.gone >= after).map(([id]) => id);
    return due.length ? this.remove(due) : [];
  }

  /** Physical ids missing from the device list, and since when. */
  missing(): Array<{ physicalId: string; since: number }> {
    return [...this.announced].filter(([, e]) => e.gone !== undefined).map(([physicalId, e]) => ({ physicalId, since: e.gone! }));
  }

  // ---- health ---------------------------------------------------------------------------------

  /** A read of the account (topologies, device list) succeeded. */
  accountSucceeded(): void {
    this.health.succeeded();
  }

  /** A read of the account failed with this code (the scheduler's failure state). */
  accountFailed(code: string, now: number, since = now, retryAfterMs?: number): void {
    this.health.failed(code, now, since, retryAfterMs);
  }

  setClientRateLimited(limited: boolean): void {
    this.health.setClientRateLimited(limited);
  }

  /**
   * The bridge's health state, when it changed: with `all`, any change (the periodic look);
   * without, only a change of API reachable or rate-limited, or the first poll (published with
   * the msg that caused it; the counts and times follow with the periodic look).
   */
  healthMessages(now: number, all = true): HaMessage[] {
    if (!this.bridgeOn) return [];
    const state = this.health.state(now, this.onlineCount);
    const text = JSON.stringify(state);
    const flags = `${state.api}|${state.rate_limited}|${state.api_problem.code ?? ''}|${state.last_poll === null}`;
    if (text === this.lastHealth || (!all && flags === this.lastHealthFlags && this.lastHealth !== undefined)) return [];
    this.lastHealth = text;
    this.lastHealthFlags = flags;
    return [this.message(this.topics.bridgeState(), text, 'state')];
  }

  // ---- announcing -----------------------------------------------------------------------------

  /**
   * The bridge's own device (its health entities and the event entity for alerts of unknown
   * devices) and its state. At start and with every announcement of everything.
   */
  announceBridge(now: number): HaMessage[] {
    const nodeId = haBridgeNodeId(this.options.baseTopic);
    const config = this.bridgeDeviceConfig(nodeId);
    const text = JSON.stringify(config);
    const out: HaMessage[] = [];
    if (text !== this.bridgeConfig || this.announcedBridge !== this.mode) {
      const before = this.announcedBridge === undefined ? undefined : { mode: this.announcedBridge, components: componentMap(config.components) };
      out.push(...this.publishConfig(nodeId, config, before, undefined, {}));
      this.bridgeConfig = text;
      if (this.announcedBridge !== this.mode) this.recordVersion++;
      this.announcedBridge = this.mode;
    }
    this.bridgeOn = true;
    this.lastHealth = undefined;
    out.push(...this.healthMessages(now));
    return out;
  }

  /**
   * Everything again (Home Assistant's birth message, a broker reconnect): the bridge's
   * availability, device and health, every gateway and device config, each device's
   * availability and last state.
   */
  announceAll(now = Date.now()): HaMessage[] {
    this.bridgeConfig = undefined;
    const out: HaMessage[] = [this.bridgeAvailability(true), ...this.announceBridge(now)];
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
   * Removal the way Home Assistant documents it for the form each was announced in: an empty
   * retained device config (device-based) or an empty retained config per entity; the retained
   * state and availability cleared; forgotten. Without ids: every device and gateway the bridge
   * announced, and its own device (announced again with the next announcement of everything). A device it neither remembers nor has a record of gets the configs of every known
   * reading, `last seen` and `alert` cleared in both forms.
   */
  remove(ids?: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids ?? [...new Set([...this.devices.keys(), ...this.announced.keys()])]) {
      const rec = this.devices.get(id);
      const key = rec?.key ?? haDeviceKey(id);
      const nodeId = haNodeId(key);
      const entry = this.announced.get(id);
      const about = { physical_id: id };
      if (entry) {
        out.push(...this.removeConfigs(nodeId, entry.mode, entry.components, about));
      } else if (!rec) {
        // Unknown: every component a Leapcraft sensor could have, in both forms.
        const guess: Record<string, HaPlatform> = {};
        for (const k of Object.keys(HA_KNOWN_READINGS)) guess[haReadingId(k)] = 'sensor';
        guess[HA_LAST_SEEN_ID] = 'sensor';
        guess[HA_ALERT_ID] = 'event';
        out.push(...this.removeConfigs(nodeId, 'entity', guess, about), this.message(this.topics.deviceConfig(nodeId), '', 'config', about));
      }
      out.push(this.message(this.topics.deviceState(key), '', 'state', about));
      out.push(this.message(this.topics.deviceAvailability(key), '', 'availability', about));
      if (rec) this.forget(rec);
      if (this.announced.delete(id)) this.recordVersion++;
    }
    for (const [id, g] of this.gateways) {
      if (this.members.get(id)?.size) {
        out.push(...this.announceGateway(g.gateway));
        continue;
      }
      const mode = this.announcedGateways.get(id);
      if (g.announcedConfig !== undefined || mode !== undefined) {
        out.push(...this.removeConfigs(g.nodeId, mode ?? this.mode, { [GATEWAY_OBJECT_ID]: 'sensor' }, { gateway_id: id }));
        out.push(this.message(this.topics.gatewayState(g.key), '', 'state', { gateway_id: id }));
      }
      this.gateways.delete(id);
      this.members.delete(id);
      if (this.announcedGateways.delete(id)) this.recordVersion++;
    }
    // Everything: gateways announced before a restart and not seen since, and the bridge's own device.
    if (!ids) {
      const nodeId = haBridgeNodeId(this.options.baseTopic);
      if (this.bridgeOn || this.announcedBridge) {
        out.push(...this.removeConfigs(nodeId, this.announcedBridge ?? this.mode, componentMap(this.bridgeDeviceConfig(nodeId).components), {}));
        out.push(this.message(this.topics.bridgeState(), '', 'state'));
        if (this.announcedBridge) this.recordVersion++;
      }
      this.bridgeOn = false;
      this.bridgeConfig = undefined;
      this.announcedBridge = undefined;
      for (const [id, mode] of this.announcedGateways) {
        out.push(...this.removeConfigs(haGatewayNodeId(haDeviceKey(id)), mode, { [GATEWAY_OBJECT_ID]: 'sensor' }, { gateway_id: id }));
        out.push(this.message(this.topics.gatewayState(haDeviceKey(id)), '', 'state', { gateway_id: id }));
      }
      if (this.announcedGateways.size) this.recordVersion++;
      this.announcedGateways.clear();
    }
    return out;
  }

  /** Some reading entities of known devices removed (msg.key): a component removal in either form. */
  removeReadings(ids: readonly string[], keys: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids) {
      const rec = this.devices.get(id);
      if (!rec) continue;
      let removed = 0;
      for (const key of keys) {
        if (rec.entities.delete(key)) {
          removed++;
          this.entityCount--;
        }
      }
      if (removed === 0) continue;
      if (rec.entities.size === 0) this.announcedDevices--;
      rec.announcedBlock = undefined;
      out.push(...this.announce(rec, []));
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

  /** The device's memory; a device in the record gets back the reading entities it had. */
  private device(physicalId: string): DeviceRecord {
    let rec = this.devices.get(physicalId);
    if (!rec) {
      const key = haDeviceKey(physicalId);
      rec = { physicalId, key, nodeId: haNodeId(key), entities: new Map() };
      this.devices.set(physicalId, rec);
      for (const [readingKey, numeric] of Object.values(this.announced.get(physicalId)?.readings ?? {})) {
        this.addEntity(rec, readingKey, numeric ? 0 : null);
      }
    }
    return rec;
  }

  private addEntity(rec: DeviceRecord, key: string, sample: HaReadingValue): Entity | undefined {
    if (rec.entities.size >= this.maxKeys) {
      this.skippedKeys++;
      return undefined;
    }
    const spec = haReadingSpec(key, sample);
    const entity = { key, id: haReadingId(key), spec, numeric: spec.state_class === 'measurement' };
    rec.entities.set(key, entity);
    this.entityCount++;
    if (rec.entities.size === 1) this.announcedDevices++;
    return entity;
  }

  private gatewayOf(rec: DeviceRecord): HaGateway | undefined {
    return this.index.resolve(rec.physicalId, rec.topologyId) ?? (rec.gatewayId ? { id: rec.gatewayId } : undefined);
  }

  private area(rec: DeviceRecord, gateway: HaGateway | undefined): string | undefined {
    const area = this.options.area ?? { source: 'gateway' };
    switch (area.source) {
      case 'gateway': return gateway?.name;
      case 'device': return rec.name;
      case 'meta': return area.field ? rec.meta?.[area.field] : undefined;
      default: return undefined;
    }
  }

  private deviceBlock(rec: DeviceRecord): HaDeviceBlock {
    const block: HaDeviceBlock = { identifiers: [haDeviceIdentifier(rec.physicalId)], name: rec.name ?? rec.physicalId, manufacturer: HA_MANUFACTURER };
    const model = haModelName(rec.type);
    if (model) block.model = model;
    if (rec.serial) block.serial_number = rec.serial;
    if (rec.firmware) block.sw_version = rec.firmware;
    const area = this.area(rec, rec.gateway);
    if (area) block.suggested_area = area;
    if (rec.gateway) block.via_device = haGatewayIdentifier(rec.gateway.id);
    return block;
  }

  private bridgeOnly(): HaAvailabilityEntry[] {
    return [{ topic: this.topics.bridgeAvailability() }];
  }

  /** A sensor's components: its readings, `last seen` and `alert` (both live while the device is offline). */
  private deviceConfig(rec: DeviceRecord, device = this.deviceBlock(rec)): HaDeviceConfig {
    const components: HaComponent[] = [...rec.entities.values()].map((e) => ({
      id: e.id,
      platform: 'sensor',
      options: {
        ...e.spec, unique_id: haUniqueId(rec.nodeId, e.id), value_template: haValueTemplate(e.id),
        ...(this.options.expireAfterS ? { expire_after: this.options.expireAfterS } : {}),
      },
    }));
    components.push({
      id: HA_LAST_SEEN_ID, platform: 'sensor', availability: this.bridgeOnly(),
      options: { name: 'Last seen', unique_id: haUniqueId(rec.nodeId, HA_LAST_SEEN_ID), value_template: haValueTemplate(HA_LAST_SEEN_ID), device_class: 'timestamp', entity_category: 'diagnostic' },
    }, {
      id: HA_ALERT_ID, platform: 'event', availability: this.bridgeOnly(), stateTopic: this.topics.deviceAlert(rec.key),
      options: { name: 'Alert', unique_id: haUniqueId(rec.nodeId, HA_ALERT_ID), event_types: [...HA_ALERT_EVENT_TYPES], icon: 'mdi:alert-circle-outline' },
    });
    return {
      device, origin: this.options.origin, stateTopic: this.topics.deviceState(rec.key),
      // Unavailable when the bridge is gone (its last will) or the device is (failed or stale).
      availability: [{ topic: this.topics.bridgeAvailability() }, { topic: this.topics.deviceAvailability(rec.key) }],
      availabilityMode: 'all', qos: this.options.qos, components,
    };
  }

  private bridgeDeviceConfig(nodeId: string): HaDeviceConfig {
    const base = this.options.baseTopic;
    const sensor = (id: string, platform: HaPlatform, options: Omit<HaComponent['options'], 'unique_id' | 'value_template'>): HaComponent => ({
      id, platform, options: { ...options, unique_id: haUniqueId(nodeId, id), value_template: haValueTemplate(id), entity_category: 'diagnostic' },
    });
    return {
      device: {
        identifiers: [haBridgeIdentifier(base)], name: base === 'leapcraft' ? 'Leapcraft bridge' : `Leapcraft bridge (${base})`,
        manufacturer: HA_MANUFACTURER, model: 'Node-RED bridge', ...(this.options.origin.sw_version ? { sw_version: this.options.origin.sw_version } : {}),
      },
      origin: this.options.origin, stateTopic: this.topics.bridgeState(), availability: this.bridgeOnly(), qos: this.options.qos,
      components: [
        sensor('api', 'binary_sensor', {
          name: 'API reachable', device_class: 'connectivity',
          json_attributes_topic: this.topics.bridgeState(), json_attributes_template: '{{ value_json.api_problem | tojson }}',
        }),
        sensor('rate_limited', 'binary_sensor', { name: 'Rate limited', device_class: 'problem' }),
        sensor('devices_polled', 'sensor', { name: 'Devices polled', state_class: 'measurement', icon: 'mdi:access-point-check' }),
        sensor('last_poll', 'sensor', { name: 'Last successful poll', device_class: 'timestamp' }),
        {
          id: HA_ALERT_ID, platform: 'event', stateTopic: this.topics.bridgeAlert(),
          options: { name: 'Alert of an unknown device', unique_id: haUniqueId(nodeId, HA_ALERT_ID), event_types: [...HA_ALERT_EVENT_TYPES], icon: 'mdi:alert-circle-outline' },
        },
      ],
    };
  }

  /**
   * A device's config in the bridge's form. Device-based: the one config (first with removed
   * components reduced to their platform, as Home Assistant documents, then without them).
   * Per entity: each component's config (`only`: just those, when nothing else changed), an
   * empty config for each removed one. Announced in the other form before: Home Assistant's
   * migration (`migrate_discovery` on the old topics, the new configs, then the old topics
   * emptied), which keeps each entity, its id and its history.
   */
  private publishConfig(nodeId: string, config: HaDeviceConfig, before: HaAnnounced | undefined, only: Set<string> | undefined, about: About): HaMessage[] {
    const out: HaMessage[] = [];
    const current = componentMap(config.components);
    const switching = before !== undefined && before.mode !== this.mode;
    const removed = before && !switching ? Object.entries(before.components).filter(([id]) => !(id in current)) : [];
    const deviceTopic = this.topics.deviceConfig(nodeId);
    const entityTopic = (id: string, platform: HaPlatform) => this.topics.config(nodeId, id, platform);
    if (this.mode === 'device') {
      if (switching) for (const [id, p] of Object.entries(before.components)) out.push(this.message(entityTopic(id, p), MIGRATE_ENTITY, 'config', about));
      if (removed.length) out.push(this.message(deviceTopic, haDeviceConfig(config, removed.map(([id, platform]) => ({ id, platform }))), 'config', about));
      out.push(this.message(deviceTopic, haDeviceConfig(config), 'config', about));
      if (switching) for (const [id, p] of Object.entries(before.components)) out.push(this.message(entityTopic(id, p), '', 'config', about));
    } else {
      if (switching) out.push(this.message(deviceTopic, MIGRATE_DEVICE, 'config', about));
      for (const c of config.components) {
        if (!only || switching || only.has(c.id)) out.push(this.message(entityTopic(c.id, c.platform), haEntityConfig(config, c), 'config', about));
      }
      for (const [id, p] of removed) out.push(this.message(entityTopic(id, p), '', 'config', about));
      if (switching) out.push(this.message(deviceTopic, '', 'config', about));
    }
    return out;
  }

  /** Empty retained configs in the form they were announced in. */
  private removeConfigs(nodeId: string, mode: HaDiscoveryMode, components: Record<string, HaPlatform>, about: About): HaMessage[] {
    if (mode === 'device') return [this.message(this.topics.deviceConfig(nodeId), '', 'config', about)];
    return Object.entries(components).map(([id, platform]) => this.message(this.topics.config(nodeId, id, platform), '', 'config', about));
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
    const announced = this.announced.get(rec.physicalId);
    const whole = rec.announcedBlock !== text || announced === undefined || announced.mode !== this.mode;
    if (whole || fresh.length > 0) {
      rec.announcedBlock = text;
      const config = this.deviceConfig(rec, block);
      const only = whole ? undefined : new Set(fresh.map((e) => e.id));
      out.push(...this.publishConfig(rec.nodeId, config, announced, only, { physical_id: rec.physicalId }));
      this.remember(rec, config);
    }
    // The gateway it left has one sensor less.
    if (before && before !== rec.gateway?.id) {
      const old = this.gateways.get(before);
      if (old) out.push(...this.announceGateway(old.gateway));
    }
    return out;
  }

  /** Into the record: the form, the components and each reading's key (and whether it was numeric). */
  private remember(rec: DeviceRecord, config: HaDeviceConfig): void {
    const entry = this.announced.get(rec.physicalId);
    const readings: Record<string, [string, number]> = {};
    for (const e of rec.entities.values()) readings[e.id] = [e.key, e.numeric ? 1 : 0];
    const next = { mode: this.mode, components: componentMap(config.components), readings, ...(entry?.gone !== undefined ? { gone: entry.gone } : {}) };
    if (!entry || JSON.stringify(entry) !== JSON.stringify(next)) {
      this.announced.set(rec.physicalId, next);
      this.recordVersion++;
    }
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
    const area = (this.options.area?.source ?? 'gateway') === 'gateway' ? gateway.name : undefined;
    const config: HaDeviceConfig = {
      device: {
        identifiers: [haGatewayIdentifier(gateway.id)], name: gateway.name ?? `Unnamed gateway ${gateway.id.slice(0, 6)}`, manufacturer: HA_MANUFACTURER, model: 'Gateway',
        ...(area ? { suggested_area: area } : {}),
      },
      origin: this.options.origin, stateTopic: this.topics.gatewayState(g.key), availability: this.bridgeOnly(), qos: this.options.qos,
      components: [{
        id: GATEWAY_OBJECT_ID, platform: 'sensor',
        options: {
          name: 'Sensors', unique_id: haUniqueId(g.nodeId, GATEWAY_OBJECT_ID), value_template: haValueTemplate(GATEWAY_OBJECT_ID),
          state_class: 'measurement', entity_category: 'diagnostic', icon: 'mdi:access-point-network',
        },
      }],
    };
    const text = JSON.stringify(config);
    const mode = this.announcedGateways.get(gateway.id);
    if (g.announcedConfig !== text || mode !== this.mode) {
      g.announcedConfig = text;
      const before = mode === undefined ? undefined : { mode, components: componentMap(config.components) };
      out.push(...this.publishConfig(g.nodeId, config, before, undefined, { gateway_id: gateway.id }));
      if (mode !== this.mode) {
        this.announcedGateways.set(gateway.id, this.mode);
        this.recordVersion++;
      }
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
    if (rec.availability === HA_ONLINE) this.onlineCount--;
    this.devices.delete(rec.physicalId);
  }

  private goOffline(rec: DeviceRecord): HaMessage[] {
    if (rec.entities.size === 0 || rec.availability === HA_OFFLINE) return [];
    if (rec.availability === HA_ONLINE) this.onlineCount--;
    rec.availability = HA_OFFLINE;
    this.offlineCount++;
    return [this.availabilityMessage(rec)];
  }

  private availabilityMessage(rec: DeviceRecord): HaMessage {
    return this.message(this.topics.deviceAvailability(rec.key), rec.availability ?? HA_OFFLINE, 'availability', { physical_id: rec.physicalId });
  }

  private message(topic: string, payload: string, kind: HaMessage['kind'], about: About = {}, retain = true): HaMessage {
    return { topic, payload, retain, qos: this.options.qos, kind, ...about };
  }
}

function componentMap(components: readonly HaComponent[]): Record<string, HaPlatform> {
  return Object.fromEntries(components.map((c) => [c.id, c.platform]));
}
