/**
 * The sensors as Home Assistant devices: each announced behind its gateway (the gateway
 * first, as Home Assistant links via_device only to a device it knows), again as a whole when
 * its device block changes, with only its new entities when a reading key shows up; its state
 * and availability published; its configs, state and availability removed.
 */
import { haEverySensorComponent, HaConfigContext, haSensorBlock, haSensorConfig, haSensorState } from './device-configs';
import { HaDeviceTable, HaKnownDevice, HaReadingEntity } from './device-table';
import { HaGatewayDevices } from './gateway-devices';
import { haDeviceKey, haNodeId } from './ids';
import { HaReadingInput } from './input';
import { haComponentMap, HaMessage, HA_OFFLINE, HA_ONLINE, HaPublisher } from './publisher';
import { HaAnnouncedRecord } from './record';
import { HaGatewayIndex } from './topology';

export class HaSensorDevices {
  /** Where each sensor's gateway is looked up (the account's topologies). */
  index = new HaGatewayIndex();
  /** When a reading last published a state. */
  lastStateAt?: number;

  constructor(
    readonly table: HaDeviceTable,
    private readonly ctx: HaConfigContext,
    private readonly publisher: HaPublisher,
    private readonly record: HaAnnouncedRecord,
    private readonly gateways: HaGatewayDevices,
  ) {}

  /** The device's memory; a device in the record gets back the reading entities it had. */
  device(physicalId: string): HaKnownDevice {
    return this.table.device(physicalId, () => Object.values(this.record.device(physicalId)?.readings ?? {}));
  }

  /** The gateway first, then the configs due (`fresh`: reading entities new since the last announcement). */
  announce(d: HaKnownDevice, fresh: readonly HaReadingEntity[] = []): HaMessage[] {
    const left = d.gateway?.id;
    d.gateway = this.index.resolve(d.physicalId, d.topologyId) ?? (d.gatewayId ? { id: d.gatewayId } : undefined);
    this.gateways.move(d.physicalId, left, d.gateway?.id);
    const out = d.gateway ? this.gateways.announce(d.gateway) : [];
    const block = haSensorBlock(d, this.ctx);
    const text = JSON.stringify(block);
    const before = this.record.device(d.physicalId);
    const whole = d.announcedBlock !== text || before === undefined || before.mode !== this.publisher.mode;
    if (whole || fresh.length > 0) {
      d.announcedBlock = text;
      const config = haSensorConfig(d, this.ctx, block);
      const only = whole ? undefined : new Set(fresh.map((e) => e.id));
      out.push(...this.publisher.config(d.nodeId, config, before, only, { physical_id: d.physicalId }));
      // Into the record: the form, the components and each reading's key (and whether it was numeric).
      const readings: Record<string, [string, number]> = {};
      for (const e of d.entities.values()) readings[e.id] = [e.key, e.numeric ? 1 : 0];
      this.record.announcedDevice(d.physicalId, { mode: this.publisher.mode, components: haComponentMap(config.components), readings });
    }
    // The gateway it left has one sensor less.
    if (left && left !== d.gateway?.id) out.push(...this.gateways.reannounce(left));
    return out;
  }

  /** A reading: its new keys announced, the device online, its state published. */
  reading(d: HaKnownDevice, reading: HaReadingInput, now: number): HaMessage[] {
    const fresh: HaReadingEntity[] = [];
    for (const [key, value] of reading.values) {
      if (d.entities.has(key)) continue;
      const entity = this.table.addEntity(d, key, value);
      if (entity) fresh.push(entity);
    }
    d.lastSeen = now;
    this.record.present(d.physicalId);
    if (d.entities.size === 0) return [];
    const out = this.announce(d, fresh);
    if (this.table.setAvailability(d, HA_ONLINE)) out.push(this.availabilityMessage(d));
    d.lastState = haSensorState(d, new Map(reading.values), reading.time ?? now);
    out.push(this.stateMessage(d));
    this.lastStateAt = now;
    return out;
  }

  /** An announced device goes offline (its poll failed, its data is stale). */
  offline(d: HaKnownDevice): HaMessage[] {
    if (d.entities.size === 0 || !this.table.setAvailability(d, HA_OFFLINE)) return [];
    return [this.availabilityMessage(d)];
  }

  /** Its whole config again, whatever changed (its components did: removed ones are sent as removed). */
  announceWhole(d: HaKnownDevice): HaMessage[] {
    d.announcedBlock = undefined;
    return this.announce(d);
  }

  /** Everything about an announced device again (Home Assistant restarted): its configs, availability and last state. */
  republish(d: HaKnownDevice): HaMessage[] {
    const out = this.announceWhole(d);
    if (d.availability) out.push(this.availabilityMessage(d));
    if (d.lastState !== undefined) out.push(this.stateMessage(d));
    return out;
  }

  /**
   * A device known or recorded: its configs in the form they were announced in, its retained
   * state and availability cleared, forgotten. One neither remembered nor recorded gets every
   * component a sensor could have cleared, in both forms.
   */
  remove(id: string): HaMessage[] {
    const d = this.table.get(id);
    const key = d?.key ?? haDeviceKey(id);
    const nodeId = haNodeId(key);
    const entry = this.record.device(id);
    const about = { physical_id: id };
    const out: HaMessage[] = [];
    if (entry) out.push(...this.publisher.removal(nodeId, entry.mode, entry.components, about));
    else if (!d) {
      out.push(...this.publisher.removal(nodeId, 'entity', haEverySensorComponent(this.ctx), about));
      out.push(this.publisher.message(this.ctx.topics.deviceConfig(nodeId), '', 'config', about));
    }
    out.push(this.publisher.message(this.ctx.topics.deviceState(key), '', 'state', about));
    out.push(this.publisher.message(this.ctx.topics.deviceAvailability(key), '', 'availability', about));
    if (d) {
      this.gateways.move(id, d.gateway?.id, undefined);
      this.table.forget(d);
    }
    this.record.deleteDevice(id);
    return out;
  }

  private availabilityMessage(d: HaKnownDevice): HaMessage {
    return this.publisher.message(this.ctx.topics.deviceAvailability(d.key), d.availability ?? HA_OFFLINE, 'availability', { physical_id: d.physicalId });
  }

  private stateMessage(d: HaKnownDevice): HaMessage {
    return this.publisher.message(this.ctx.topics.deviceState(d.key), d.lastState ?? '', 'state', { physical_id: d.physicalId });
  }
}
