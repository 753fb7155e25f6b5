/**
 * The MQTT messages of discovery: a device's config published in the bridge's form (with
 * Home Assistant's migration when it was announced in the other form, and its component
 * removal when components went away), and a device's configs removed in the form they were
 * announced in. Decides nothing about when: the bridge calls it.
 */
import { haDeviceConfig, HaComponent, HaDeviceConfig, haEntityConfig, HA_MIGRATE_DEVICE_PAYLOAD, HA_MIGRATE_PAYLOAD } from './discovery';
import { HaPlatform, HaTopics } from './ids';
import { HaAnnounced, HaDiscoveryMode } from './record';

export type HaQos = 0 | 1 | 2;

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

/** Which device a message is about, for routing after the node. */
export type HaAbout = Pick<HaMessage, 'physical_id' | 'gateway_id'>;

export const HA_ONLINE = 'online';
export const HA_OFFLINE = 'offline';
export type HaAvailability = typeof HA_ONLINE | typeof HA_OFFLINE;

/** Component id → platform: what the record keeps of a config, and all a removal needs. */
export function haComponentMap(components: readonly HaComponent[]): Record<string, HaPlatform> {
  return Object.fromEntries(components.map((c) => [c.id, c.platform]));
}

export class HaPublisher {
  constructor(readonly topics: HaTopics, readonly mode: HaDiscoveryMode, private readonly qos: HaQos) {}

  message(topic: string, payload: string, kind: HaMessage['kind'], about: HaAbout = {}, retain = true): HaMessage {
    return { topic, payload, retain, qos: this.qos, kind, ...about };
  }

  /**
   * A device's config in the bridge's form. Device-based: the one config (first with removed
   * components reduced to their platform, as Home Assistant documents, then without them).
   * Per entity: each component's config (`only`: just those, when nothing else changed), an
   * empty config for each removed one. Announced in the other form before: Home Assistant's
   * migration (`migrate_discovery` on the old topics, the new configs, then the old topics
   * emptied), which keeps each entity, its id and its history.
   */
  config(nodeId: string, config: HaDeviceConfig, before: HaAnnounced | undefined, only: ReadonlySet<string> | undefined, about: HaAbout): HaMessage[] {
    const out: HaMessage[] = [];
    const current = haComponentMap(config.components);
    const switching = before !== undefined && before.mode !== this.mode;
    const removed = before && !switching ? Object.entries(before.components).filter(([id]) => !(id in current)) : [];
    const deviceTopic = this.topics.deviceConfig(nodeId);
    const entityTopic = (id: string, platform: HaPlatform) => this.topics.config(nodeId, id, platform);
    const send = (topic: string, payload: string) => out.push(this.message(topic, payload, 'config', about));
    if (this.mode === 'device') {
      if (switching) for (const [id, p] of Object.entries(before.components)) send(entityTopic(id, p), HA_MIGRATE_PAYLOAD);
      if (removed.length) send(deviceTopic, haDeviceConfig(config, removed.map(([id, platform]) => ({ id, platform }))));
      send(deviceTopic, haDeviceConfig(config));
      if (switching) for (const [id, p] of Object.entries(before.components)) send(entityTopic(id, p), '');
    } else {
      if (switching) send(deviceTopic, HA_MIGRATE_DEVICE_PAYLOAD);
      for (const c of config.components) {
        if (!only || switching || only.has(c.id)) send(entityTopic(c.id, c.platform), haEntityConfig(config, c));
      }
      for (const [id, p] of removed) send(entityTopic(id, p), '');
      if (switching) send(deviceTopic, '');
    }
    return out;
  }

  /** A whole device's config, recorded as announced in `recorded` (undefined: never): migrated when that is the other form. */
  whole(nodeId: string, config: HaDeviceConfig, recorded: HaDiscoveryMode | undefined, about: HaAbout): HaMessage[] {
    const before = recorded === undefined ? undefined : { mode: recorded, components: haComponentMap(config.components) };
    return this.config(nodeId, config, before, undefined, about);
  }

  /** Empty retained configs in the form they were announced in. */
  removal(nodeId: string, mode: HaDiscoveryMode, components: Record<string, HaPlatform>, about: HaAbout): HaMessage[] {
    if (mode === 'device') return [this.message(this.topics.deviceConfig(nodeId), '', 'config', about)];
    return Object.entries(components).map(([id, platform]) => this.message(this.topics.config(nodeId, id, platform), '', 'config', about));
  }
}
