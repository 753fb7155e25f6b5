/**
 * The Home Assistant bridge through a real broker: Debian's Mosquitto on a free loopback port
 * (test/support/mosquitto.ts), the flow leapcraft-config → leapcraft-telemetry →
 * leapcraft-homeassistant → core `mqtt out`, with core `mqtt in` on homeassistant/status and a
 * Status node on the mqtt out node wired back into the bridge, polling the simulator. An
 * mqtt.js client subscribed to homeassistant/# and leapcraft/# plays Home Assistant: it checks
 * every config against Home Assistant's discovery schema (test/support/ha-discovery-schema.ts),
 * renders every template (nunjucks, for Home Assistant's Jinja2) against the state and gets the
 * simulator's reading back, finds everything retained with a fresh connection, publishes a
 * birth message, and sees the remove action leave nothing retained.
 *
 * Twice: a node saved before device-based discovery existed (per-entity discovery, as it always
 * was), and a new node (device-based discovery) with leapcraft-notifications wired in: one
 * retained config per device, alerts as events, `last seen`, the bridge's health, the clean-up of
 * a device removed from the simulator's estate. And the count of retained discovery messages for
 * 1,000 simulated devices in both forms.
 */
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { HA_ALERT_EVENT_TYPES, haBridgeOptions, haDeviceKey, HaGatewayIndex, HomeAssistantBridge, parseHaInput, parseHaSettings } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import type { DeviceListItem } from '../../simulator';
import { deviceComponents, deviceConfigProblems, isDeviceConfigTopic, isEntityConfigTopic, renderTemplate, schemaProblems } from '../support/ha-discovery-schema';
import { useMosquitto } from '../support/mosquitto';
import { Received, Watcher } from '../support/mqtt-watcher';
import { NodeWork } from '../support/node-clock';
import { catchNode, helper, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import haNode = require('../../nodes/leapcraft-homeassistant');
import notificationsNode = require('../../nodes/leapcraft-notifications');

type Config = Record<string, any>;
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const statusNode = require('@node-red/nodes/core/common/25-status.js');

const isConfig = (m: Received) => /^homeassistant\/.+\/config$/.test(m.topic);

/**
 * Everything the flow has published has reached `watcher`: no msg left between nodes or request
 * under way, then a marker sent through the flow's own broker connection (the mqtt out node),
 * behind the bridge's messages.
 */
async function published(work: NodeWork, watcher: Watcher): Promise<void> {
  await work.idle();
  await watcher.sync((topic, payload) => (helper.getNode('out') as TestNode).receive({ topic, payload, qos: 1, retain: false } as never));
}
/** The bridge's own device and its health. */
const isBridgeOwn = (topic: string) => topic.includes('/leapcraft-bridge_') || topic === 'leapcraft/bridge/state';

/** The flow of examples/home-assistant.json, against the simulator and the test's broker. */
function brokerFlow(sim: LeapcraftSimulator, port: number, devices: DeviceListItem[], ha: Record<string, unknown>, extra: Array<Record<string, unknown>> = []) {
  return [
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
      birthTopic: 'homeassistant/status', interval: 60, qos: '1', announceDelay: 1, wires: [['out']], ...ha,
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
    ...extra,
  ];
}

describe('Home Assistant bridge through a real Mosquitto broker (a node saved before device-based discovery: per entity)', function () {
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
  let work: NodeWork;

  before(async function () {
    work = new NodeWork();
    sim = new LeapcraftSimulator({ deviceCount: 6 });
    await sim.start();
    // An AirBird, an Ambinode (MAC-like ids) and the free-form testsim00004 (an Ambinode).
    devices = sim.devices().filter((d, i) => i === 0 || i === 1 || d.physical_id === 'testsim00004');
    airbird = devices.find((d) => d.type === 'airbird')!;
    ambinode = devices.find((d) => d.type === 'ambinode')!;
    ha = await Watcher.connect(mosquitto.broker.url);
    watchers.push(ha);
    const { port } = mosquitto.broker;
    await helper.load([configNode, telemetryNode, haNode, mqttNodes, statusNode, catchNode] as never, brokerFlow(sim, port, devices, {}) as never, { acct: { apiKey: sim.apiKey } } as never);
    (helper.getNode('served') as TestNode).on('input', (msg: Record<string, unknown>) => {
      const payload = msg.payload as { physical_id: string; data: Record<string, unknown> };
      served.set(payload.physical_id, payload.data);
    });
    // Connected: the Status node's re-announce puts the bridge online.
    await ha.waitFor(() => ha.got.some((m) => m.topic === 'leapcraft/bridge/availability' && m.payload === 'online'), 'the bridge online');
    (helper.getNode('tel') as TestNode).receive({} as never);
    await ha.waitFor(() => served.size === devices.length && ha.latest((m) => /^leapcraft\/device\/[^/]+\/state$/.test(m.topic)).size === devices.length, 'a state per device');
    await published(work, ha);
  });

  after(async () => {
    work?.stop();
    for (const w of watchers) await w.end().catch(() => undefined);
    await helper.unload();
    await sim?.stop();
  });

  it('publishes a config for every reading that Home Assistant\'s discovery schema accepts', () => {
    const configs = [...ha.latest(isConfig).values()];
    assert.ok(configs.every((m) => isEntityConfigTopic(m.topic)), 'per entity only');
    const problems = configs.flatMap((m) => schemaProblems(m.topic, JSON.parse(m.payload) as Config));
    assert.deepEqual(problems, []);
    const parsed = configs.map((m) => JSON.parse(m.payload) as Config);
    assert.equal(new Set(parsed.map((c) => c.unique_id)).size, parsed.length, 'unique ids are unique');
    // Every via_device names a device that is announced too (the gateways).
    const identifiers = new Set(parsed.flatMap((c) => c.device.identifiers as string[]));
    for (const c of parsed) if (c.device.via_device !== undefined) assert.ok(identifiers.has(c.device.via_device), `via_device ${c.device.via_device} is not announced`);
    assert.ok(parsed.some((c) => c.device.via_device), 'sensors are linked to their gateways');
    // One entity per reading of each device (meta is not one), and its last seen and alert, on each device's own node id.
    for (const device of devices) {
      const mine = configs.filter((m) => JSON.parse(m.payload).device.identifiers[0] === `leapcraft_${device.physical_id}`);
      const readings = Object.keys(served.get(device.physical_id)!).filter((k) => k !== 'meta');
      assert.equal(mine.length, readings.length + 2, device.physical_id);
      assert.deepEqual(mine.filter((m) => !/\/(last_seen|alert)\/config$/.test(m.topic)).map((m) => m.topic.split('/')[3]).sort(), [...readings].sort());
      assert.equal(new Set(mine.filter((m) => m.topic.startsWith('homeassistant/sensor/')).map((m) => JSON.parse(m.payload).state_topic)).size, 1);
    }
  });

  it('renders every value_template against its state message to the simulator\'s reading', () => {
    const configs = [...ha.latest(isConfig).values()].map((m) => JSON.parse(m.payload) as Config).filter((c) => c.value_template);
    const states = ha.latest((m) => m.topic.endsWith('/state'));
    let rendered = 0;
    for (const config of configs) {
      const state = states.get(config.state_topic);
      assert.ok(state, `no state on ${config.state_topic}`);
      const value = renderTemplate(config.value_template, JSON.parse(state.payload));
      const physicalId = config.device.identifiers[0].replace(/^leapcraft_/, '');
      if (config.device_class === 'timestamp') {
        assert.match(value, ISO_TIME, `${config.unique_id} renders to an ISO time`);
      } else if (config.device.model === 'Node-RED bridge') {
        assert.notEqual(value, '', config.unique_id);
      } else if (served.has(physicalId)) {
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
      const mine = configs.filter((c) => c.device.identifiers[0] === `leapcraft_${device.physical_id}` && c.device_class !== 'timestamp');
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
    await fresh.sync();
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
    await published(work, ha);
    const fresh = await Watcher.connect(mosquitto.broker.url);
    watchers.push(fresh);
    // The bridge's own availability stays; nothing of the devices does.
    await fresh.sync();
    // The bridge's own device went too: nothing but its availability is left.
    assert.deepEqual(fresh.got.map((m) => m.topic), ['leapcraft/bridge/availability']);
    await fresh.end();
  });
});

describe('Home Assistant bridge through a real Mosquitto broker (a new node: device-based discovery, alerts, health, clean-up)', function () {
  this.timeout(120_000);
  const mosquitto = useMosquitto();
  let sim: LeapcraftSimulator;
  /** An AirBird and an Ambinode, each behind a gateway with a name. */
  let sensors: DeviceListItem[];
  let ha: Watcher;
  const watchers: Watcher[] = [];
  const served = new Map<string, Record<string, unknown>>();
  let work: NodeWork;
  const deviceTopic = (d: DeviceListItem) => `homeassistant/device/leapcraft_${haDeviceKey(d.physical_id)}/config`;

  /** What Home Assistant would find on connecting: every retained message under homeassistant/ and leapcraft/. */
  async function retained(): Promise<Map<string, Received>> {
    const fresh = await Watcher.connect(mosquitto.broker.url);
    watchers.push(fresh);
    await fresh.sync();
    assert.ok(fresh.got.length > 0, 'the retained messages');
    assert.ok(fresh.got.every((m) => m.retain));
    const latest = fresh.latest();
    await fresh.end();
    return latest;
  }

  before(async function () {
    sim = new LeapcraftSimulator({ deviceCount: 6 });
    await sim.start();
    sensors = sim.devices().slice(0, 2);
    work = new NodeWork();
    assert.deepEqual(sensors.map((d) => d.type).sort(), ['airbird', 'ambinode']);
    ha = await Watcher.connect(mosquitto.broker.url);
    watchers.push(ha);
    const { port } = mosquitto.broker;
    const flow = brokerFlow(sim, port, sensors, { discovery: 'device', removeAfter: 2, removeAfterUnit: 's', store: '' }, [
      // Each new alert of the account becomes an event in Home Assistant.
      { id: 'ntf', type: 'leapcraft-notifications', z: 'tab', x: 100, y: 380, account: 'acct', interval: 1, physicalId: '', emitExisting: false, store: '', wires: [['ha']] },
    ]);
    await helper.load([configNode, telemetryNode, haNode, notificationsNode, mqttNodes, statusNode, catchNode] as never, flow as never, { acct: { apiKey: sim.apiKey } } as never);
    (helper.getNode('served') as TestNode).on('input', (msg: Record<string, unknown>) => {
      const payload = msg.payload as { physical_id: string; data: Record<string, unknown> };
      served.set(payload.physical_id, payload.data);
    });
    await ha.waitFor(() => ha.got.some((m) => m.topic === 'leapcraft/bridge/availability' && m.payload === 'online'), 'the bridge online');
    (helper.getNode('tel') as TestNode).receive({} as never);
    await ha.waitFor(() => served.size === sensors.length && ha.latest((m) => /^leapcraft\/device\/[^/]+\/state$/.test(m.topic)).size === sensors.length, 'a state per device');
    await published(work, ha);
  });

  after(async () => {
    work?.stop();
    for (const w of watchers) await w.end().catch(() => undefined);
    await helper.unload();
    await sim?.stop();
  });

  it('Home Assistant\'s view: one retained device-based config per device, the gateways\' and the bridge\'s; each component passes the discovery checks; suggested_area set', async () => {
    const view = await retained();
    const configs = [...view.values()].filter((m) => m.topic.startsWith('homeassistant/') && m.payload !== '');
    assert.ok(configs.every((m) => isDeviceConfigTopic(m.topic)), `device-based only: ${configs.map((m) => m.topic).join(', ')}`);
    const gateways = new Set(sensors.map((d) => d.topology_id));
    assert.equal(configs.length, sensors.length + gateways.size + 1, 'a config per sensor, per gateway, and the bridge\'s');
    for (const d of sensors) assert.ok(view.get(deviceTopic(d))?.payload, `one config for ${d.physical_id}`);
    assert.ok(view.get('homeassistant/device/leapcraft-bridge_leapcraft/config')?.payload, 'the bridge\'s');
    const problems = configs.flatMap((m) => deviceConfigProblems(m.topic, JSON.parse(m.payload)));
    assert.deepEqual(problems, []);
    const uniqueIds = configs.flatMap((m) => deviceComponents(m.topic, JSON.parse(m.payload)).map((c) => c.config!.unique_id));
    assert.equal(new Set(uniqueIds).size, uniqueIds.length, 'unique ids are unique');
    for (const d of sensors) {
      const config = JSON.parse(view.get(deviceTopic(d))!.payload);
      const gateway = JSON.parse(view.get(`homeassistant/device/leapcraft-gw_${haDeviceKey(String(d.topology_id))}/config`)!.payload);
      assert.equal(config.dev.via_device, gateway.dev.ids[0], 'linked to its gateway, which is announced too');
      assert.equal(config.dev.sa, gateway.dev.name, 'suggested_area: the gateway\'s name');
      const readings = Object.keys(served.get(d.physical_id)!).filter((k) => k !== 'meta');
      assert.deepEqual(Object.keys(config.cmps).sort(), [...readings, 'last_seen', 'alert'].sort());
      assert.deepEqual(config.cmps.alert.evt_typ, [...HA_ALERT_EVENT_TYPES]);
    }
    const airbird = sensors.find((d) => d.type === 'airbird')!;
    console.log(`      one device-based config as Home Assistant receives it (${deviceTopic(airbird)}, retained, ${view.get(deviceTopic(airbird))!.payload.length} bytes):`);
    console.log(JSON.stringify(JSON.parse(view.get(deviceTopic(airbird))!.payload), null, 2).replace(/^/gm, '        '));
  });

  it('every template renders against its state: readings to the simulator\'s, last seen to an ISO time, the bridge\'s health', async () => {
    const view = await retained();
    const configs = [...view.values()].filter((m) => isDeviceConfigTopic(m.topic) && m.payload !== '');
    let rendered = 0;
    for (const m of configs) {
      for (const c of deviceComponents(m.topic, JSON.parse(m.payload))) {
        const config = c.config!;
        if (c.platform === 'event') continue;
        const state = view.get(config.state_topic);
        assert.ok(state, `no retained state on ${config.state_topic}`);
        const json = JSON.parse(state.payload);
        const value = renderTemplate(config.value_template, json);
        const physicalId = config.device.identifiers[0].replace(/^leapcraft_/, '');
        if (config.device_class === 'timestamp') assert.match(value, ISO_TIME, `${config.unique_id}: an ISO time`);
        else if (served.has(physicalId)) assert.equal(value, String(served.get(physicalId)![c.id]), config.unique_id);
        else if (c.id === 'sensors') assert.match(value, /^\d+$/);
        else if (c.platform === 'binary_sensor') assert.ok(['ON', 'OFF'].includes(value), `${config.unique_id}: ${value}`);
        else assert.match(value, /^\d+$/, config.unique_id);
        if (config.json_attributes_template) assert.deepEqual(JSON.parse(renderTemplate(config.json_attributes_template, json)), {}, 'reachable: no problem');
        rendered++;
      }
    }
    assert.equal(rendered, sensors.length * 6 - 1 + 2 + 4, 'every reading, last seen, the gateways\' counts, the bridge\'s four');
    const health = JSON.parse(view.get('leapcraft/bridge/state')!.payload);
    assert.deepEqual([health.api, health.rate_limited], ['ON', 'OFF']);
    assert.match(health.last_poll, ISO_TIME);
    const availability = [...view.values()].filter((m) => m.topic.endsWith('/availability'));
    assert.equal(availability.filter((m) => m.payload === 'online').length, sensors.length + 1, 'every device and the bridge online');
  });

  it('an alert raised in the simulator arrives as one event of its device\'s event entity', async () => {
    // The first alert check done (the backlog recorded): the second has begun.
    const checks = () => sim.stats.requests.filter((r) => r.endpoint === 'notifications').length;
    await ha.waitFor(() => checks() >= 2, 'the second alert check');
    const [target] = sensors;
    const from = ha.got.length;
    const raised = sim.raiseAlert({ physical_id: target.physical_id, type: 'co2_high', value: 1480, threshold: 1000 });
    const eventTopic = `leapcraft/device/${haDeviceKey(target.physical_id)}/alert`;
    await ha.waitFor(() => ha.got.slice(from).some((m) => m.topic === eventTopic), 'the event');
    // Two more checks (a second apart), and all they led to published: none may send it again.
    const seen = checks();
    await ha.waitFor(() => checks() >= seen + 2, 'two more alert checks');
    await published(work, ha);
    const events = ha.got.slice(from).filter((m) => /\/alert$/.test(m.topic));
    assert.equal(events.length, 1, 'one event');
    assert.equal(events[0].topic, eventTopic, 'on the event entity of the alert\'s device');
    assert.equal(events[0].retain, false);
    const event = JSON.parse(events[0].payload);
    const config = JSON.parse((await retained()).get(deviceTopic(target))!.payload);
    assert.equal(config.cmps.alert.stat_t, eventTopic);
    assert.ok(config.cmps.alert.evt_typ.includes(event.event_type));
    assert.deepEqual({ event_type: event.event_type, id: event.id, physical_id: event.physical_id, value: event.value, threshold: event.threshold, message: event.message },
      { event_type: 'co2_high', id: raised.id, physical_id: target.physical_id, value: 1480, threshold: 1000, message: raised.message });
    assert.ok(!events[0].payload.includes(sim.apiKey));
    console.log(`      the event on ${eventTopic}: ${events[0].payload}`);
  });

  it('removing a device from the simulator\'s estate empties its retained configs after the grace period (2 s here)', async () => {
    const [stays, leaves] = sensors;
    sim.set({ deviceCount: 1 });
    assert.deepEqual(sim.devices().map((d) => d.physical_id), [stays.physical_id]);
    const from = ha.got.length;
    const polledAt = Date.now();
    // Its next poll answers "not found"; the Catch node tells the bridge, which reads the device list.
    (helper.getNode('tel') as TestNode).receive({} as never);
    await ha.waitFor(() => ha.got.slice(from).some((m) => m.topic === deviceTopic(leaves) && m.payload === ''), 'the empty config', 15_000);
    const after = ha.got.slice(from).find((m) => m.topic === deviceTopic(leaves) && m.payload === '')!.at - polledAt;
    assert.ok(after >= 1900, `after the grace period: ${after} ms`);
    await published(work, ha);
    const view = await retained();
    const key = haDeviceKey(leaves.physical_id);
    assert.deepEqual([...view.keys()].filter((t) => t.includes(key)), [], 'nothing of it retained');
    assert.ok(view.get(deviceTopic(stays))?.payload, 'the other device stays');
    console.log(`      removed ${after} ms after the poll that found it gone (grace period 2 s)`);
  });

  it('counts the retained discovery messages for 1,000 simulated devices in both forms', async () => {
    const estate = new LeapcraftSimulator({ deviceCount: 1000 });
    const list = estate.devices();
    const gateways = [...new Set(list.map((d) => String(d.topology_id)))];
    const client = await mqtt.connectAsync(mosquitto.broker.url, { clean: true, reconnectPeriod: 0 });
    const counts: Record<string, number> = {};
    try {
      for (const mode of ['device', 'entity'] as const) {
        const prefix = `count_${mode}`;
        const bridge = new HomeAssistantBridge(haBridgeOptions(parseHaSettings({ discovery: mode, discoveryPrefix: prefix, baseTopic: `${prefix}_base` })));
        const msgs = [
          ...bridge.announceBridge(0),
          ...bridge.setGatewayIndex(new HaGatewayIndex(gateways.map((g, i) => ({ gateway_id: g, name: `Gateway ${i + 1}F` })))),
          // The account's device list: every device with its model's readings.
          ...bridge.apply(parseHaInput({ payload: list }, 'homeassistant/status'), 0).messages,
        ];
        for (let i = 0; i < msgs.length; i += 500) {
          await Promise.all(msgs.slice(i, i + 500).map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: m.retain })));
        }
        // QoS 0, as Home Assistant subscribes to discovery: at QoS 1 the broker would queue at most 1,000 (Mosquitto's max_queued_messages).
        const fresh = await Watcher.connect(mosquitto.broker.url, [`${prefix}/#`], 0);
        watchers.push(fresh);
        await fresh.sync();
        counts[mode] = [...fresh.latest((m) => m.retain && m.payload !== '' && m.topic.endsWith('/config')).keys()].length;
        await fresh.end();
      }
    } finally {
      await client.endAsync();
    }
    const airbirds = list.filter((d) => d.type === 'airbird').length;
    const ambinodes = list.length - airbirds;
    assert.equal(counts.device, list.length + gateways.length + 1, 'one per device, per gateway, and the bridge\'s');
    assert.equal(counts.entity, airbirds * (4 + 2) + ambinodes * (5 + 2) + gateways.length + 5, 'one per entity');
    console.log(`      retained discovery messages for ${list.length} devices: device mode ${counts.device}, per-entity mode ${counts.entity}`);
  });
});
