/**
 * Home Assistant's MQTT discovery schema, as far as the bridge's configs use it, for the tests
 * that check them (test/lib/homeassistant/, test/nodes/homeassistant-node.test.ts and the
 * Mosquitto tests in test/system/). test/lib/homeassistant/discovery-schema.test.ts checks this
 * checker: it must refuse what Home Assistant refuses or ignores.
 *
 * - Per-entity configs (`<prefix>/<platform>/<node id>/<object id>/config`): sensor,
 *   binary_sensor and event options, device and origin keys, device class/unit pairs, ids.
 * - Device-based configs (`<prefix>/device/<object id>/config`, Home Assistant 2024.11+): the
 *   root keys, abbreviations used consistently (the official one wherever there is one, no
 *   unknown one), and each component expanded and merged with the shared options the way
 *   Home Assistant does (homeassistant/components/mqtt/discovery.py), then checked like a
 *   per-entity config of its platform.
 */
import nunjucks from 'nunjucks';

type Config = Record<string, any>;

/**
 * Units Home Assistant accepts per sensor device class: homeassistant/components/sensor/const.py,
 * DEVICE_CLASS_UNITS (home-assistant/core), the classes a Leapcraft sensor could use. For µ only
 * the micro sign U+00B5 is accepted by every version: up to 2025.8 it is the only one; 2025.9
 * switched the constants to U+03BC (core PR #144853) and its MQTT integration translates U+00B5
 * (AMBIGUOUS_UNITS), while 2025.7 refuses U+03BC in discovery (core issue #148061). A timestamp
 * has no unit.
 */
export const DEVICE_CLASS_UNITS: Record<string, ReadonlyArray<string | null>> = {
  carbon_dioxide: ['ppm'],
  carbon_monoxide: ['ppm'],
  temperature: ['°C', '°F', 'K'],
  humidity: ['%'],
  pm1: ['\u00b5g/m\u00b3'],
  pm25: ['\u00b5g/m\u00b3'],
  pm10: ['\u00b5g/m\u00b3'],
  sound_pressure: ['dB', 'dBA'],
  battery: ['%'],
  illuminance: ['lx'],
  volatile_organic_compounds: ['\u00b5g/m\u00b3'],
  volatile_organic_compounds_parts: ['ppm', 'ppb'],
  atmospheric_pressure: ['cbar', 'bar', 'hPa', 'mmHg', 'inHg', 'kPa', 'mbar', 'Pa', 'psi'],
  signal_strength: ['dB', 'dBm'],
  aqi: [null],
  timestamp: [null],
  enum: [null],
};
/** The same file, DEVICE_CLASS_STATE_CLASSES: measurement for the measuring classes, none for a timestamp or an enum. */
const STATE_CLASSES_OF = (deviceClass: string): string[] => (deviceClass === 'timestamp' || deviceClass === 'enum' ? [] : ['measurement']);
/** State classes without a device class (SensorStateClass). */
const STATE_CLASSES = ['measurement', 'total', 'total_increasing'];
/** BinarySensorDeviceClass (homeassistant/components/binary_sensor/__init__.py). */
const BINARY_SENSOR_CLASSES = new Set(['battery', 'battery_charging', 'carbon_monoxide', 'cold', 'connectivity', 'door', 'garage_door', 'gas', 'heat',
  'light', 'lock', 'moisture', 'motion', 'moving', 'occupancy', 'opening', 'plug', 'power', 'presence', 'problem', 'running', 'safety', 'smoke', 'sound',
  'tamper', 'update', 'vibration', 'window']);
/** EventDeviceClass. */
const EVENT_CLASSES = new Set(['button', 'doorbell', 'motion']);

/** Options every MQTT entity takes (https://www.home-assistant.io/integrations/mqtt/ and each platform's page). */
const COMMON = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'default_entity_id', 'device', 'device_class',
  'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'icon', 'json_attributes_template', 'json_attributes_topic', 'name', 'object_id',
  'origin', 'payload_available', 'payload_not_available', 'platform', 'qos', 'state_topic', 'unique_id', 'value_template'];
/** Per platform: the MQTT sensor, binary sensor and event options; a key outside them would be ignored by Home Assistant, so it is a typo here. */
export const PLATFORM_OPTIONS: Record<string, Set<string>> = {
  sensor: new Set([...COMMON, 'expire_after', 'force_update', 'last_reset_value_template', 'options', 'state_class', 'suggested_display_precision', 'unit_of_measurement']),
  binary_sensor: new Set([...COMMON, 'expire_after', 'force_update', 'off_delay', 'payload_off', 'payload_on']),
  event: new Set([...COMMON, 'event_types']),
};
const DEVICE_OPTIONS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number',
  'suggested_area', 'sw_version', 'via_device']);
const ORIGIN_OPTIONS = new Set(['name', 'sw_version', 'support_url']);
/** The root of a device-based config: device, origin, components and the shared options. */
const DEVICE_ROOT_OPTIONS = new Set(['device', 'origin', 'components', 'availability', 'availability_mode', 'availability_template', 'availability_topic',
  'payload_available', 'payload_not_available', 'command_topic', 'state_topic', 'qos', 'encoding']);
/** What a component takes from the root when it does not set it itself (discovery.py, _merge_common_device_options). */
const SHARED = ['availability', 'availability_mode', 'availability_template', 'availability_topic', 'payload_available', 'payload_not_available',
  'command_topic', 'state_topic', 'qos', 'encoding'];

/**
 * Home Assistant's abbreviations (homeassistant/components/mqtt/abbreviations.py; the "Supported
 * abbreviations" of the MQTT integration's documentation), the ones for the options above.
 */
export const ABBREVIATIONS: Record<string, string> = {
  avty: 'availability', avty_mode: 'availability_mode', avty_t: 'availability_topic', avty_tpl: 'availability_template', cmd_t: 'command_topic',
  cmps: 'components', def_ent_id: 'default_entity_id', dev: 'device', dev_cla: 'device_class', e: 'encoding', en: 'enabled_by_default',
  ent_cat: 'entity_category', ent_pic: 'entity_picture', evt_typ: 'event_types', exp_aft: 'expire_after', frc_upd: 'force_update', ic: 'icon',
  json_attr_t: 'json_attributes_topic', json_attr_tpl: 'json_attributes_template', lrst_val_tpl: 'last_reset_value_template', o: 'origin',
  obj_id: 'object_id', off_dly: 'off_delay', ops: 'options', p: 'platform', pl_avail: 'payload_available', pl_not_avail: 'payload_not_available',
  pl_off: 'payload_off', pl_on: 'payload_on', stat_cla: 'state_class', stat_t: 'state_topic', sug_dsp_prc: 'suggested_display_precision', t: 'topic',
  uniq_id: 'unique_id', unit_of_meas: 'unit_of_measurement', val_tpl: 'value_template',
};
export const DEVICE_ABBREVIATIONS: Record<string, string> = {
  cu: 'configuration_url', cns: 'connections', ids: 'identifiers', mf: 'manufacturer', mdl: 'model', mdl_id: 'model_id', hw: 'hw_version',
  sw: 'sw_version', sa: 'suggested_area', sn: 'serial_number',
};
export const ORIGIN_ABBREVIATIONS: Record<string, string> = { sw: 'sw_version', url: 'support_url' };

const ID = /^[a-zA-Z0-9_-]+$/;
/** `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids from [a-zA-Z0-9_-]. */
const ENTITY_TOPIC = /^homeassistant\/(sensor|binary_sensor|event)\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/;
const DEVICE_TOPIC = /^homeassistant\/device\/([a-zA-Z0-9_-]+)\/config$/;

export const isEntityConfigTopic = (topic: string) => ENTITY_TOPIC.test(topic);
export const isDeviceConfigTopic = (topic: string) => DEVICE_TOPIC.test(topic);

/** What Home Assistant would refuse or ignore in a per-entity discovery payload; empty when none. */
export function schemaProblems(topic: string, config: Config): string[] {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`${topic}: ${what}`);
  const match = ENTITY_TOPIC.exec(topic);
  if (!match) {
    fail('topic is not <prefix>/<sensor|binary_sensor|event>/<node id>/<object id>/config with ids from [a-zA-Z0-9_-]');
    return problems;
  }
  const platform = match[1];
  for (const key of Object.keys(config)) if (!PLATFORM_OPTIONS[platform].has(key)) fail(`unknown ${platform} option ${key}`);
  if (typeof config.state_topic !== 'string' || config.state_topic === '' || /[+#]/.test(config.state_topic)) fail('state_topic (required) missing or not a topic');
  if (typeof config.unique_id !== 'string' || !ID.test(config.unique_id)) fail('unique_id missing (the device registry needs it) or outside [a-zA-Z0-9_-]');
  if (typeof config.name !== 'string' || config.name === '') fail('no name');
  if (platform !== 'event' && typeof config.value_template !== 'string') fail('no value_template');
  if (platform === 'sensor') {
    if (config.device_class !== undefined) {
      const units = DEVICE_CLASS_UNITS[config.device_class];
      if (!units) fail(`device_class ${config.device_class} not in the table`);
      else if (!units.includes(config.unit_of_measurement ?? null)) fail(`unit ${JSON.stringify(config.unit_of_measurement)} not valid with device class ${config.device_class}`);
      if (config.state_class !== undefined && !STATE_CLASSES_OF(config.device_class).includes(config.state_class)) fail(`state_class ${config.state_class} not valid with ${config.device_class}`);
    }
    if (config.state_class !== undefined && !STATE_CLASSES.includes(config.state_class)) fail(`state_class ${config.state_class}`);
    // homeassistant/components/mqtt/sensor.py, validate_sensor_state_and_device_class_config; sensor/__init__.py for an enum without options.
    const options = config.options;
    if (options !== undefined) {
      if (!Array.isArray(options) || options.length === 0 || !options.every((o: unknown) => typeof o === 'string' && o !== '')) fail('options: a non-empty list of texts');
      else if (new Set(options).size !== options.length) fail('options repeat');
      if (config.state_class !== undefined || config.unit_of_measurement !== undefined) fail('options together with state_class or unit_of_measurement');
      if (config.device_class !== 'enum') fail(`options need device class enum, got ${config.device_class}`);
    } else if (config.device_class === 'enum') fail('device class enum without options');
  }
  if (platform === 'binary_sensor' && config.device_class !== undefined && !BINARY_SENSOR_CLASSES.has(config.device_class)) fail(`binary_sensor device_class ${config.device_class}`);
  if (platform === 'event') {
    if (!Array.isArray(config.event_types) || config.event_types.length === 0 || !config.event_types.every((t: unknown) => typeof t === 'string' && t !== '')) {
      fail('event_types (required): a list of event types');
    }
    if (config.device_class !== undefined && !EVENT_CLASSES.has(config.device_class)) fail(`event device_class ${config.device_class}`);
  }
  // A sensor, binary sensor or event cannot be a configuration entity.
  if (config.entity_category !== undefined && config.entity_category !== 'diagnostic') fail(`entity_category ${config.entity_category}`);
  if (config.expire_after !== undefined && !(Number.isInteger(config.expire_after) && config.expire_after > 0)) fail('expire_after is not a positive integer');
  if (![0, 1, 2].includes(config.qos)) fail('qos');
  if (config.availability_topic !== undefined && config.availability !== undefined) fail('availability and availability_topic together');
  if (!Array.isArray(config.availability) || config.availability.length === 0 || !config.availability.every((a: Config) => typeof a.topic === 'string' && a.topic !== '')) {
    fail('availability: a list of {topic}');
  }
  if (config.availability_mode !== undefined && !['all', 'any', 'latest'].includes(config.availability_mode)) fail('availability_mode');
  if (config.json_attributes_template !== undefined && config.json_attributes_topic === undefined) fail('json_attributes_template without json_attributes_topic');
  const device = config.device as Config | undefined;
  if (!device || typeof device !== 'object') fail('no device');
  else {
    for (const key of Object.keys(device)) if (!DEVICE_OPTIONS.has(key)) fail(`unknown device option ${key}`);
    if (!Array.isArray(device.identifiers) || device.identifiers.length === 0 || !device.identifiers.every((i: unknown) => typeof i === 'string')) fail('device.identifiers');
    if (device.manufacturer !== 'Leapcraft') fail('device.manufacturer');
    if (typeof device.name !== 'string' || device.name === '') fail('device.name');
    if (device.suggested_area !== undefined && (typeof device.suggested_area !== 'string' || device.suggested_area === '')) fail('device.suggested_area');
  }
  const origin = config.origin as Config | undefined;
  if (!origin || typeof origin.name !== 'string' || origin.name === '') fail('origin.name (required in an origin)');
  else for (const key of Object.keys(origin)) if (!ORIGIN_OPTIONS.has(key)) fail(`unknown origin option ${key}`);
  return problems;
}

/**
 * A device-based payload with every key in full, as Home Assistant reads it, and what is wrong
 * with its spelling: a full name where an official abbreviation exists (mixed spelling), or a
 * key that is neither.
 */
export function expandDeviceConfig(payload: Config): { config: Config; problems: string[] } {
  const problems: string[] = [];
  const fullOf = (table: Record<string, string>) => new Map(Object.entries(table));
  const abbrOf = (table: Record<string, string>) => new Map(Object.entries(table).map(([a, f]) => [f, a]));
  const expand = (object: Config, table: Record<string, string>, known: Set<string>, where: string): Config => {
    const out: Config = {};
    const full = fullOf(table);
    const abbr = abbrOf(table);
    for (const [key, value] of Object.entries(object)) {
      const name = full.get(key) ?? key;
      if (!full.has(key)) {
        if (abbr.has(key)) problems.push(`${where}: ${key} spelled out, its abbreviation ${abbr.get(key)} used elsewhere`);
        else if (!known.has(key)) problems.push(`${where}: unknown key ${key}`);
      }
      out[name] = value;
    }
    return out;
  };
  const optionNames = new Set([...DEVICE_ROOT_OPTIONS, ...Object.values(PLATFORM_OPTIONS).flatMap((s) => [...s])]);
  const availability = (list: unknown, where: string) => (Array.isArray(list) ? list.map((a, i) => expand(a as Config, { t: 'topic' }, new Set(['payload_available', 'payload_not_available', 'value_template']), `${where}[${i}]`)) : list);
  const root = expand(payload, ABBREVIATIONS, optionNames, 'root');
  if (root.device) root.device = expand(root.device, DEVICE_ABBREVIATIONS, DEVICE_OPTIONS, 'device');
  if (root.origin) root.origin = expand(root.origin, ORIGIN_ABBREVIATIONS, ORIGIN_OPTIONS, 'origin');
  if (root.availability) root.availability = availability(root.availability, 'availability');
  if (root.components && typeof root.components === 'object') {
    const components: Config = {};
    for (const [id, c] of Object.entries(root.components as Config)) {
      const component = expand(c as Config, ABBREVIATIONS, optionNames, `components.${id}`);
      if (component.availability) component.availability = availability(component.availability, `components.${id}.availability`);
      components[id] = component;
    }
    root.components = components;
  }
  return { config: root, problems };
}

/**
 * Each component of a device-based payload as Home Assistant sets it up: its options, the shared
 * ones it does not set itself, the device and the origin; with the per-entity topic it stands for
 * (`<prefix>/<platform>/<device object id>/<component id>/config`, the same discovery id). A
 * component reduced to its platform is a removal and has no config.
 */
export function deviceComponents(topic: string, payload: Config): Array<{ id: string; platform: string; topic: string; config: Config | null }> {
  const match = DEVICE_TOPIC.exec(topic);
  if (!match) throw new Error(`${topic} is not a device-based discovery topic`);
  const { config } = expandDeviceConfig(payload);
  return Object.entries((config.components ?? {}) as Config).map(([id, c]) => {
    const { platform, ...options } = c as Config;
    const entityTopic = `homeassistant/${platform}/${match[1]}/${id}/config`;
    if (Object.keys(options).length === 0) return { id, platform, topic: entityTopic, config: null };
    const merged: Config = { ...options };
    for (const key of SHARED) if (merged[key] === undefined && config[key] !== undefined) merged[key] = config[key];
    merged.device = config.device;
    merged.origin = config.origin;
    return { id, platform, topic: entityTopic, config: merged };
  });
}

/** What Home Assistant would refuse or ignore in a device-based payload, each component checked like a per-entity config. */
export function deviceConfigProblems(topic: string, payload: Config): string[] {
  const problems: string[] = [];
  if (!DEVICE_TOPIC.test(topic)) return [`${topic}: not <prefix>/device/<object id>/config with an id from [a-zA-Z0-9_-]`];
  const { config, problems: spelling } = expandDeviceConfig(payload);
  problems.push(...spelling.map((p) => `${topic}: ${p}`));
  for (const key of Object.keys(config)) if (!DEVICE_ROOT_OPTIONS.has(key)) problems.push(`${topic}: ${key} is not a root option of a device config`);
  if (!config.device) problems.push(`${topic}: device (dev) is required`);
  if (!config.origin) problems.push(`${topic}: origin (o) is required`);
  const components = config.components as Config | undefined;
  if (!components || typeof components !== 'object' || Object.keys(components).length === 0) problems.push(`${topic}: no components (cmps)`);
  for (const [id, c] of Object.entries(components ?? {})) {
    if (!ID.test(id)) problems.push(`${topic}: component id ${id} outside [a-zA-Z0-9_-]`);
    if (!['sensor', 'binary_sensor', 'event'].includes((c as Config).platform)) problems.push(`${topic}: component ${id} has no platform (p) the bridge uses`);
  }
  for (const c of deviceComponents(topic, payload)) if (c.config) problems.push(...schemaProblems(c.topic, c.config));
  const ids = deviceComponents(topic, payload).filter((c) => c.config).map((c) => c.config!.unique_id);
  if (new Set(ids).size !== ids.length) problems.push(`${topic}: unique ids repeat`);
  return problems;
}

/** Home Assistant's Jinja2 for the templates the bridge writes: nunjucks, with Jinja's `tojson`. */
const jinja = new nunjucks.Environment(null, { autoescape: false });
jinja.addFilter('tojson', (value: unknown) => JSON.stringify(value));
export function renderTemplate(template: string, state: unknown): string {
  return jinja.renderString(template, { value_json: state });
}
