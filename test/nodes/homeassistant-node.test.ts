/**
 * leapcraft-homeassistant in Node-RED (the test helper), fed by a real leapcraft-telemetry
 * node polling the simulator over 127.0.0.1: what it announces, when it announces again,
 * availability (failed polls through a Catch node, stale data), birth messages, removal,
 * bad input, its settings and its lifecycle; then device-based discovery with a
 * leapcraft-notifications node wired in (alerts as events), the bridge's health and the
 * clean-up of devices that left the account. The flows without a `discovery` setting are
 * nodes saved before device-based discovery existed: they keep per-entity discovery.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import vm from 'node:vm';
import { haDeviceKey, haTopicSetting, integerInRange, parseHaSettings } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import type { DeviceListItem } from '../../simulator';
import { NodeClock } from '../support/node-clock';
import { catchNode, collect, helper, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import haNode = require('../../nodes/leapcraft-homeassistant');
import notificationsNode = require('../../nodes/leapcraft-notifications');
import { deviceConfigProblems, isDeviceConfigTopic, isEntityConfigTopic, renderTemplate } from '../support/ha-discovery-schema';

const NODES = [configNode, telemetryNode, haNode, notificationsNode, catchNode];
type Msg = Record<string, unknown> & { topic: string; payload: string; kind: string };
type Config = Record<string, unknown> & { unique_id: string; device: Record<string, unknown>; availability: Array<{ topic: string }> };

type Spied = { getCalls(): Array<{ thisValue: unknown; args: unknown[] }> };
/** Calls of a Node method the test helper spies on (on the prototype: every node's calls are in one spy). */
function callsOf(node: TestNode, method: 'send' | 'status'): unknown[][] {
  return ((node as unknown as Record<string, Spied>)[method]).getCalls().filter((c) => c.thisValue === node).map((c) => c.args);
}
function lastStatus(node: TestNode): { fill?: string; text?: string } {
  const calls = callsOf(node, 'status');
  return (calls[calls.length - 1]?.[0] ?? {}) as { fill?: string; text?: string };
}

const configsOf = (msgs: Msg[]) => msgs.filter((m) => m.kind === 'config');
const parsed = (m: Msg) => JSON.parse(m.payload) as Config;
/** The configs of sensors' readings: not their `last seen` and `alert`, not the gateways' or the bridge's own. */
const readingConfigsOf = (msgs: Msg[]) => configsOf(msgs).filter((m) => m.physical_id && !/\/(last_seen|alert)\/config$/.test(m.topic));
/** The bridge's own device and health (announced when the flows start and with every announcement). */
const isBridgeOwn = (m: { topic?: unknown }) => typeof m.topic === 'string' && (m.topic.includes('/leapcraft-bridge_') || m.topic === 'leapcraft/bridge/state');

describe('leapcraft-homeassistant node', function () {
  this.timeout(30_000);
  let sim: LeapcraftSimulator;
  let airbird: DeviceListItem;
  let ambinode: DeviceListItem;
  /**
   * Simulated time, shared with the simulator: it moves on only once the bridge's and the
   * telemetry node's requests are answered and their msgs delivered, so what a msg or a timer
   * leads to is all there when a test looks, and a delay is exactly its length.
   */
  let time: NodeClock;

  beforeEach(async () => {
    time = new NodeClock();
    sim = new LeapcraftSimulator({ deviceCount: 6, now: () => Date.now() });
    await sim.start();
    airbird = sim.devices().find((d) => d.type === 'airbird')!;
    ambinode = sim.devices().find((d) => d.type === 'ambinode')!;
  });
  afterEach(async () => {
    time.stop();
    await helper.unload();
    await sim.stop();
  });

  /**
   * The telemetry node feeding the bridge, and one Catch node: for the bridge's own errors
   * (`caught`), or with `catchPolls` for the telemetry node's, wired back into the bridge. (The
   * test helper loads a core module once per node of its type: two Catch nodes would register twice.)
   */
  function flow(ha: Record<string, unknown> = {}, tel: Record<string, unknown> = {}, catchPolls = false) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 100, y: 100, account: 'acct', devices: `${airbird.physical_id}, ${ambinode.physical_id}`,
        telemetryType: 'latest', resolution: 'daily', from: '-7d', to: 'now', interval: 0, output: 'device', changesOnly: false, blockOverrides: false,
        wires: [['ha']], ...tel,
      },
      {
        id: 'ha', type: 'leapcraft-homeassistant', z: 'tab', x: 300, y: 100, account: 'acct', discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft',
        birthTopic: 'homeassistant/status', interval: 60, qos: '1', announceDelay: 0, wires: [['out']], ...ha,
      },
      { id: 'out', type: 'helper', z: 'tab', x: 500, y: 100 },
      catchPolls
        // A failed poll of the telemetry node tells the bridge that device is offline.
        ? { id: 'catchTel', type: 'catch', z: 'tab', x: 100, y: 200, scope: ['tel'], uncaught: false, wires: [['ha']] }
        : { id: 'catchHa', type: 'catch', z: 'tab', x: 100, y: 300, scope: ['ha'], uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 300 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const out = () => helper.getNode('out') as TestNode;
  const ha = () => helper.getNode('ha') as TestNode;
  /** Collects the msgs the bridge sends from now on; `stop` ends it. */
  const listen = () => {
    const got: Msg[] = [];
    const onInput = (msg: Record<string, unknown>) => got.push(msg as Msg);
    out().on('input', onInput);
    return { got, stop: () => out().removeListener('input', onInput) };
  };
  /**
   * The msgs the bridge sends after `act`: what it leads to (requests answered, msgs delivered,
   * timers due at once) and what the next `ms` of simulated time bring.
   */
  const output = async (act: () => void, ms = 1): Promise<Msg[]> => {
    const { got, stop } = listen();
    try {
      act();
      await time.run(ms);
    } finally {
      stop();
    }
    return got;
  };
  /** The msgs the bridge sends after `act` until `done` says it has enough; fails after `maxMs` of simulated time. */
  const until = async (done: (got: Msg[]) => boolean, maxMs: number, what: string, act: () => void = () => undefined): Promise<Msg[]> => {
    const { got, stop } = listen();
    try {
      act();
      await time.until(() => done(got), maxMs, what);
    } finally {
      stop();
    }
    return got;
  };
  const poll = (msg: Record<string, unknown> = {}) => (helper.getNode('tel') as TestNode).receive(msg as never);

  describe('announcing', () => {
    it('announces each device once (gateway first, then its entities), sets it online, publishes its state; later polls send states only', async () => {
      await helper.load(NODES, flow(), creds());
      const first = await output(() => poll());
      for (const m of first) {
        assert.equal(m.retain, true, m.topic);
        assert.equal(m.qos, 1, m.topic);
        assert.equal(typeof m.payload, 'string');
        assert.ok(!JSON.stringify(m).includes(sim.apiKey), 'the API key leaked into a msg');
      }
      const bridgeOnline = first.filter((m) => m.topic === 'leapcraft/bridge/availability');
      assert.ok(bridgeOnline.length <= 1);
      const configs = configsOf(first).map(parsed);
      const sensorConfigs = readingConfigsOf(first).map(parsed);
      // AirBird: co2, temperature, humidity, battery; Ambinode: co2, temperature, humidity, pm2_5, noise.
      assert.equal(sensorConfigs.length, 9);
      // And each its `last seen` and `alert`.
      assert.equal(configsOf(first).filter((m) => m.physical_id && /\/(last_seen|alert)\/config$/.test(m.topic)).length, 4);
      assert.equal(new Set(sensorConfigs.map((c) => c.unique_id)).size, 9, 'unique ids are unique');
      for (const [device, keys] of [[airbird, ['co2', 'temperature', 'humidity', 'battery']], [ambinode, ['co2', 'temperature', 'humidity', 'pm2_5', 'noise']]] as const) {
        const mine = sensorConfigs.filter((c) => (c.device.identifiers as string[])[0] === `leapcraft_${device.physical_id}`);
        assert.deepEqual(mine.map((c) => c.value_template).sort(), keys.map((k) => `{{ value_json.${k} }}`).sort());
        for (const c of mine) {
          assert.equal(c.device.name, device.name);
          assert.equal(c.device.model, device.type === 'airbird' ? 'AirBird' : 'Ambinode');
          assert.equal(c.device.serial_number, device.serial);
          assert.equal(c.device.via_device, `leapcraft-gateway_${device.topology_id}`, 'linked to its gateway from the topology');
        }
        // The gateway's config goes out before the first entity that names it.
        const gatewayAt = first.findIndex((m) => m.kind === 'config' && m.gateway_id === device.topology_id);
        const sensorAt = first.findIndex((m) => m.kind === 'config' && m.physical_id === device.physical_id);
        assert.ok(gatewayAt !== -1 && gatewayAt < sensorAt, `gateway ${gatewayAt} before sensor ${sensorAt}`);
        const avail = first.filter((m) => m.kind === 'availability' && m.physical_id === device.physical_id);
        assert.deepEqual(avail.map((m) => m.payload), ['online']);
        const states = first.filter((m) => m.kind === 'state' && m.physical_id === device.physical_id);
        assert.equal(states.length, 1);
        assert.deepEqual(Object.keys(JSON.parse(states[0].payload)).sort(), [...keys, 'last_seen'].sort());
      }
      const gateways = configs.filter((c) => c.device.model === 'Gateway');
      assert.equal(gateways.length, new Set([airbird.topology_id, ambinode.topology_id]).size);

      const second = await output(() => poll());
      assert.deepEqual(second.map((m) => m.kind).sort(), ['state', 'state'], 'nothing announced twice');
      assert.match(String(lastStatus(ha()).text), /^leapcraft-homeassistant\.status\.announced/);
      // The gateways were read once (list + details), not per msg.
      const topologyRequests = sim.stats.requests.filter((r) => r.endpoint === 'topologies' || r.endpoint === 'topology');
      assert.equal(topologyRequests.length, 1 + 3);
    });

    it('without an account: no topology request and no via_device, unless msg.device names a gateway', async () => {
      await helper.load(NODES, flow({ account: '' }), creds());
      const msgs = await output(() => poll());
      assert.equal(sim.stats.requests.filter((r) => r.endpoint === 'topologies').length, 0);
      const configs = configsOf(msgs).map(parsed);
      assert.equal(readingConfigsOf(msgs).length, 9);
      assert.ok(configs.every((c) => c.device.via_device === undefined));

      const withGateway = await output(() => ha().receive({
        payload: { physical_id: 'room-1', data: { co2: 500 } }, device: { name: 'Room 1', type: 'airbird', gateway_id: 'gw-7' },
      } as never));
      const gatewayConfig = withGateway.find((m) => m.kind === 'config' && m.gateway_id === 'gw-7');
      assert.ok(gatewayConfig, 'the gateway is announced as a device');
      assert.equal(parsed(gatewayConfig!).device.name, 'Unnamed gateway gw-7', 'named as the dashboard example names an unnamed gateway');
      const room = configsOf(withGateway).filter((m) => m.physical_id === 'room-1').map(parsed);
      assert.ok(room.length >= 1 && room.every((c) => c.device.via_device === 'leapcraft-gateway_gw-7'));
    });

    it('takes the telemetry node\'s "one array per poll" output too', async () => {
      await helper.load(NODES, flow({ account: '' }, { output: 'array' }), creds());
      const msgs = await output(() => poll());
      assert.equal(readingConfigsOf(msgs).length, 9);
      assert.deepEqual(msgs.filter((m) => m.kind === 'state' && !isBridgeOwn(m)).map((m) => m.physical_id).sort(), [airbird.physical_id, ambinode.physical_id].sort());
    });

    it('announces only a new reading key; a new device name announces the device again', async () => {
      await helper.load(NODES, flow({ account: '' }), creds());
      const send = (data: Record<string, unknown>, device?: Record<string, unknown>) => output(() => ha().receive({
        payload: { physical_id: 'x-1', timestamp: '2026-03-29T15:24:05Z', data: { ...data, meta: { firmware: '1.0' } } }, ...(device ? { device } : {}),
      } as never), 200);
      const a = await send({ co2: 500, temperature: 21 });
      assert.equal(readingConfigsOf(a).length, 2);
      const b = await send({ co2: 510, temperature: 21, light_level: 300 });
      assert.deepEqual(configsOf(b).map((m) => parsed(m).name), ['Light level']);
      const stateOf = (msgs: Msg[]) => JSON.parse(msgs.find((m) => m.kind === 'state' && m.physical_id)!.payload);
      const at = '2026-03-29T15:24:05Z';
      assert.deepEqual(stateOf(b), { co2: 510, temperature: 21, light_level: 300, last_seen: at });
      const c = await send({ co2: 520 });
      assert.equal(configsOf(c).length, 0);
      assert.deepEqual(stateOf(c), { co2: 520, temperature: null, light_level: null, last_seen: at }, 'a missing key is null (unknown), not the old value');
      const d = await send({ co2: 530 }, { name: 'Kitchen', type: 'airbird' });
      assert.equal(readingConfigsOf(d).length, 3, 'all three entities again, with the new device block');
      assert.ok(configsOf(d).map(parsed).every((cfg) => cfg.device.name === 'Kitchen' && cfg.device.model === 'AirBird' && cfg.device.sw_version === '1.0'));
    });

    it('a device list announces each device with its model\'s readings before the first reading', async () => {
      await helper.load(NODES, flow({ account: '' }), creds());
      const msgs = await output(() => ha().receive({ payload: sim.devices() } as never));
      const airbirds = sim.devices().filter((d) => d.type === 'airbird').length;
      const ambinodes = sim.devices().filter((d) => d.type === 'ambinode').length;
      assert.equal(readingConfigsOf(msgs).length, airbirds * 4 + ambinodes * 5);
      assert.equal(msgs.filter((m) => m.kind !== 'config' && m.physical_id).length, 0, 'no state and no availability before a reading');
      // The first reading brings the firmware (data.meta.firmware) into the device block: the polled
      // devices are announced again, once; the next reading adds nothing.
      const next = await output(() => poll());
      assert.deepEqual([...new Set(configsOf(next).map((m) => m.physical_id))].sort(), [airbird.physical_id, ambinode.physical_id].sort());
      assert.equal(readingConfigsOf(next).length, 9);
      assert.ok(configsOf(next).map(parsed).every((c) => typeof c.device.sw_version === 'string'));
      const after = await output(() => poll());
      assert.equal(configsOf(after).length, 0);
    });
  });

  describe('availability', () => {
    it('a failed poll (through a Catch node) sets that device offline, its next reading online', async () => {
      await helper.load(NODES, flow({}, {}, true), creds());
      await output(() => poll());
      sim.injectFault({ kind: 'status', status: 404, endpoint: 'telemetry', times: 1 });
      const failed = await output(() => poll({ physical_id: airbird.physical_id }));
      assert.deepEqual(failed.map((m) => [m.kind, m.physical_id, m.payload]), [['availability', airbird.physical_id, 'offline']]);
      assert.equal(lastStatus(ha()).fill, 'yellow');
      const again = await output(() => poll({ physical_id: airbird.physical_id }));
      assert.deepEqual(again.map((m) => [m.kind, m.payload === 'online' ? 'online' : 'json']), [['availability', 'online'], ['state', 'json']]);
    });

    it('a device without a reading for 3 expected intervals goes offline once; expire_after is 3 intervals', async () => {
      await helper.load(NODES, flow({ interval: 1 }), creds());
      const first = await output(() => poll(), 200);
      assert.ok(readingConfigsOf(first).every((m) => parsed(m).expire_after === 3));
      // `last seen` does not expire: it is what tells how long a device has been silent.
      assert.ok(configsOf(first).filter((m) => m.topic.endsWith('/last_seen/config')).every((m) => parsed(m).expire_after === undefined));
      const later = await until((got) => got.filter((m) => m.payload === 'offline').length >= 2, 6000, 'both devices offline');
      assert.deepEqual(later.filter((m) => !isBridgeOwn(m)).map((m) => m.physical_id).sort(), [airbird.physical_id, ambinode.physical_id].sort());
      // Once: no repeats while it stays stale (ten more stale checks).
      const quiet = await output(() => undefined, 10_000);
      assert.deepEqual(quiet, []);
    });
  });

  describe('birth message, reconnects, actions', () => {
    it('Home Assistant\'s birth message re-announces everything once after the delay; offline does nothing', async () => {
      await helper.load(NODES, flow({ announceDelay: 1 }), creds());
      const first = (await output(() => poll())).filter((m) => !isBridgeOwn(m));
      const announced = configsOf(first).length;
      const started = Date.now();
      const again = await until((got) => configsOf(got).filter((m) => !isBridgeOwn(m)).length >= announced, 8000, 'the announcement', () => {
        for (let i = 0; i < 3; i++) ha().receive({ topic: 'homeassistant/status', payload: 'online' } as never);
        ha().receive({ topic: 'homeassistant/status', payload: Buffer.from('offline') } as never);
      });
      assert.ok(Date.now() - started >= 1000, 'not before the delay\'s 1 s minimum');
      assert.equal(again[0].topic, 'leapcraft/bridge/availability');
      assert.equal(again[0].payload, 'online');
      assert.deepEqual(configsOf(again).filter((m) => !isBridgeOwn(m)).map((m) => m.topic).sort(), configsOf(first).map((m) => m.topic).sort());
      // The bridge's own device and health again too (Home Assistant forgot them as well).
      assert.ok(again.some((m) => m.topic === 'leapcraft/bridge/state') && configsOf(again).some(isBridgeOwn));
      const rest = await output(() => undefined, 1500);
      assert.equal(configsOf(rest).length, 0, 'three births within the delay: one announcement');
    });

    it('a Status node\'s "connected" (the broker came back) re-announces; other statuses do nothing', async () => {
      await helper.load(NODES, flow(), creds());
      await output(() => poll());
      const none = await output(() => ha().receive({
        status: { fill: 'red', shape: 'ring', text: 'node-red:common.status.disconnected', source: { type: 'mqtt out' } },
      } as never), 300);
      assert.deepEqual(none, []);
      const again = await output(() => ha().receive({
        status: { fill: 'green', shape: 'dot', text: 'node-red:common.status.connected', source: { type: 'mqtt out' } },
      } as never), 300);
      assert.equal(readingConfigsOf(again).length, 9);
      assert.equal(configsOf(again).filter((m) => m.gateway_id).length, new Set([airbird.topology_id, ambinode.topology_id]).size);
      assert.equal(again.filter((m) => m.kind === 'state' && m.physical_id).length, 2, 'with the last states');
    });

    it('remove: empty retained configs for what was announced, states and availability cleared; one device with msg.physical_id', async () => {
      await helper.load(NODES, flow(), creds());
      const first = (await output(() => poll())).filter((m) => !isBridgeOwn(m));
      const one = await output(() => ha().receive({ action: 'remove', physical_id: ambinode.physical_id } as never), 200);
      // Its entities, and its gateway when no other announced sensor reports through it.
      const expected = configsOf(first).filter((m) => m.physical_id === ambinode.physical_id
        || (m.gateway_id === ambinode.topology_id && ambinode.topology_id !== airbird.topology_id));
      assert.deepEqual(configsOf(one).map((m) => m.topic).sort(), expected.map((m) => m.topic).sort());
      assert.ok(one.every((m) => m.payload === '' && m.retain === true));
      assert.ok(one.some((m) => m.kind === 'state' && m.topic.endsWith('/state')) && one.some((m) => m.kind === 'availability'));
      const all = await output(() => ha().receive({ action: 'remove' } as never), 200);
      const removedTopics = new Set([...configsOf(one), ...configsOf(all)].filter((m) => !isBridgeOwn(m)).map((m) => m.topic));
      assert.deepEqual([...removedTopics].sort(), configsOf(first).map((m) => m.topic).sort(), 'every config, gateways included');
      // And the bridge's own device (announced again with the next announcement of everything).
      assert.equal(configsOf(all).filter(isBridgeOwn).length, 5);
      assert.ok(all.filter(isBridgeOwn).every((m) => m.payload === ''));
      const nothingLeft = await output(() => ha().receive({ action: 'remove' } as never), 300);
      assert.deepEqual(nothingLeft, []);
      // A device it does not remember: the configs of every known reading (and of both discovery forms).
      const unknown = await output(() => ha().receive({ action: 'remove', physical_id: 'D2:C1:AA:FF:3E:09' } as never), 200);
      assert.ok(configsOf(unknown).some((m) => /^homeassistant\/sensor\/leapcraft_D2_C1_AA_FF_3E_09_[0-9a-f]{8}\/co2\/config$/.test(m.topic)));
    });

    it('refuses bad input with LEAPCRAFT_INVALID_INPUT and publishes nothing', async () => {
      await helper.load(NODES, flow({ account: '' }), creds());
      const caught = collect(helper.getNode('caught') as TestNode);
      const published = collect(out());
      const bad: Array<Record<string, unknown>> = [
        { payload: 42 },
        { payload: 'co2' },
        { payload: { data: { co2: 1 } } },
        { payload: { physical_id: '..', data: { co2: 1 } } },
        { payload: { physical_id: 'a\u0000b', data: { co2: 1 } } },
        { payload: { physical_id: 'x'.repeat(300), data: { co2: 1 } } },
        { payload: { physical_id: 'ok', data: 'co2=1' } },
        { payload: [{ physical_id: 'ok', data: { co2: 1 } }, 7] },
        { payload: { physical_id: 'ok', data: { co2: 1 } }, device: 'Kitchen' },
        { action: 'delete' },
        { action: 'remove', physical_id: ['ok', '..'] },
        { topic: 'homeassistant/status', payload: 'restarting' },
      ];
      for (const msg of bad) ha().receive(msg as never);
      await time.settle();
      assert.equal(caught.length, bad.length);
      for (const c of caught) assert.equal((c.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT', (c.error as { message: string }).message);
      assert.deepEqual(published.filter((m) => m.topic !== 'leapcraft/bridge/availability' && !isBridgeOwn(m)), []);
    });
  });

  describe('device-based discovery, alerts, health, clean-up', () => {
    const deviceTopic = (physicalId: string) => `homeassistant/device/leapcraft_${haDeviceKey(physicalId)}/config`;

    it('one retained config per device with its components, the gateways\' and the bridge\'s; an alert raised in the simulator arrives as one event of its device', async () => {
      const nodes: Array<Record<string, unknown>> = flow({ discovery: 'device' });
      // The notifications node wired into the bridge, as in examples/home-assistant.json.
      nodes.push({ id: 'ntf', type: 'leapcraft-notifications', z: 'tab', x: 100, y: 400, account: 'acct', interval: 1, physicalId: '', emitExisting: false, store: '', wires: [['ha']] });
      await helper.load(NODES, nodes as never, creds());
      const seen = collect(out()) as unknown as Msg[];
      await output(() => poll());
      const configs = configsOf(seen);
      assert.deepEqual(configs.filter((m) => isEntityConfigTopic(m.topic)), [], 'no per-entity config');
      const devices = configs.filter((m) => m.physical_id);
      assert.deepEqual(devices.map((m) => m.topic).sort(), [deviceTopic(airbird.physical_id), deviceTopic(ambinode.physical_id)].sort(), 'one config per device');
      assert.ok(configs.some((m) => m.topic === 'homeassistant/device/leapcraft-bridge_leapcraft/config'), 'the bridge\'s');
      assert.equal(configs.filter((m) => m.gateway_id).length, new Set([airbird.topology_id, ambinode.topology_id]).size, 'the gateways\'');
      for (const m of configs) assert.deepEqual(deviceConfigProblems(m.topic, JSON.parse(m.payload)), [], m.topic);
      const airbirdConfig = JSON.parse(devices.find((m) => m.physical_id === airbird.physical_id)!.payload);
      assert.deepEqual(Object.keys(airbirdConfig.cmps), ['co2', 'temperature', 'humidity', 'battery', 'last_seen', 'alert']);
      assert.equal(airbirdConfig.dev.via_device, `leapcraft-gateway_${airbird.topology_id}`);
      // The area: the gateway's name, when the gateway has one (the simulator leaves one gateway unnamed).
      const gatewayConfig = JSON.parse(configs.find((m) => m.gateway_id === airbird.topology_id)!.payload);
      assert.equal(airbirdConfig.dev.sa, gatewayConfig.dev.name.startsWith('Unnamed gateway') ? undefined : gatewayConfig.dev.name);
      const state = JSON.parse(seen.filter((m) => m.kind === 'state' && m.physical_id === airbird.physical_id).pop()!.payload);
      assert.match(renderTemplate(airbirdConfig.cmps.last_seen.val_tpl, state), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'last seen renders to an ISO time');

      // The notifications node has recorded the backlog; a new alert is sent on, the bridge makes it an event.
      await time.until(() => sim.stats.requests.some((r) => r.endpoint === 'notifications'), 8000, 'the first alert check');
      const from = seen.length;
      const raised = sim.raiseAlert({ physical_id: airbird.physical_id, type: 'co2_high', value: 1450, threshold: 1000 });
      await time.until(() => seen.slice(from).some((m) => m.kind === 'event'), 8000, 'the event');
      // Three more checks (every second): none may send it again.
      await time.run(3000);
      const events = seen.slice(from).filter((m) => m.kind === 'event');
      assert.equal(events.length, 1, 'one event');
      assert.equal(events[0].topic, `leapcraft/device/${haDeviceKey(airbird.physical_id)}/alert`);
      assert.equal(events[0].retain, false);
      const event = JSON.parse(events[0].payload);
      assert.equal(event.event_type, 'co2_high');
      assert.ok(airbirdConfig.cmps.alert.evt_typ.includes(event.event_type));
      assert.deepEqual([event.id, event.physical_id, event.value, event.threshold, event.message], [raised.id, raised.physical_id, 1450, 1000, raised.message]);
      assert.ok(!JSON.stringify(seen).includes(sim.apiKey), 'the API key leaked into a msg');
    });

    it('the bridge\'s health: API reachable and the last poll from readings, not reachable with the reason when the key is refused', async () => {
      await helper.load(NODES, flow({ discovery: 'device' }, {}, true), creds());
      const healthOf = (msgs: Msg[]) => msgs.filter((m) => m.topic === 'leapcraft/bridge/state').map((m) => JSON.parse(m.payload));
      const [first] = healthOf(await output(() => poll())).slice(-1);
      assert.equal(first.api, 'ON');
      // Published with the msg that turned the API reachable (the first device's); counts follow with the periodic look.
      assert.ok(first.devices_polled >= 1);
      assert.match(first.last_poll, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      // The key refused: the telemetry node's failures reach the bridge through the Catch node.
      sim.setKeyValid(false);
      const refused = healthOf(await output(() => poll(), 300));
      assert.equal(refused.length, 1, 'published with the msg that changed it');
      assert.equal(refused[0].api, 'OFF');
      assert.deepEqual([refused[0].api_problem.error, refused[0].api_problem.code], ['key refused', 'LEAPCRAFT_AUTH']);
      assert.equal(renderTemplate('{{ value_json.api_problem | tojson }}', refused[0]), JSON.stringify(refused[0].api_problem));
    });

    it('a device removed from the estate: its poll answers "not found", the bridge reads the device list and removes the device after the grace period', async () => {
      const leaver = sim.devices()[5];
      await helper.load(NODES, flow({ discovery: 'device', removeAfter: 2, removeAfterUnit: 's' }, { devices: `${airbird.physical_id}, ${leaver.physical_id}` }, true), creds());
      const seen = collect(out()) as unknown as Msg[];
      await output(() => poll());
      assert.ok(seen.some((m) => m.topic === deviceTopic(leaver.physical_id) && m.payload !== ''));
      sim.set({ deviceCount: 5 });
      assert.ok(!sim.devices().some((d) => d.physical_id === leaver.physical_id));
      const polledAt = Date.now();
      const listReads = () => sim.stats.requests.filter((r) => r.endpoint === 'devices').length;
      const listsBefore = listReads();
      poll();
      await time.until(() => seen.some((m) => m.topic === deviceTopic(leaver.physical_id) && m.payload === ''), 10_000, 'the removal');
      const removedAfter = Date.now() - polledAt;
      assert.ok(removedAfter >= 2000, `not before the grace period: ${removedAfter} ms`);
      const removal = seen.filter((m) => m.physical_id === leaver.physical_id && m.payload === '');
      assert.deepEqual(removal.map((m) => m.topic).sort(), [
        deviceTopic(leaver.physical_id), `leapcraft/device/${haDeviceKey(leaver.physical_id)}/availability`, `leapcraft/device/${haDeviceKey(leaver.physical_id)}/state`,
      ].sort());
      assert.ok(!seen.some((m) => m.physical_id === airbird.physical_id && m.payload === ''), 'the device that stays is left alone');
      // The device list was read for it at once (the next refresh is ten minutes away).
      assert.ok(listReads() > listsBefore);
    });

    it('a device that left unnoticed is removed after a full redeploy: what was announced is carried in the node\'s context', async () => {
      const leaver = sim.devices()[5];
      const nodes = (extra = {}) => flow({ discovery: 'device', removeAfter: 1, removeAfterUnit: 's', ...extra }, { devices: `${airbird.physical_id}, ${leaver.physical_id}` });
      await helper.load(NODES, nodes(), creds());
      await output(() => poll());
      // The device leaves the account with no poll to notice (the device list is read every ten minutes);
      // then every node restarts, the account too: the new bridge knows the leaver only from its context.
      sim.set({ deviceCount: 5 });
      await helper.setFlows(nodes({ announceDelay: 1 }), 'full', creds());
      const fresh = collect(out()) as unknown as Msg[];
      await time.until(() => fresh.some((m) => m.topic === deviceTopic(leaver.physical_id) && m.payload === ''), 10_000, 'the removal');
      assert.ok(!fresh.some((m) => m.physical_id === airbird.physical_id && m.payload === ''));
    });

    it('switching a node from per entity to per device migrates each device the way Home Assistant documents', async () => {
      await helper.load(NODES, flow({ discovery: 'entity' }), creds());
      await output(() => poll());
      await helper.setFlows(flow({ discovery: 'device' }), 'nodes', creds());
      const msgs = await output(() => poll(), 300);
      const mine = configsOf(msgs).filter((m) => m.physical_id === airbird.physical_id);
      const kind = (m: Msg) => (m.payload === '' ? 'empty' : m.payload.includes('migrate_discovery') ? 'migrate' : 'config');
      assert.deepEqual([...new Set(mine.map(kind))], ['migrate', 'config', 'empty']);
      assert.equal(mine.filter((m) => kind(m) === 'config').length, 1);
      assert.equal(mine.find((m) => kind(m) === 'config')!.topic, deviceTopic(airbird.physical_id));
      assert.deepEqual(mine.filter((m) => kind(m) === 'migrate').map((m) => m.topic), mine.filter((m) => kind(m) === 'empty').map((m) => m.topic));
    });
  });

  describe('settings and lifecycle', () => {
    it('a redeploy: offline from the old node, online from the new one, no timer of the old node left, no announcement twice', async () => {
      await helper.load(NODES, flow({ interval: 1 }), creds());
      const got = collect(out());
      await time.settle();
      assert.deepEqual(got.filter((m) => !isBridgeOwn(m)).map((m) => [m.topic, m.payload]), [['leapcraft/bridge/availability', 'online']]);
      assert.equal(got[0].topic, 'leapcraft/bridge/availability', 'online first, then the bridge\'s own device');
      await output(() => poll(), 200);
      const old = ha();
      const before = got.length;
      // Only the bridge changes: the helper node it sends to keeps running, as an mqtt out node would.
      await helper.setFlows(flow({ interval: 1, announceDelay: 2 }), 'nodes', creds());
      await time.settle();
      assert.notEqual(ha(), old);
      assert.deepEqual(got.slice(before).filter((m) => !isBridgeOwn(m)).map((m) => [m.topic, m.payload]), [['leapcraft/bridge/availability', 'offline'], ['leapcraft/bridge/availability', 'online']]);
      const sentByOld = callsOf(old, 'send').length;
      const next = await output(() => poll(), 300);
      const topics = configsOf(next).map((m) => m.topic);
      // Its readings, last seen and alert, and the gateways, from the new node (the old one is gone).
      assert.equal(topics.length, 9 + 2 * 2 + new Set([airbird.topology_id, ambinode.topology_id]).size);
      assert.equal(new Set(topics).size, topics.length, 'each config once');
      // The old node's stale check (1 s) would mark both devices offline within 3 s if its timer survived.
      await time.run(3500);
      assert.equal(callsOf(old, 'send').length, sentByOld);
    });

    it('a bad setting turns the node red at deploy and every msg goes to Catch with it', async () => {
      await helper.load(NODES, flow({ baseTopic: 'leapcraft/#', account: '' }), creds());
      assert.equal(lastStatus(ha()).fill, 'red');
      const caught = collect(helper.getNode('caught') as TestNode);
      ha().receive({ payload: { physical_id: 'x', data: { co2: 1 } } } as never);
      await time.settle();
      assert.equal(caught.length, 1);
      assert.equal((caught[0].error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
      assert.match((caught[0].error as { message: string }).message, /baseTopic/);
    });

    it('the editor\'s validators give the runtime\'s answers', () => {
      const root = path.join(__dirname, '..', '..');
      // Generated by npm run build from the lib constants; the editor script reads its rules from it.
      const rules = fs.readFileSync(path.join(root, 'resources', 'leapcraft-rules.js'), 'utf8');
      const source = fs.readFileSync(path.join(root, 'resources', 'leapcraft-editor.js'), 'utf8');
      const html = fs.readFileSync(path.join(root, 'nodes', 'leapcraft-homeassistant.html'), 'utf8');
      const defs = new Map<string, { defaults: Record<string, { value: unknown; validate?: (v: unknown) => unknown }> }>();
      const RED = { _: (k: string) => k, nodes: { registerType: (t: string, d: never) => defs.set(t, d), getType: () => null } };
      const context = vm.createContext({ window: { RED }, RED, URL, console });
      vm.runInContext(rules, context);
      vm.runInContext(source, context);
      for (const m of html.matchAll(/<script\s+type="text\/javascript">([\s\S]*?)<\/script>/g)) vm.runInContext(m[1], context);
      const def = defs.get('leapcraft-homeassistant')!;
      const accepts = (fn: () => unknown) => { try { fn(); return true; } catch { return false; } };
      for (const v of ['homeassistant', 'homeassistant/status', 'a/b/c', 'my-ha.prefix_2', ' leapcraft ', '', ' ', '/a', 'a/', 'a//b', 'a/+/b', 'a/#', 'a b', 'ä', 'x'.repeat(128), 'x'.repeat(129)]) {
        for (const prop of ['discoveryPrefix', 'baseTopic', 'birthTopic']) {
          assert.equal(def.defaults[prop].validate!(v) === true, accepts(() => haTopicSetting(v, prop)), `${prop} ${JSON.stringify(v)}`);
        }
      }
      for (const v of ['0', '1', '2', '3', '-1', '1.5', 'x', '60', '604800', '604801']) {
        assert.equal(def.defaults.qos.validate!(v) === true, accepts(() => integerInRange(v, 'qos', 0, 2)), `qos ${v}`);
        assert.equal(def.defaults.interval.validate!(v) === true, accepts(() => integerInRange(v, 'interval', 0, 604800)), `interval ${v}`);
        assert.equal(def.defaults.announceDelay.validate!(v) === true, accepts(() => integerInRange(v, 'announceDelay', 0, 60)), `announceDelay ${v}`);
      }
      // The settings that came with device-based discovery (lists, limits and defaults from the generated rules).
      const cases: Record<string, unknown[]> = {
        discovery: ['device', 'entity', '', 'both', 'Device'],
        area: ['gateway', 'device', 'none', '', 'room'],
        removeAfterUnit: ['s', 'min', 'h', 'd', '', 'w', 'hours'],
        removeAfter: ['0', '24', '8760', '8761', '-1', '1.5', 'x', ''],
        store: ['', 'file', ' file ', 'x'.repeat(64), 'x'.repeat(65), 'a\u0007b'],
        areaField: ['', 'zone', 'x'.repeat(64), 'x'.repeat(65), 'a\u0000'],
      };
      for (const [prop, values] of Object.entries(cases)) {
        for (const v of values) assert.equal(def.defaults[prop].validate!(v) === true, accepts(() => parseHaSettings({ [prop]: v })), `${prop} ${JSON.stringify(v)}`);
      }
      assert.deepEqual(Object.fromEntries(Object.keys(cases).map((k) => [k, def.defaults[k].value])), {
        discovery: 'device', area: 'gateway', removeAfterUnit: 'h', removeAfter: 24, store: '', areaField: '',
      }, 'a new node: device-based, the gateway\'s name, removed after 24 h, the default store');
      // removeAfter in the node's unit: up to a year in each; the meta field when the area is a meta field.
      for (const unit of ['s', 'min', 'h', 'd']) {
        for (const v of ['0', '1', '365', '366', '8760', '8761', '525600', '525601', '31536000', '31536001']) {
          assert.equal(def.defaults.removeAfter.validate!.call({ removeAfterUnit: unit }, v) === true,
            accepts(() => parseHaSettings({ removeAfter: v, removeAfterUnit: unit })), `removeAfter ${v} ${unit}`);
        }
      }
      for (const v of ['', ' ', 'zone', 'x'.repeat(64), 'x'.repeat(65)]) {
        assert.equal(def.defaults.areaField.validate!.call({ area: 'meta' }, v) === true, accepts(() => parseHaSettings({ area: 'meta', areaField: v })), `meta field ${JSON.stringify(v)}`);
      }
    });
  });
});
