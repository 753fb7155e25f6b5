/**
 * The sensors as Home Assistant devices: each announced behind its gateway (the gateway
 * first, as Home Assistant links via_device only to a device it knows), again as a whole when
 * its device block changes, with only its new entities when a reading key shows up (or the air
 * quality's or the problem's, when those inputs first speak of it); its state and availability
 * published; its configs, state and availability removed.
 */
import { haEverySensorComponent, HaConfigContext, haSensorBlock, haSensorConfig, haSensorState } from './device-configs';
import { haHasComponents, HaDeviceTable, HaKnownDevice } from './device-table';
import { HaGatewayDevices } from './gateway-devices';
import { HA_AIR_QUALITY_ID, HA_DEMAND_ID, haDeviceKey, haNodeId, HA_PROBLEM_ID } from './ids';
import { HaAirQualityInput, HaHealthInput, HaReadingInput } from './input';
import { haComponentMap, HaMessage, HA_OFFLINE, HA_ONLINE, HaPublisher } from './publisher';
import { HaAnnouncedRecord, haRecordedComponents } from './record';
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

  /** The device's memory; a device in the record gets back the components it had. */
  device(physicalId: string): HaKnownDevice {
    return this.table.device(physicalId, () => haRecordedComponents(this.record.device(physicalId)));
  }

  /** The gateway first, then the configs due (`fresh`: ids of components new or changed since the last announcement). */
  announce(d: HaKnownDevice, fresh: readonly string[] = []): HaMessage[] {
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
      const only = whole ? undefined : new Set(fresh);
      out.push(...this.publisher.config(d.nodeId, config, before, only, { physical_id: d.physicalId }));
      // Into the record: the form, the components and each reading's key (and whether it was numeric).
      const readings: Record<string, [string, number]> = {};
      for (const e of d.entities.values()) readings[e.id] = [e.key, e.numeric ? 1 : 0];
      this.record.announcedDevice(d.physicalId, {
        mode: this.publisher.mode, components: haComponentMap(config.components), readings, ...(d.airQuality ? { airQuality: [...d.airQuality.options] } : {}),
      });
    }
    // The gateway it left has one sensor less.
    if (left && left !== d.gateway?.id) out.push(...this.gateways.reannounce(left));
    return out;
  }

  /** A reading: its new keys announced, the device online, its state published. */
  reading(d: HaKnownDevice, reading: HaReadingInput, now: number): HaMessage[] {
    const fresh: string[] = [];
    for (const [key, value] of reading.values) {
      if (d.entities.has(key)) continue;
      const entity = this.table.addEntity(d, key, value);
      if (entity) fresh.push(entity.id);
    }
    d.lastValues = new Map(reading.values);
    d.lastTime = reading.time ?? now;
    return this.reported(d, fresh, now);
  }

  /** What the air-quality node says of the device (it judged a reading: the device reported). */
  airQuality(d: HaKnownDevice, input: HaAirQualityInput, now: number): HaMessage[] {
    const { options, category, id, level, profile, demand } = input;
    const changed = this.table.setAirQuality(d, { options, category, id, level, profile, demand: demand ?? null });
    return this.reported(d, changed ? [HA_AIR_QUALITY_ID, HA_DEMAND_ID] : [], now);
  }

  /** A health event: the problem sensor on (silent, battery low) or off; the device's availability stays as it is. */
  health(d: HaKnownDevice, input: HaHealthInput): HaMessage[] {
    const change = input.event === 'silent' || input.event === 'recovered' ? { silent: input.event === 'silent' } : { batteryLow: input.event === 'battery_low' };
    const out = this.announce(d, this.table.setProblem(d, change) ? [HA_PROBLEM_ID] : []);
    d.lastState = haSensorState(d);
    out.push(this.stateMessage(d));
    return out;
  }

  /** The device reported: `fresh` components announced, the device online, its state published. */
  private reported(d: HaKnownDevice, fresh: readonly string[], now: number): HaMessage[] {
    d.lastSeen = now;
    this.record.present(d.physicalId);
    if (!haHasComponents(d)) return [];
    const out = this.announce(d, fresh);
    if (this.table.setAvailability(d, HA_ONLINE)) out.push(this.availabilityMessage(d));
    d.lastState = haSensorState(d);
    out.push(this.stateMessage(d));
    this.lastStateAt = now;
    return out;
  }

  /** An announced device goes offline (its poll failed, its data is stale). */
  offline(d: HaKnownDevice): HaMessage[] {
    if (!haHasComponents(d) || !this.table.setAvailability(d, HA_OFFLINE)) return [];
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
