/**
 * What each device the bridge announces is made of: its device block, its components and
 * their shared options, for the three kinds of device: a sensor (one entity per reading, a
 * diagnostic `last seen` and an `alert` event entity; its air quality and ventilation demand
 * when the air-quality node tells them, a `problem` binary sensor when its health is told), a gateway (how many sensors report
 * through it) and the bridge itself (the account's health, and an event entity for alerts of
 * devices it does not know). Plain data in full option names; lib/homeassistant/discovery.ts
 * writes it in either discovery form.
 */
import { HA_ALERT_EVENT_TYPES } from './alerts';
import { HaComponent, HaDeviceBlock, HaDeviceConfig, HaEntityOptions, HA_MANUFACTURER, HaOrigin, haValueTemplate } from './discovery';
import { HaKnownDevice, HaReadingEntity } from './device-table';
import {
  HA_AIR_QUALITY_ATTRIBUTES, HA_AIR_QUALITY_ID, HA_ALERT_ID, HA_DEMAND_ID, HA_LAST_SEEN_ID, HA_PROBLEM_ATTRIBUTES, HA_PROBLEM_ID, haBridgeIdentifier, haDeviceIdentifier, haGatewayIdentifier, HaPlatform, haReadingId, HaTopics, haUniqueId,
} from './ids';
import { haIsoTime } from './health';
import { haComponentMap, HaQos } from './publisher';
import { HA_KNOWN_READINGS, haModelName } from './readings';
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

/** The JSON attributes of a component: the object under `key` in the device's state. */
function attributesOf(ctx: HaConfigContext, d: HaKnownDevice, key: string): Pick<Options, 'json_attributes_topic' | 'json_attributes_template'> {
  return { json_attributes_topic: ctx.topics.deviceState(d.key), json_attributes_template: `{{ value_json.${key} | tojson }}` };
}

/**
 * The air-quality node's category, an enum sensor of its profile's categories (their stable ids;
 * label, level and profile as attributes), and the ventilation demand in %. Like the readings they
 * come from, unavailable with the device.
 */
function airQualityComponents(d: HaKnownDevice, ctx: HaConfigContext): HaComponent[] {
  if (!d.airQuality) return [];
  const expire = ctx.expireAfterS ? { expire_after: ctx.expireAfterS } : {};
  return [
    component(d.nodeId, HA_AIR_QUALITY_ID, 'sensor', {
      name: 'Air quality', device_class: 'enum', options: [...d.airQuality.options], icon: 'mdi:air-filter', ...attributesOf(ctx, d, HA_AIR_QUALITY_ATTRIBUTES), ...expire,
    }),
    component(d.nodeId, HA_DEMAND_ID, 'sensor', {
      name: 'Ventilation demand', unit_of_measurement: '%', state_class: 'measurement', suggested_display_precision: 0, icon: 'mdi:fan', ...expire,
    }),
  ];
}

/** The device's health: a problem while it is silent or its battery low; live while the device is offline (silent). */
function problemComponents(d: HaKnownDevice, ctx: HaConfigContext): HaComponent[] {
  if (!d.problem) return [];
  return [component(d.nodeId, HA_PROBLEM_ID, 'binary_sensor', {
    name: 'Problem', device_class: 'problem', entity_category: 'diagnostic', ...attributesOf(ctx, d, HA_PROBLEM_ATTRIBUTES),
  }, { availability: bridgeOnly(ctx) })];
}

/**
 * A sensor's components, assembled here and nowhere else: one per reading, then its own
 * (`last seen`, `alert`), then those of other inputs (the air quality's category and demand, the
 * health's problem). A component from another input goes in this list, its value into
 * haSensorState under the component's id, its id into ids.ts (reserved, so no reading takes it),
 * and its id and platform into haEverySensorComponent; what the device keeps of it lives in the
 * device table, and what a restart needs to announce it the same in the record. The record keeps
 * whatever this list announced, so removal and migration need nothing more.
 */
export function haSensorComponents(d: HaKnownDevice, ctx: HaConfigContext): HaComponent[] {
  return [
    ...[...d.entities.values()].map((e) => readingComponent(d.nodeId, e, ctx)), ...sensorOwnComponents(d.nodeId, d.key, ctx),
    ...airQualityComponents(d, ctx), ...problemComponents(d, ctx),
  ];
}

/**
 * The sensor's JSON state: every announced reading of the last reading (null, Home Assistant's
 * unknown, when it lacks one or none came yet), `last seen`, and the values (null: not told since a
 * restart) and attributes of the other inputs' components.
 */
export function haSensorState(d: HaKnownDevice): string {
  const state: Record<string, unknown> = {};
  for (const e of d.entities.values()) state[e.id] = d.lastValues?.get(e.key) ?? null;
  state[HA_LAST_SEEN_ID] = d.lastTime === undefined ? null : haIsoTime(d.lastTime);
  const aq = d.airQuality;
  if (aq) {
    state[HA_AIR_QUALITY_ID] = aq.category;
    state[HA_DEMAND_ID] = aq.demand;
    state[HA_AIR_QUALITY_ATTRIBUTES] = { label: aq.label ?? null, level: aq.level ?? null, profile: aq.profile ?? null };
  }
  const health = d.problem;
  if (health) {
    const known = health.silent !== undefined || health.batteryLow !== undefined;
    state[HA_PROBLEM_ID] = known ? (health.silent || health.batteryLow ? 'ON' : 'OFF') : null;
    state[HA_PROBLEM_ATTRIBUTES] = { silent: health.silent ?? null, battery_low: health.batteryLow ?? null };
  }
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
  return { ...all, ...haComponentMap(sensorOwnComponents('', '', ctx)), [HA_AIR_QUALITY_ID]: 'sensor', [HA_DEMAND_ID]: 'sensor', [HA_PROBLEM_ID]: 'binary_sensor' };
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
