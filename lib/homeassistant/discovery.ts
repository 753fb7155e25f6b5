/**
 * Home Assistant MQTT discovery payloads (https://www.home-assistant.io/integrations/mqtt/,
 * "MQTT Discovery"; sensor, binary sensor and event options in their pages).
 *
 * Two forms, each consistent in itself:
 * - per-entity (`<prefix>/<platform>/<node id>/<object id>/config`, every Home Assistant
 *   version): full option names, the text installations announced per entity hold, so
 *   their reading entities get the very same config text (Home Assistant sees no change);
 * - device-based (`<prefix>/device/<node id>/config`, Home Assistant 2024.11+): one message
 *   per device, every key in Home Assistant's official abbreviation where it has one
 *   (`dev`, `o`, `cmps`, `p`, `uniq_id`, `stat_t` …; `via_device` has none), which keeps a
 *   device's config about half the size. State topic, availability and QoS are shared at the
 *   root; a component that needs its own (the alert event, `last seen`) sets them itself.
 */
import { HaPlatform } from './ids';
import { HaReadingSpec } from './readings';

export interface HaOrigin {
  name: string;
  sw_version?: string;
  support_url?: string;
}

/** The `device` block: what groups a sensor's entities into one Home Assistant device. */
export interface HaDeviceBlock {
  identifiers: string[];
  name: string;
  manufacturer: string;
  model?: string;
  serial_number?: string;
  sw_version?: string;
  /** Home Assistant applies it only when it first sees the device. */
  suggested_area?: string;
  /** An identifier of another device, here the gateway the sensor reports through. */
  via_device?: string;
}

export interface HaAvailabilityEntry {
  topic: string;
}

/** One entity of a device: its id under `cmps` (and per-entity object id), platform and options in full names. */
export interface HaComponent {
  id: string;
  platform: HaPlatform;
  /** name, unique_id, value_template, device_class … (not device, origin, state topic, availability, qos). */
  options: HaEntityOptions;
  /** Its own state topic, when not the device's. */
  stateTopic?: string;
  /** Its own availability, when not the device's. */
  availability?: HaAvailabilityEntry[];
}

export interface HaEntityOptions extends Partial<HaReadingSpec> {
  name: string;
  unique_id: string;
  value_template?: string;
  icon?: string;
  expire_after?: number;
  event_types?: string[];
  /** An enum sensor's states. */
  options?: string[];
  json_attributes_topic?: string;
  json_attributes_template?: string;
}

/** Everything about one device's announcement, in either form. */
export interface HaDeviceConfig {
  device: HaDeviceBlock;
  origin: HaOrigin;
  stateTopic: string;
  availability: HaAvailabilityEntry[];
  availabilityMode?: 'all';
  qos: number;
  components: HaComponent[];
}

export const HA_MANUFACTURER = 'Leapcraft';

/** Names Jinja resolves to a dict method before a key (`value_json.items` is the method). */
const DICT_ATTRIBUTES = new Set(['clear', 'copy', 'fromkeys', 'get', 'items', 'keys', 'pop', 'popitem', 'setdefault', 'update', 'values']);

/**
 * The template that picks one reading out of the device's JSON state. The state's keys are
 * object ids (`[A-Za-z0-9_-]`), never raw API keys, so nothing from the API reaches
 * Home Assistant's template engine. Identifiers use the simple form `{{ value_json.co2 }}`;
 * the rest the subscript form, which Jinja2 and nunjucks read alike.
 */
export function haValueTemplate(objectId: string): string {
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(objectId) && !DICT_ATTRIBUTES.has(objectId)) return `{{ value_json.${objectId} }}`;
  return `{{ value_json['${objectId}'] }}`;
}

/** The platform options in a fixed order (Home Assistant skips a config whose text did not change). */
const OPTION_ORDER = [
  'name', 'unique_id', 'state_topic', 'value_template', 'event_types', 'device_class', 'options', 'unit_of_measurement', 'state_class',
  'entity_category', 'suggested_display_precision', 'icon', 'json_attributes_topic', 'json_attributes_template', 'expire_after',
] as const;

function orderedOptions(component: HaComponent, stateTopic: string | undefined): Record<string, unknown> {
  const source: Record<string, unknown> = { ...component.options, state_topic: stateTopic };
  const out: Record<string, unknown> = {};
  for (const key of OPTION_ORDER) if (source[key] !== undefined) out[key] = source[key];
  return out;
}

/**
 * A per-entity config (full option names). For a reading's sensor the text is the one
 * installations announced per entity hold (plus `suggested_area` when set): the same text is
 * no change to Home Assistant.
 */
export function haEntityConfig(config: HaDeviceConfig, component: HaComponent): string {
  const out = orderedOptions(component, component.stateTopic ?? config.stateTopic);
  const own = component.availability;
  out.availability = own ?? config.availability;
  if (!own && config.availabilityMode) out.availability_mode = config.availabilityMode;
  out.qos = config.qos;
  out.device = config.device;
  out.origin = config.origin;
  return JSON.stringify(out);
}

// ---- device-based discovery: Home Assistant's abbreviations -----------------------------------

/** Full option name → Home Assistant's abbreviation (homeassistant/components/mqtt/abbreviations.py). */
export const HA_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  availability: 'avty', availability_mode: 'avty_mode', components: 'cmps', device: 'dev', device_class: 'dev_cla',
  entity_category: 'ent_cat', event_types: 'evt_typ', expire_after: 'exp_aft', icon: 'ic', json_attributes_template: 'json_attr_tpl',
  json_attributes_topic: 'json_attr_t', options: 'ops', origin: 'o', platform: 'p', state_class: 'stat_cla', state_topic: 'stat_t',
  suggested_display_precision: 'sug_dsp_prc', unique_id: 'uniq_id', unit_of_measurement: 'unit_of_meas', value_template: 'val_tpl',
  topic: 't',
});
export const HA_DEVICE_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({
  identifiers: 'ids', manufacturer: 'mf', model: 'mdl', serial_number: 'sn', sw_version: 'sw', suggested_area: 'sa',
});
export const HA_ORIGIN_ABBREVIATIONS: Readonly<Record<string, string>> = Object.freeze({ sw_version: 'sw', support_url: 'url' });

function abbreviate(object: object, table: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(object)) if (value !== undefined) out[table[key] ?? key] = value;
  return out;
}

const abbreviateAvailability = (entries: HaAvailabilityEntry[]) => entries.map((e) => abbreviate(e, HA_ABBREVIATIONS));

/**
 * A device-based config: `dev`, `o`, `cmps` keyed by component id (each with its platform `p`
 * and options), and the shared state topic, availability and QoS. `removed` components are
 * sent reduced to their platform, which is how Home Assistant is told to delete them.
 */
export function haDeviceConfig(config: HaDeviceConfig, removed: ReadonlyArray<{ id: string; platform: HaPlatform }> = []): string {
  const components: Record<string, unknown> = {};
  for (const c of config.components) {
    const options = abbreviate(orderedOptions(c, c.stateTopic), HA_ABBREVIATIONS);
    const entry: Record<string, unknown> = { p: c.platform, ...options };
    if (c.availability) entry.avty = abbreviateAvailability(c.availability);
    components[c.id] = entry;
  }
  for (const r of removed) if (!(r.id in components)) components[r.id] = { p: r.platform };
  const out: Record<string, unknown> = {
    dev: abbreviate(config.device, HA_DEVICE_ABBREVIATIONS),
    o: abbreviate(config.origin, HA_ORIGIN_ABBREVIATIONS),
    cmps: components,
    stat_t: config.stateTopic,
    avty: abbreviateAvailability(config.availability),
  };
  if (config.availabilityMode) out.avty_mode = config.availabilityMode;
  out.qos = config.qos;
  return JSON.stringify(out);
}

/** Home Assistant's hand-over between the two forms, sent to the topics a device leaves: a per-entity config's spelling. */
export const HA_MIGRATE_PAYLOAD = JSON.stringify({ migrate_discovery: true });
/** The same in a device-based config's spelling (Home Assistant's abbreviation). */
export const HA_MIGRATE_DEVICE_PAYLOAD = JSON.stringify({ migr_discvry: true });
