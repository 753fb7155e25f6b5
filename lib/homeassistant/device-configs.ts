/**
 * What each device the bridge announces is made of: its device block, its components and
 * their shared options, for the three kinds of device: a sensor (one entity per reading, a
 * diagnostic `last seen` and an `alert` event entity), a gateway (how many sensors report
 * through it) and the bridge itself (the account's health, and an event entity for alerts of
 * devices it does not know). Plain data in full option names; lib/homeassistant/discovery.ts
 * writes it in either discovery form.
 */
import { HA_ALERT_EVENT_TYPES } from './alerts';
import { HaComponent, HaDeviceBlock, HaDeviceConfig, HaEntityOptions, HA_MANUFACTURER, HaOrigin, haValueTemplate } from './discovery';
import { HaKnownDevice, HaReadingEntity } from './device-table';
import {
  HA_ALERT_ID, HA_LAST_SEEN_ID, haBridgeIdentifier, haDeviceIdentifier, haGatewayIdentifier, HaPlatform, haReadingId, HaTopics, haUniqueId,
} from './ids';
import { haIsoTime } from './health';
import { haComponentMap, HaQos } from './publisher';
import { HA_KNOWN_READINGS, haModelName, HaReadingValue } from './readings';
import { HaGateway } from './topology';

export type HaAreaSource = 'gateway' | 'device' | 'meta' | 'none';

/** What every config shares: where the bridge publishes, its origin and QoS, and the settings that shape entities. */
export interface HaConfigContext {
  topics: HaTopics;
  origin: HaOrigin;
  qos: HaQos;
  /** Where suggested_area comes from. */
  area: { source: HaAreaSource; field?: string };
  /** Seconds without a reading after which Home Assistant shows a reading's entity unavailable. */
  expireAfterS?: number;
}

type Options = Omit<HaEntityOptions, 'unique_id' | 'value_template'>;

/** A component whose value is `<id>` in its device's JSON state. */
function component(nodeId: string, id: string, platform: HaPlatform, options: Options, extra: Partial<HaComponent> = {}): HaComponent {
  return { id, platform, ...extra, options: { ...options, unique_id: haUniqueId(nodeId, id), value_template: haValueTemplate(id) } };
}

/** Available while the bridge is: for entities that stay live when their device is offline. */
const bridgeOnly = (ctx: HaConfigContext) => [{ topic: ctx.topics.bridgeAvailability() }];

const ALERT_OPTIONS = { event_types: [...HA_ALERT_EVENT_TYPES], icon: 'mdi:alert-circle-outline' };

/** An event entity (no value template: Home Assistant reads the event itself). */
function alertComponent(nodeId: string, name: string, stateTopic: string, extra: Partial<HaComponent> = {}): HaComponent {
  return { id: HA_ALERT_ID, platform: 'event', stateTopic, ...extra, options: { name, unique_id: haUniqueId(nodeId, HA_ALERT_ID), ...ALERT_OPTIONS } };
}

// ---- a sensor ---------------------------------------------------------------------------------

function sensorArea(d: HaKnownDevice, ctx: HaConfigContext): string | undefined {
  switch (ctx.area.source) {
    case 'gateway': return d.gateway?.name;
    case 'device': return d.name;
    case 'meta': return ctx.area.field ? d.meta?.[ctx.area.field] : undefined;
    default: return undefined;
  }
}

/** The device block: what Home Assistant shows of the sensor itself (a change announces every entity again). */
export function haSensorBlock(d: HaKnownDevice, ctx: HaConfigContext): HaDeviceBlock {
  const block: HaDeviceBlock = { identifiers: [haDeviceIdentifier(d.physicalId)], name: d.name ?? d.physicalId, manufacturer: HA_MANUFACTURER };
  const model = haModelName(d.type);
  if (model) block.model = model;
  if (d.serial) block.serial_number = d.serial;
  if (d.firmware) block.sw_version = d.firmware;
  const area = sensorArea(d, ctx);
  if (area) block.suggested_area = area;
  if (d.gateway) block.via_device = haGatewayIdentifier(d.gateway.id);
  return block;
}

function readingComponent(nodeId: string, e: HaReadingEntity, ctx: HaConfigContext): HaComponent {
  return component(nodeId, e.id, 'sensor', { ...e.spec, ...(ctx.expireAfterS ? { expire_after: ctx.expireAfterS } : {}) });
}

/** The sensor's own entities beside its readings, live while the device is offline. */
function sensorOwnComponents(nodeId: string, deviceKey: string, ctx: HaConfigContext): HaComponent[] {
  return [
    component(nodeId, HA_LAST_SEEN_ID, 'sensor', { name: 'Last seen', device_class: 'timestamp', entity_category: 'diagnostic' }, { availability: bridgeOnly(ctx) }),
    alertComponent(nodeId, 'Alert', ctx.topics.deviceAlert(deviceKey), { availability: bridgeOnly(ctx) }),
  ];
}

/**
 * A sensor's components, assembled here and nowhere else: one per reading, then its own
 * (`last seen`, `alert`). A component from another input (a class of the air quality, the
 * device's health) goes in this list, its value into haSensorState under the component's id,
 * and, unless it is one of sensorOwnComponents, its id and platform into
 * haEverySensorComponent. The record keeps whatever this list announced, so removal and
 * migration need nothing more.
 */
export function haSensorComponents(d: HaKnownDevice, ctx: HaConfigContext): HaComponent[] {
  return [...[...d.entities.values()].map((e) => readingComponent(d.nodeId, e, ctx)), ...sensorOwnComponents(d.nodeId, d.key, ctx)];
}

/**
 * The sensor's JSON state: every announced reading (null, Home Assistant's unknown, when this
 * reading lacks it) and `last seen`.
 */
export function haSensorState(d: HaKnownDevice, values: ReadonlyMap<string, HaReadingValue>, time: number): string {
  const state: Record<string, unknown> = {};
  for (const e of d.entities.values()) state[e.id] = values.get(e.key) ?? null;
  state[HA_LAST_SEEN_ID] = haIsoTime(time);
  return JSON.stringify(state);
}

export function haSensorConfig(d: HaKnownDevice, ctx: HaConfigContext, device = haSensorBlock(d, ctx)): HaDeviceConfig {
  return {
    device, origin: ctx.origin, stateTopic: ctx.topics.deviceState(d.key),
    // Unavailable when the bridge is gone (its last will) or the device is (failed or stale).
    availability: [{ topic: ctx.topics.bridgeAvailability() }, { topic: ctx.topics.deviceAvailability(d.key) }],
    availabilityMode: 'all', qos: ctx.qos, components: haSensorComponents(d, ctx),
  };
}

/** Every component a Leapcraft sensor could have: what to clear for a device the bridge knows nothing about. */
export function haEverySensorComponent(ctx: HaConfigContext): Record<string, HaPlatform> {
  const all: Record<string, HaPlatform> = {};
  for (const key of Object.keys(HA_KNOWN_READINGS)) all[haReadingId(key)] = 'sensor';
  return { ...all, ...haComponentMap(sensorOwnComponents('', '', ctx)) };
}

// ---- a gateway --------------------------------------------------------------------------------

const GATEWAY_OBJECT_ID = 'sensors';

/** A gateway's one entity: how many sensors report through it. */
export function haGatewayComponents(nodeId: string): HaComponent[] {
  return [component(nodeId, GATEWAY_OBJECT_ID, 'sensor', { name: 'Sensors', state_class: 'measurement', entity_category: 'diagnostic', icon: 'mdi:access-point-network' })];
}

export function haGatewayConfig(gateway: HaGateway, key: string, nodeId: string, ctx: HaConfigContext): HaDeviceConfig {
  const area = ctx.area.source === 'gateway' ? gateway.name : undefined;
  return {
    device: {
      identifiers: [haGatewayIdentifier(gateway.id)], name: gateway.name ?? `Unnamed gateway ${gateway.id.slice(0, 6)}`, manufacturer: HA_MANUFACTURER, model: 'Gateway',
      ...(area ? { suggested_area: area } : {}),
    },
    origin: ctx.origin, stateTopic: ctx.topics.gatewayState(key), availability: bridgeOnly(ctx), qos: ctx.qos, components: haGatewayComponents(nodeId),
  };
}

export function haGatewayState(sensors: number): string {
  return JSON.stringify({ [GATEWAY_OBJECT_ID]: sensors });
}

// ---- the bridge -------------------------------------------------------------------------------

/** The bridge's own device: its health entities (diagnostic) and the event entity for alerts of unknown devices. */
export function haBridgeConfig(nodeId: string, ctx: HaConfigContext): HaDeviceConfig {
  const base = ctx.topics.baseTopic;
  const health = (id: string, platform: HaPlatform, options: Options) => component(nodeId, id, platform, { ...options, entity_category: 'diagnostic' });
  return {
    device: {
      identifiers: [haBridgeIdentifier(base)], name: base === 'leapcraft' ? 'Leapcraft bridge' : `Leapcraft bridge (${base})`,
      manufacturer: HA_MANUFACTURER, model: 'Node-RED bridge', ...(ctx.origin.sw_version ? { sw_version: ctx.origin.sw_version } : {}),
    },
    origin: ctx.origin, stateTopic: ctx.topics.bridgeState(), availability: bridgeOnly(ctx), qos: ctx.qos,
    components: [
      health('api', 'binary_sensor', {
        name: 'API reachable', device_class: 'connectivity',
        json_attributes_topic: ctx.topics.bridgeState(), json_attributes_template: '{{ value_json.api_problem | tojson }}',
      }),
      health('rate_limited', 'binary_sensor', { name: 'Rate limited', device_class: 'problem' }),
      health('devices_polled', 'sensor', { name: 'Devices polled', state_class: 'measurement', icon: 'mdi:access-point-check' }),
      health('last_poll', 'sensor', { name: 'Last successful poll', device_class: 'timestamp' }),
      alertComponent(nodeId, 'Alert of an unknown device', ctx.topics.bridgeAlert()),
    ],
  };
}
