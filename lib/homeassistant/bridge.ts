/**
 * The Home Assistant bridge, without Node-RED: which MQTT messages a reading, a device list,
 * an alert, a failed poll, stale data, a birth message, the account's health or a removal
 * call for. It decides when; the rooms beside it know the rest: the sensors in memory and
 * their counts (device-table.ts), what each device is made of (device-configs.ts), discovery
 * messages in either form with migration and removal (publisher.ts), the sensors, gateways
 * and the bridge itself as devices (sensor-devices.ts, gateway-devices.ts, bridge-device.ts:
 * with the account's health) and what was announced (record.ts).
 *
 * Each sensor is a device with one entity per reading key, a diagnostic `last seen` sensor
 * and an `alert` event entity (and, when those inputs speak of it, the air-quality node's
 * category and ventilation demand, and a `problem` binary sensor from the device's health); each gateway a device with a `sensors` count; the bridge a
 * device of its own with the account's health and an event entity for alerts of devices it
 * does not know. Discovery is device-based (one retained `<prefix>/device/<node id>/config`
 * per device, Home Assistant 2024.11+) or per entity (one retained config per entity), as set;
 * a device announced in the other form is migrated the way Home Assistant documents.
 *
 * A device is announced once, again when a reading key shows up (device-based: its config with
 * the new component; per entity: only that entity) and as a whole when its device block changes
 * (name, model, gateway, firmware, area). Every reading publishes the device's state;
 * availability only when it changes. What was announced is kept as a record the node stores in
 * its context, so removal, clean-up and migration also work for devices not seen since a
 * restart. Memory is bounded: at most `maxDevices` devices and `maxKeysPerDevice` reading
 * entities each.
 */
import { HaAlertInput } from './alerts';
import { HaBridgeDevice } from './bridge-device';
import { HaAreaSource, HaConfigContext } from './device-configs';
import { haHasComponents, HaDeviceTable, HaKnownDevice } from './device-table';
import { HaOrigin } from './discovery';
import { HaGatewayDevices } from './gateway-devices';
import { haDeviceKey, HaTopics } from './ids';
import { HaCommand, HaDeviceInput, HaReadingInput } from './input';
import { HaMessage, HA_OFFLINE, HA_ONLINE, HaPublisher, HaQos } from './publisher';
import { HA_EXPECTED_READINGS } from './readings';
import { HaAnnouncedRecord, HaDiscoveryMode, HaRecord } from './record';
import { HaSensorDevices } from './sensor-devices';
import { HaGatewayIndex } from './topology';

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

export const HA_DEFAULT_MAX_DEVICES = 10_000;
export const HA_DEFAULT_MAX_KEYS_PER_DEVICE = 64;

export interface HaBridgeStats {
  devices: number;
  entities: number;
  offline: number;
  gateways: number;
  lastStateAt?: number;
  /** Reading keys left out because a device reached maxKeysPerDevice. */
  skippedKeys: number;
}

/** What a device-list entry says about a device: kept for names, models, gateways and the area. */
function takeInfo(d: HaKnownDevice, input: HaDeviceInput): void {
  if (input.name !== undefined) d.name = input.name;
  if (input.type !== undefined) d.type = input.type;
  if (input.serial !== undefined) d.serial = input.serial;
  if (input.topologyId !== undefined) d.topologyId = input.topologyId;
  if (input.gatewayId !== undefined) d.gatewayId = input.gatewayId;
  if (input.meta !== undefined) d.meta = { ...d.meta, ...input.meta };
}

export class HomeAssistantBridge {
  readonly topics: HaTopics;
  readonly mode: HaDiscoveryMode;
  private readonly publisher: HaPublisher;
  private readonly devices: HaDeviceTable;
  /** What was announced (the record kept in the node's context). */
  private readonly announced: HaAnnouncedRecord;
  private readonly gateways: HaGatewayDevices;
  private readonly sensors: HaSensorDevices;
  private readonly bridgeDevice: HaBridgeDevice;

  constructor(private readonly options: HaBridgeOptions) {
    this.topics = new HaTopics(options.discoveryPrefix, options.baseTopic);
    this.mode = options.mode ?? 'device';
    const maxDevices = options.maxDevices ?? HA_DEFAULT_MAX_DEVICES;
    const ctx: HaConfigContext = { topics: this.topics, origin: options.origin, qos: options.qos, area: options.area ?? { source: 'gateway' }, expireAfterS: options.expireAfterS };
    this.publisher = new HaPublisher(this.topics, this.mode, options.qos);
    this.devices = new HaDeviceTable(maxDevices, options.maxKeysPerDevice ?? HA_DEFAULT_MAX_KEYS_PER_DEVICE);
    this.announced = new HaAnnouncedRecord(maxDevices);
    this.gateways = new HaGatewayDevices(ctx, this.publisher, this.announced);
    this.sensors = new HaSensorDevices(this.devices, ctx, this.publisher, this.announced, this.gateways);
    this.bridgeDevice = new HaBridgeDevice(ctx, this.publisher, this.announced);
  }

  private get health() {
    return this.bridgeDevice.health;
  }

  // ---- the record ---------------------------------------------------------------------------

  /** Takes in a stored record (before any msg): what an earlier run announced. */
  restore(value: unknown): void {
    this.announced.restore(value);
  }

  /** What was announced, to store; `version` changes whenever it does. */
  record(): HaRecord {
    return this.announced.toRecord();
  }

  get version(): number {
    return this.announced.version;
  }

  // ---- inputs -------------------------------------------------------------------------------

  /**
   * Device-list entries and readings of one msg. Devices are remembered for names, models and
   * gateways; one with no entities yet gets its model's expected readings. Readings announce
   * what is new, mark their device online and publish its state. Everything about a device is
   * taken in before it is announced, so one msg announces each entity at most once.
   * `reporting`: devices the caller announces next (with what else the msg says of them).
   */
  addData(devices: readonly HaDeviceInput[], readings: readonly HaReadingInput[], now: number, reporting: readonly string[] = []): HaMessage[] {
    this.devices.reserve([...devices.map((d) => d.physicalId), ...readings.map((r) => r.physicalId), ...reporting]);
    for (const input of devices) takeInfo(this.sensors.device(input.physicalId), input);
    for (const reading of readings) {
      const d = this.sensors.device(reading.physicalId);
      if (reading.firmware) d.firmware = reading.firmware;
      if (reading.meta) d.meta = { ...reading.meta, ...d.meta };
    }
    for (const input of devices) {
      const d = this.sensors.device(input.physicalId);
      if (d.entities.size === 0 && d.type) {
        for (const key of HA_EXPECTED_READINGS[d.type.toLowerCase()] ?? []) this.devices.addEntity(d, key, null);
        // Not heard from yet: offline if no reading comes within the stale period.
        d.lastSeen ??= now;
      }
    }
    const out: HaMessage[] = [];
    // Devices announced by what they report (a reading here, the caller's `reporting`) are announced once, then.
    const withReadings = new Set([...readings.map((r) => r.physicalId), ...reporting]);
    for (const input of devices) {
      const d = this.sensors.device(input.physicalId);
      if (!withReadings.has(d.physicalId) && haHasComponents(d)) out.push(...this.sensors.announce(d));
    }
    for (const reading of readings) {
      this.health.reading(now);
      out.push(...this.sensors.reading(this.sensors.device(reading.physicalId), reading, now));
    }
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
      case 'airQuality': {
        const messages = this.addData(command.devices, [], now, command.items.map((i) => i.physicalId));
        for (const item of command.items) messages.push(...this.sensors.airQuality(this.sensors.device(item.physicalId), item, now));
        return { messages, reannounce: false };
      }
      case 'health': {
        this.devices.reserve(command.items.map((i) => i.physicalId));
        return { messages: command.items.flatMap((item) => this.sensors.health(this.sensors.device(item.physicalId), item)), reannounce: false };
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
      const d = this.devices.get(id);
      if (d) out.push(...this.sensors.offline(d));
    }
    return out;
  }

  /** Devices with no reading for `maxAgeMs` go offline. */
  markStale(now: number, maxAgeMs: number): HaMessage[] {
    const out: HaMessage[] = [];
    for (const d of this.devices.values()) {
      if (d.lastSeen !== undefined && now - d.lastSeen > maxAgeMs) out.push(...this.sensors.offline(d));
    }
    return out;
  }

  /** New topologies: devices whose gateway changed are announced again. */
  setGatewayIndex(index: HaGatewayIndex): HaMessage[] {
    this.sensors.index = index;
    const out: HaMessage[] = [];
    for (const d of this.devices.values()) {
      if (d.announcedBlock !== undefined) out.push(...this.sensors.announce(d));
    }
    return out;
  }

  /**
   * An alert as one event (not retained) of its device's `alert` entity, or of the bridge's
   * when the bridge has not announced that device.
   */
  alert(alert: HaAlertInput): HaMessage {
    const id = alert.physicalId;
    const device = id !== undefined ? this.devices.get(id) : undefined;
    const known = id !== undefined && ((device !== undefined && haHasComponents(device)) || this.announced.device(id) !== undefined);
    const topic = known ? this.topics.deviceAlert(this.devices.get(id!)?.key ?? haDeviceKey(id!)) : this.topics.bridgeAlert();
    const payload = JSON.stringify({ ...alert.attributes, event_type: alert.eventType });
    return this.publisher.message(topic, payload, 'event', id !== undefined ? { physical_id: id } : {}, false);
  }

  // ---- the account's device list: clean-up ----------------------------------------------------

  /**
   * The account's device list, read successfully: every announced device not in it is missing
   * from now on (unless it already was), every one in it is not. Returns what is due for removal.
   */
  setDeviceList(ids: Iterable<string>, now: number): HaMessage[] {
    this.announced.listed(new Set(ids), now);
    return this.cleanup(now);
  }

  /** Devices missing from the device list for the whole grace period: removed. */
  cleanup(now: number): HaMessage[] {
    const after = this.options.removeAfterMs ?? 0;
    if (after <= 0) return [];
    const due = this.missing().filter((m) => now - m.since >= after).map((m) => m.physicalId);
    return due.length ? this.remove(due) : [];
  }

  /** Physical ids missing from the device list, and since when. */
  missing(): Array<{ physicalId: string; since: number }> {
    return this.announced.missing();
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

  /** The bridge's health state, once its device is announced and when due: `all` for the periodic look (HaHealth.due). */
  healthMessages(now: number, all = true): HaMessage[] {
    return this.bridgeDevice.healthMessages(now, this.devices.counts.online, all);
  }

  // ---- announcing -----------------------------------------------------------------------------

  /**
   * The bridge's own device (its health entities and the event entity for alerts of unknown
   * devices) and its state. At start and with every announcement of everything.
   */
  announceBridge(now: number): HaMessage[] {
    return this.bridgeDevice.announce(now, this.devices.counts.online);
  }

  /**
   * Everything again (Home Assistant's birth message, a broker reconnect): the bridge's
   * availability, device and health, every gateway and device config, each device's
   * availability and last state.
   */
  announceAll(now = Date.now()): HaMessage[] {
    const out: HaMessage[] = [this.bridgeAvailability(true), ...this.bridgeDevice.announce(now, this.devices.counts.online, true)];
    this.gateways.republish();
    for (const d of this.devices.values()) if (haHasComponents(d)) out.push(...this.sensors.republish(d));
    return out;
  }

  /**
   * Removal the way Home Assistant documents it for the form each was announced in: an empty
   * retained device config (device-based) or an empty retained config per entity; the retained
   * state and availability cleared; forgotten. A gateway with no sensor left behind it goes
   * too. Without ids: every device and gateway the bridge announced, and its own device
   * (announced again with the next announcement of everything).
   */
  remove(ids?: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids ?? [...new Set([...this.devices.ids(), ...this.announced.deviceIds()])]) out.push(...this.sensors.remove(id));
    out.push(...this.gateways.removeEmpty());
    // Everything: the bridge's own device, and gateways announced before a restart and not seen since.
    if (!ids) out.push(...this.bridgeDevice.remove(), ...this.gateways.removeRecorded());
    return out;
  }

  /** Some reading entities of known devices removed (msg.key): a component removal in either form. */
  removeReadings(ids: readonly string[], keys: readonly string[]): HaMessage[] {
    const out: HaMessage[] = [];
    for (const id of ids) {
      const d = this.devices.get(id);
      if (!d || this.devices.removeEntities(d, keys) === 0) continue;
      out.push(...this.sensors.announceWhole(d));
    }
    return out;
  }

  bridgeAvailability(online: boolean): HaMessage {
    return this.publisher.message(this.topics.bridgeAvailability(), online ? HA_ONLINE : HA_OFFLINE, 'availability');
  }

  /** Devices and entities announced (gateways included in entities), devices offline. */
  stats(): HaBridgeStats {
    const counts = this.devices.counts;
    const gateways = this.gateways.size;
    return {
      devices: counts.devices, entities: counts.entities + gateways, offline: counts.offline, gateways,
      lastStateAt: this.sensors.lastStateAt, skippedKeys: counts.skippedKeys,
    };
  }
}
