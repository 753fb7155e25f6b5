/**
 * Home Assistant MQTT discovery payloads (https://www.home-assistant.io/integrations/mqtt/,
 * "MQTT Discovery"; sensor options: https://www.home-assistant.io/integrations/sensor.mqtt/).
 * Full option names, not the abbreviations: the payloads are read by people debugging
 * their broker more often than they are short of memory.
 */
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
  /** An identifier of another device, here the gateway the sensor reports through. */
  via_device?: string;
}

export interface HaAvailabilityEntry {
  topic: string;
}

export interface HaSensorConfig extends HaReadingSpec {
  unique_id: string;
  state_topic: string;
  value_template: string;
  availability: HaAvailabilityEntry[];
  availability_mode?: 'all';
  expire_after?: number;
  qos: number;
  device: HaDeviceBlock;
  origin: HaOrigin;
  icon?: string;
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

/** Key order fixed, so the same entity always gives the same text (Home Assistant skips unchanged configs). */
export function haSensorConfig(config: HaSensorConfig): string {
  const ordered: Record<string, unknown> = {
    name: config.name,
    unique_id: config.unique_id,
    state_topic: config.state_topic,
    value_template: config.value_template,
  };
  for (const key of ['device_class', 'unit_of_measurement', 'state_class', 'entity_category', 'suggested_display_precision', 'icon'] as const) {
    if (config[key] !== undefined) ordered[key] = config[key];
  }
  if (config.expire_after !== undefined) ordered.expire_after = config.expire_after;
  ordered.availability = config.availability;
  if (config.availability_mode) ordered.availability_mode = config.availability_mode;
  ordered.qos = config.qos;
  ordered.device = config.device;
  ordered.origin = config.origin;
  return JSON.stringify(ordered);
}
