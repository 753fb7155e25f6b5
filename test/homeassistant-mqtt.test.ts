/**
 * The Home Assistant bridge through a real broker: Debian's Mosquitto on a free loopback port
 * (test/support/mosquitto.ts), the flow leapcraft-config → leapcraft-telemetry →
 * leapcraft-homeassistant → core `mqtt out`, with core `mqtt in` on homeassistant/status and a
 * Status node on the mqtt out node wired back into the bridge, polling the simulator. An
 * mqtt.js client subscribed to homeassistant/# and leapcraft/# plays Home Assistant: it checks
 * every config against Home Assistant's discovery schema, renders every value_template
 * (nunjucks, for Home Assistant's Jinja2) against the state and gets the simulator's reading
 * back, finds everything retained with a fresh connection, publishes a birth message, and
 * sees the remove action leave nothing retained.
 */
import assert from 'node:assert/strict';
import mqtt, { MqttClient } from 'mqtt';
import nunjucks from 'nunjucks';
import { LeapcraftSimulator } from '../simulator';
import type { DeviceListItem } from '../simulator';
import { useMosquitto } from './support/mosquitto';
import { catchNode, helper, TestNode } from './support/nodered';
import configNode = require('../nodes/leapcraft-config');
import telemetryNode = require('../nodes/leapcraft-telemetry');
import haNode = require('../nodes/leapcraft-homeassistant');

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const statusNode = require('@node-red/nodes/core/common/25-status.js');

// ---- Home Assistant's discovery schema, as far as these configs use it ------------------------

/**
 * Units Home Assistant accepts per sensor device class: homeassistant/components/sensor/const.py,
 * DEVICE_CLASS_UNITS (home-assistant/core), the classes a Leapcraft sensor could use. For µ only
 * the micro sign U+00B5 is accepted by every version: up to 2025.8 it is the only one; 2025.9
 * switched the constants to U+03BC (core PR #144853) and its MQTT integration translates U+00B5
 * (AMBIGUOUS_UNITS), while 2025.7 refuses U+03BC in discovery (core issue #148061).
 */
const DEVICE_CLASS_UNITS: Record<string, ReadonlyArray<string | null>> = {
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
};
/** The same file, DEVICE_CLASS_STATE_CLASSES: every class above allows measurement only. */
const STATE_CLASSES_OF: (deviceClass: string) => string[] = () => ['measurement'];
/** State classes without a device class (SensorStateClass). */
const STATE_CLASSES = ['measurement', 'total', 'total_increasing'];

/**
 * The MQTT sensor's options (https://www.home-assistant.io/integrations/sensor.mqtt/), the
 * device registry keys and the origin keys of MQTT discovery
 * (https://www.home-assistant.io/integrations/mqtt/#discovery-payload): a key outside them
 * would be ignored by Home Assistant, so it is a typo here.
 */
const SENSOR_OPTIONS = new Set(['availability', 'availability_mode', 'availability_template', 'availability_topic', 'default_entity_id', 'device', 'device_class',
  'enabled_by_default', 'encoding', 'entity_category', 'entity_picture', 'expire_after', 'force_update', 'icon', 'json_attributes_template', 'json_attributes_topic',
  'last_reset_value_template', 'name', 'object_id', 'options', 'origin', 'payload_available', 'payload_not_available', 'platform', 'qos', 'state_class', 'state_topic',
  'suggested_display_precision', 'unique_id', 'unit_of_measurement', 'value_template']);
const DEVICE_OPTIONS = new Set(['configuration_url', 'connections', 'hw_version', 'identifiers', 'manufacturer', 'model', 'model_id', 'name', 'serial_number',
  'suggested_area', 'sw_version', 'via_device']);
const ORIGIN_OPTIONS = new Set(['name', 'sw_version', 'support_url']);
/** `<discovery_prefix>/<component>/[<node_id>/]<object_id>/config`, ids from [a-zA-Z0-9_-]. */
const CONFIG_TOPIC = /^homeassistant\/sensor\/([a-zA-Z0-9_-]+)\/([a-zA-Z0-9_-]+)\/config$/;

type Config = Record<string, any>;

/** What Home Assistant would refuse or ignore in a sensor's discovery payload; empty when none. */
function schemaProblems(topic: string, config: Config): string[] {
  const problems: string[] = [];
  const fail = (what: string) => problems.push(`${topic}: ${what}`);
  if (!CONFIG_TOPIC.test(topic)) fail('topic is not <prefix>/sensor/<node id>/<object id>/config with ids from [a-zA-Z0-9_-]');
  for (const key of Object.keys(config)) if (!SENSOR_OPTIONS.has(key)) fail(`unknown option ${key}`);
  if (typeof config.state_topic !== 'string' || config.state_topic === '' || /[+#]/.test(config.state_topic)) fail('state_topic (required) missing or not a topic');
  if (typeof config.unique_id !== 'string' || !/^[a-zA-Z0-9_-]+$/.test(config.unique_id)) fail('unique_id missing (the device registry needs it) or outside [a-zA-Z0-9_-]');
  if (typeof config.name !== 'string' || config.name === '') fail('no name');
  if (typeof config.value_template !== 'string') fail('no value_template');
  if (config.device_class !== undefined) {
    const units = DEVICE_CLASS_UNITS[config.device_class];
    if (!units) fail(`device_class ${config.device_class} not in the table`);
    else if (!units.includes(config.unit_of_measurement ?? null)) fail(`unit ${JSON.stringify(config.unit_of_measurement)} not valid with device class ${config.device_class}`);
    if (config.state_class !== undefined && !STATE_CLASSES_OF(config.device_class).includes(config.state_class)) fail(`state_class ${config.state_class} not valid with ${config.device_class}`);
  }
  if (config.state_class !== undefined && !STATE_CLASSES.includes(config.state_class)) fail(`state_class ${config.state_class}`);
  // A sensor cannot be a configuration entity.
  if (config.entity_category !== undefined && config.entity_category !== 'diagnostic') fail(`entity_category ${config.entity_category}`);
  if (config.expire_after !== undefined && !(Number.isInteger(config.expire_after) && config.expire_after > 0)) fail('expire_after is not a positive integer');
  if (![0, 1, 2].includes(config.qos)) fail('qos');
  if (config.availability_topic !== undefined && config.availability !== undefined) fail('availability and availability_topic together');
  if (!Array.isArray(config.availability) || config.availability.length === 0 || !config.availability.every((a: Config) => typeof a.topic === 'string' && a.topic !== '')) {
    fail('availability: a list of {topic}');
  }
  if (config.availability_mode !== undefined && !['all', 'any', 'latest'].includes(config.availability_mode)) fail('availability_mode');
  const device = config.device as Config | undefined;
  if (!device || typeof device !== 'object') fail('no device');
  else {
    for (const key of Object.keys(device)) if (!DEVICE_OPTIONS.has(key)) fail(`unknown device option ${key}`);
    if (!Array.isArray(device.identifiers) || device.identifiers.length === 0 || !device.identifiers.every((i: unknown) => typeof i === 'string')) fail('device.identifiers');
    if (device.manufacturer !== 'Leapcraft') fail('device.manufacturer');
    if (typeof device.name !== 'string' || device.name === '') fail('device.name');
  }
  const origin = config.origin as Config | undefined;
  if (!origin || typeof origin.name !== 'string' || origin.name === '') fail('origin.name (required in an origin)');
  else for (const key of Object.keys(origin)) if (!ORIGIN_OPTIONS.has(key)) fail(`unknown origin option ${key}`);
  return problems;
}

// ---- an MQTT client in Home Assistant's place --------------------------------------------------

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

class Watcher {
  readonly got: Received[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => this.got.push({ topic, payload: payload.toString('utf8'), retain: packet.retain, at: Date.now() }));
  }

  static async connect(url: string): Promise<Watcher> {
    const client = await mqtt.connectAsync(url, { clean: true, reconnectPeriod: 0 });
    const watcher = new Watcher(client);
    await client.subscribeAsync(['homeassistant/#', 'leapcraft/#'], { qos: 1 });
    return watcher;
  }

  /** The last payload per topic (what a subscriber ends up with). */
  latest(filter: (m: Received) => boolean = () => true): Map<string, Received> {
    const out = new Map<string, Received>();
    for (const m of this.got) if (filter(m)) out.set(m.topic, m);
    return out;
  }

  async waitFor(check: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}; got ${this.got.length} msgs`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** Waits until no message has come for `quietMs`. */
  async quiet(quietMs = 500): Promise<void> {
    let seen = -1;
    while (seen !== this.got.length) {
      seen = this.got.length;
      await new Promise((r) => setTimeout(r, quietMs));
    }
  }

  end(): Promise<void> {
    return this.client.endAsync();
  }
}

const isConfig = (m: Received) => CONFIG_TOPIC.test(m.topic) || /^homeassistant\/sensor\/.+\/config$/.test(m.topic);

describe('Home Assistant bridge through a real Mosquitto broker', function () {
  this.timeout(60_000);
  const mosquitto = useMosquitto();
  let sim: LeapcraftSimulator;
  let devices: DeviceListItem[];
  let airbird: DeviceListItem;
  let ambinode: DeviceListItem;
  let ha: Watcher;
  const watchers: Watcher[] = [];
  /** What the telemetry node emitted, by physical id: the simulator's readings as served. */
  const served = new Map<string, Record<string, unknown>>();

  before(async function () {
    sim = new LeapcraftSimulator({ deviceCount: 6 });
    await sim.start();
    // An AirBird, an Ambinode (MAC-like ids) and the free-form testsim00004 (an Ambinode).
    devices = sim.devices().filter((d, i) => i === 0 || i === 1 || d.physical_id === 'testsim00004');
    airbird = devices.find((d) => d.type === 'airbird')!;
    ambinode = devices.find((d) => d.type === 'ambinode')!;
    ha = await Watcher.connect(mosquitto.broker.url);
    watchers.push(ha);
    const { port } = mosquitto.broker;
    await helper.load([configNode, telemetryNode, haNode, mqttNodes, statusNode, catchNode] as never, [
      { id: 'tab', type: 'tab', label: 'Home Assistant' },
      { id: 'acct', type: 'leapcraft-config', name: 'simulator', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 100, y: 100, account: 'acct', devices: devices.map((d) => d.physical_id).join(', '),
        telemetryType: 'latest', resolution: 'daily', from: '-7d', to: 'now', interval: 0, output: 'device', changesOnly: false, blockOverrides: false,
        wires: [['ha', 'served']],
      },
      { id: 'served', type: 'helper', z: 'tab', x: 300, y: 40 },
      {
        id: 'ha', type: 'leapcraft-homeassistant', z: 'tab', x: 300, y: 100, account: 'acct', discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft',
        birthTopic: 'homeassistant/status', interval: 60, qos: '1', announceDelay: 1, wires: [['out']],
      },
      { id: 'out', type: 'mqtt out', z: 'tab', x: 500, y: 100, name: '', topic: '', qos: '', retain: '', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'broker', wires: [] },
      { id: 'birth', type: 'mqtt in', z: 'tab', x: 100, y: 200, name: '', topic: 'homeassistant/status', qos: '2', datatype: 'auto-detect', broker: 'broker', nl: false, rap: true, rh: 0, inputs: 0, wires: [['ha']] },
      // The broker (re)connected: the bridge announces everything again.
      { id: 'connected', type: 'status', z: 'tab', x: 100, y: 260, name: '', scope: ['out'], wires: [['ha']] },
      { id: 'failed', type: 'catch', z: 'tab', x: 100, y: 320, name: '', scope: ['tel'], uncaught: false, wires: [['ha']] },
      {
        id: 'broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port, clientid: '', autoConnect: true, usetls: false, protocolVersion: 4, keepalive: 60,
        cleansession: true, autoUnsubscribe: true, birthTopic: '', birthQos: '0', birthRetain: 'false', birthPayload: '', birthMsg: {},
        // Node-RED stopping or vanishing: Home Assistant shows every entity unavailable.
        closeTopic: 'leapcraft/bridge/availability', closeQos: '1', closeRetain: 'true', closePayload: 'offline', closeMsg: {},
        willTopic: 'leapcraft/bridge/availability', willQos: '1', willRetain: 'true', willPayload: 'offline', willMsg: {}, userProps: '', sessionExpiry: '',
      },
    ] as never, { acct: { apiKey: sim.apiKey } } as never);
    (helper.getNode('served') as TestNode).on('input', (msg: Record<string, unknown>) => {
      const payload = msg.payload as { physical_id: string; data: Record<string, unknown> };
      served.set(payload.physical_id, payload.data);
    });
    // Connected: the Status node's re-announce puts the bridge online.
    await ha.waitFor(() => ha.got.some((m) => m.topic === 'leapcraft/bridge/availability' && m.payload === 'online'), 'the bridge online');
    (helper.getNode('tel') as TestNode).receive({} as never);
    await ha.waitFor(() => served.size === devices.length && ha.latest((m) => /^leapcraft\/device\/[^/]+\/state$/.test(m.topic)).size === devices.length, 'a state per device');
    await ha.quiet(300);
  });

  after(async () => {
    for (const w of watchers) await w.end().catch(() => undefined);
    await helper.unload();
    await sim?.stop();
  });

  it('publishes a config for every reading that Home Assistant\'s discovery schema accepts', () => {
    const configs = [...ha.latest(isConfig).values()];
    const problems = configs.flatMap((m) => schemaProblems(m.topic, JSON.parse(m.payload) as Config));
    assert.deepEqual(problems, []);
    const parsed = configs.map((m) => JSON.parse(m.payload) as Config);
    assert.equal(new Set(parsed.map((c) => c.unique_id)).size, parsed.length, 'unique ids are unique');
    // Every via_device names a device that is announced too (the gateways).
    const identifiers = new Set(parsed.flatMap((c) => c.device.identifiers as string[]));
    for (const c of parsed) if (c.device.via_device !== undefined) assert.ok(identifiers.has(c.device.via_device), `via_device ${c.device.via_device} is not announced`);
    assert.ok(parsed.some((c) => c.device.via_device), 'sensors are linked to their gateways');
    // One entity per reading of each device (meta is not one), on each device's own node id.
    for (const device of devices) {
      const mine = parsed.filter((c) => c.device.identifiers[0] === `leapcraft_${device.physical_id}`);
      const readings = Object.keys(served.get(device.physical_id)!).filter((k) => k !== 'meta');
      assert.deepEqual(mine.map((c) => c.name).length, readings.length, device.physical_id);
      assert.equal(new Set(mine.map((c) => c.state_topic)).size, 1);
    }
  });

  it('renders every value_template against its state message to the simulator\'s reading', () => {
    const configs = [...ha.latest(isConfig).values()].map((m) => JSON.parse(m.payload) as Config);
    const states = ha.latest((m) => m.topic.endsWith('/state'));
    let rendered = 0;
    for (const config of configs) {
      const state = states.get(config.state_topic);
      assert.ok(state, `no state on ${config.state_topic}`);
      const value = nunjucks.renderString(config.value_template, { value_json: JSON.parse(state.payload) });
      const physicalId = config.device.identifiers[0].replace(/^leapcraft_/, '');
      if (served.has(physicalId)) {
        const key = Object.keys(served.get(physicalId)!).find((k) => config.value_template === `{{ value_json.${k} }}`);
        assert.ok(key, `${config.value_template}: no reading of ${physicalId}`);
        assert.equal(value, String(served.get(physicalId)![key]), `${config.unique_id}`);
      } else {
        // A gateway: the number of its sensors in the simulator.
        assert.equal(value, String(sim.devices().filter((d) => `leapcraft-gateway_${d.topology_id}` === config.device.identifiers[0]).length), config.unique_id);
      }
      rendered++;
    }
    assert.equal(rendered, configs.length);
    // Availability: every device and the bridge online.
    const availability = ha.latest((m) => m.topic.endsWith('/availability'));
    assert.equal(availability.get('leapcraft/bridge/availability')?.payload, 'online');
    assert.equal([...availability.values()].filter((m) => m.payload === 'online').length, devices.length + 1);

    for (const device of [airbird, ambinode]) {
      const mine = configs.filter((c) => c.device.identifiers[0] === `leapcraft_${device.physical_id}`);
      console.log(`      entities of ${device.type === 'airbird' ? 'AirBird' : 'Ambinode'} "${device.name}" (${device.physical_id}), model ${mine[0].device.model}, via ${mine[0].device.via_device}:`);
      for (const c of mine) {
        console.log(`        ${c.unique_id.padEnd(52)} ${String(c.device_class ?? '-').padEnd(15)} ${String(c.unit_of_measurement ?? '-').padEnd(6)} ${c.state_class ?? '-'}${c.entity_category ? ` (${c.entity_category})` : ''}`);
      }
    }
  });

  it('keeps configs, states and availability retained: a fresh client gets them all', async () => {
    const expected = ha.latest((m) => m.payload !== '');
    const fresh = await Watcher.connect(mosquitto.broker.url);
    watchers.push(fresh);
    await fresh.waitFor(() => fresh.got.length >= expected.size, 'the retained messages');
    await fresh.quiet(300);
    assert.ok(fresh.got.every((m) => m.retain), 'all delivered as retained');
    assert.deepEqual(
      [...fresh.latest().entries()].map(([t, m]) => [t, m.payload]).sort(),
      [...expected.entries()].map(([t, m]) => [t, m.payload]).sort(),
    );
    await fresh.end();
  });

  it('announces every config again after Home Assistant\'s birth message on homeassistant/status', async () => {
    const configs = ha.latest(isConfig);
    const from = ha.got.length;
    const sentAt = Date.now();
    await ha.client.publishAsync('homeassistant/status', 'online', { qos: 1 });
    await ha.waitFor(() => [...configs.keys()].every((t) => ha.got.slice(from).some((m) => m.topic === t)), 'the re-announcement');
    const again = ha.got.slice(from).filter(isConfig);
    assert.ok(again[0].at - sentAt >= 900, `after the random delay (1 s here): ${again[0].at - sentAt} ms`);
    assert.deepEqual(again.map((m) => m.topic).sort(), [...configs.keys()].sort(), 'each config once');
    for (const m of again) assert.equal(m.payload, configs.get(m.topic)!.payload, 'the same config');
  });

  it('the remove action publishes empty retained configs: a fresh client then gets no config', async () => {
    const configs = ha.latest(isConfig);
    const from = ha.got.length;
    (helper.getNode('ha') as TestNode).receive({ action: 'remove' } as never);
    await ha.waitFor(() => [...configs.keys()].every((t) => ha.got.slice(from).some((m) => m.topic === t && m.payload === '')), 'the empty configs');
    await ha.quiet(300);
    const fresh = await Watcher.connect(mosquitto.broker.url);
    watchers.push(fresh);
    // The bridge's own availability stays; nothing of the devices does.
    await fresh.waitFor(() => fresh.got.some((m) => m.topic === 'leapcraft/bridge/availability'), 'the bridge availability');
    await fresh.quiet(400);
    assert.deepEqual(fresh.got.map((m) => m.topic), ['leapcraft/bridge/availability']);
    await fresh.end();
  });
});
