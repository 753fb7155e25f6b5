/**
 * The Home Assistant bridge's air quality and device health through a real broker (Debian's
 * Mosquitto on a free loopback port, test/support/mosquitto.ts), in both discovery forms: the flow
 * leapcraft-telemetry (with its device-health output) → leapcraft-air-quality → leapcraft-homeassistant
 * → core `mqtt out`, polling the simulator (sensors reporting every 2 s). An mqtt.js client in Home
 * Assistant's place checks every config against the discovery schema (test/support/ha-discovery-schema.ts):
 * each device has an enum `air_quality` sensor with the profile's categories as options and a `%`
 * `ventilation_demand` sensor, whose templates render to the state's values; one sensor stops (the
 * simulator's `silence`): its `problem` binary sensor turns on, and off when it reports again, while
 * no other device's does.
 */
import assert from 'node:assert/strict';
import { AQ_DEFAULTS, haDeviceKey } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import { deviceComponents, deviceConfigProblems, renderTemplate, schemaProblems } from '../support/ha-discovery-schema';
import { useMosquitto } from '../support/mosquitto';
import { Watcher } from '../support/mqtt-watcher';
import { helper } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import airQualityNode = require('../../nodes/leapcraft-air-quality');
import haNode = require('../../nodes/leapcraft-homeassistant');

type Config = Record<string, any>;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mqttNodes = require('@node-red/nodes/core/network/10-mqtt.js');

const EN16798 = ['I', 'II', 'III', 'IV'];
/** The profile's labels, the enum's options (the test helper's RED._ gives the catalog keys, not their English). */
const EN16798_LABELS = EN16798.map((id) => `leapcraft-air-quality.category.en16798.${id}`);

function flow(sim: LeapcraftSimulator, port: number, discovery: 'device' | 'entity') {
  return [
    { id: 'tab', type: 'tab', label: 'Home Assistant' },
    { id: 'acct', type: 'leapcraft-config', name: 'simulator', baseUrl: sim.baseUrl, concurrency: 4, timeout: 30 },
    {
      id: 'tel', type: 'leapcraft-telemetry', z: 'tab', account: 'acct', devices: '', telemetryType: 'latest', interval: 1, output: 'device', emit: 'interval',
      cadence: true, health: true, silentPeriods: 4, batteryLow: 1, outputs: 2, wires: [['aq', 'ha'], ['ha']],
    },
    { id: 'aq', type: 'leapcraft-air-quality', z: 'tab', ...AQ_DEFAULTS, timeZone: 'UTC', reportAt: '', wires: [['ha'], [], []] },
    {
      id: 'ha', type: 'leapcraft-homeassistant', z: 'tab', account: 'acct', discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft', birthTopic: 'homeassistant/status',
      interval: 60, qos: '1', announceDelay: 1, discovery, area: 'gateway', removeAfter: 0, wires: [['out']],
    },
    { id: 'out', type: 'mqtt out', z: 'tab', name: '', topic: '', qos: '', retain: '', respTopic: '', contentType: '', userProps: '', correl: '', expiry: '', broker: 'broker', wires: [] },
    {
      id: 'broker', type: 'mqtt-broker', name: 'mosquitto', broker: '127.0.0.1', port, clientid: '', autoConnect: true, usetls: false, protocolVersion: 4, keepalive: 60,
      cleansession: true, autoUnsubscribe: true, birthTopic: '', birthQos: '0', birthRetain: 'false', birthPayload: '', birthMsg: {}, closeTopic: '', closeQos: '0',
      closeRetain: 'false', closePayload: '', closeMsg: {}, willTopic: '', willQos: '0', willRetain: 'false', willPayload: '', willMsg: {}, userProps: '', sessionExpiry: '',
    },
  ];
}

for (const discovery of ['device', 'entity'] as const) {
  describe(`Home Assistant bridge: air quality and device health through a real Mosquitto broker (${discovery === 'device' ? 'device-based' : 'per entity'})`, function () {
    this.timeout(120_000);
    const mosquitto = useMosquitto();
    let sim: LeapcraftSimulator;
    let ha: Watcher;

    before(async () => {
      sim = new LeapcraftSimulator({ deviceCount: 3, seed: 3, latencyMs: 0, reportIntervalMs: 2000 });
      await sim.start();
      ha = await Watcher.connect(mosquitto.broker.url);
      await helper.load([configNode, telemetryNode, airQualityNode, haNode, mqttNodes] as never, flow(sim, mosquitto.broker.port, discovery) as never, { acct: { apiKey: sim.apiKey } } as never);
    });

    after(async () => {
      await ha?.end().catch(() => undefined);
      await helper.unload();
      await sim?.stop();
    });

    /** Every component of a device as Home Assistant sets it up from what is retained now, each checked against the schema. */
    function components(physicalId: string): Map<string, Config> {
      const node = `leapcraft_${haDeviceKey(physicalId)}`;
      const out = new Map<string, Config>();
      for (const [topic, m] of ha.latest((r) => r.topic.endsWith('/config') && r.payload !== '')) {
        if (topic === `homeassistant/device/${node}/config`) {
          assert.deepEqual(deviceConfigProblems(topic, JSON.parse(m.payload)), []);
          for (const c of deviceComponents(topic, JSON.parse(m.payload))) if (c.config) out.set(c.id, c.config);
        } else if (topic.split('/')[2] === node) {
          assert.deepEqual(schemaProblems(topic, JSON.parse(m.payload)), []);
          out.set(topic.split('/')[3], JSON.parse(m.payload));
        }
      }
      return out;
    }
    const state = (physicalId: string): Config | undefined => {
      const m = ha.latest((r) => r.topic === `leapcraft/device/${haDeviceKey(physicalId)}/state`).values().next().value;
      return m && m.payload !== '' ? JSON.parse(m.payload) : undefined;
    };
    const problemTurns = (physicalId: string) => ha.got.filter((r) => r.topic === `leapcraft/device/${haDeviceKey(physicalId)}/state`)
      .map((r) => JSON.parse(r.payload).problem).filter((p, i, all) => p !== undefined && p !== all[i - 1]);

    it('announces each device\'s category as an enum of the profile\'s categories and its demand in %, valid for Home Assistant', async () => {
      const ids = sim.devices().map((d) => d.physical_id);
      await ha.waitFor(() => ids.every((id) => components(id).has('ventilation_demand') && state(id)?.air_quality != null), 'the air quality of every device', 60_000);
      for (const id of ids) {
        const comps = components(id);
        const aq = comps.get('air_quality')!;
        assert.equal(aq.device_class, 'enum');
        assert.deepEqual(aq.options, EN16798_LABELS);
        const now = state(id)!;
        const shown = renderTemplate(aq.value_template, now);
        assert.ok(EN16798_LABELS.includes(shown), `${id}: the state is one of the options`);
        const attributes = JSON.parse(renderTemplate(aq.json_attributes_template, now));
        assert.equal(attributes.profile, 'en16798');
        assert.equal(attributes.category, EN16798[EN16798_LABELS.indexOf(shown)], 'the stable id beside the label');
        assert.equal(attributes.level, EN16798_LABELS.indexOf(shown) + 1);
        const demand = comps.get('ventilation_demand')!;
        assert.equal(demand.unit_of_measurement, '%');
        const value = Number(renderTemplate(demand.value_template, now));
        assert.ok(value >= 0 && value <= 100, `${id}: demand ${value}`);
        assert.ok(comps.has('co2'), 'beside the readings');
      }
      if (discovery === 'device') {
        const topic = `homeassistant/device/leapcraft_${haDeviceKey(ids[0])}/config`;
        const cmps = JSON.parse(ha.latest((r) => r.topic === topic).get(topic)!.payload).cmps;
        console.log(`      ${topic}: ${JSON.stringify({ air_quality: cmps.air_quality, ventilation_demand: cmps.ventilation_demand })}`);
      }
    });

    it('a silent sensor\'s problem binary sensor turns on, and off when it reports again; no other device\'s', async () => {
      const ids = sim.devices().map((d) => d.physical_id);
      const quiet = ids[1];
      // Silent means some periods of the sensor's own: once the account has learnt it.
      const scheduler = (helper.getNode('acct') as unknown as { getScheduler(): { cadenceOf(key: string, ms: number): { periodMs?: number } | undefined } }).getScheduler();
      await ha.waitFor(() => scheduler.cadenceOf(['telemetry', quiet, 'latest'].join('\u0000'), 1000)?.periodMs === 2000, 'the period learnt', 60_000);
      sim.silence(quiet);
      await ha.waitFor(() => state(quiet)?.problem === 'ON', 'the problem on', 60_000);
      const problem = components(quiet).get('problem')!;
      assert.equal(problem.device_class, 'problem');
      assert.equal(renderTemplate(problem.value_template, state(quiet)), 'ON');
      assert.deepEqual(JSON.parse(renderTemplate(problem.json_attributes_template, state(quiet))), { silent: true, battery_low: null });
      if (discovery === 'device') {
        const topic = `homeassistant/device/leapcraft_${haDeviceKey(quiet)}/config`;
        console.log(`      ${topic} (problem): ${JSON.stringify(JSON.parse(ha.latest((r) => r.topic === topic).get(topic)!.payload).cmps.problem)}`);
      }
      sim.silence(quiet, false);
      await ha.waitFor(() => state(quiet)?.problem === 'OFF', 'the problem off', 60_000);
      assert.equal(renderTemplate(problem.value_template, state(quiet)), 'OFF');
      assert.deepEqual(problemTurns(quiet), ['ON', 'OFF']);
      for (const id of ids.filter((i) => i !== quiet)) assert.deepEqual(problemTurns(id), [], `${id}: never a problem`);
    });
  });
}
