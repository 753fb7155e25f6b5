/**
 * The bridge's components from other inputs (lib/homeassistant): the air-quality node's msgs give a
 * device an enum sensor of its profile's categories and a % sensor of its ventilation demand; the
 * telemetry node's device-health msgs a `problem` binary sensor. Both discovery forms, checked
 * against Home Assistant's discovery schema, templates rendered; a profile change, a restart from
 * the record, removal, the counts; msgs refused.
 */
import assert from 'node:assert/strict';
import { AqSettingsInput, buildProfile, HaMessage, HomeAssistantBridge, parseAqSettings, parseHaInput } from '../../../lib';
import { deviceComponents, deviceConfigProblems, renderTemplate, schemaProblems } from '../../support/ha-discovery-schema';

const ORIGIN = { name: 'node-red-contrib-leapcraft', sw_version: '0.1.0' };
type Mode = 'device' | 'entity';
const newBridge = (mode: Mode) => new HomeAssistantBridge({ discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft', qos: 1, origin: ORIGIN, expireAfterS: 180, mode });
const BIRTH = 'homeassistant/status';
type Msg = Record<string, any>;

/** An air-quality msg as the node sends it (docs/AIR-QUALITY.md, "The msgs"). */
function aqMsg(device: string, co2: number, category: string, demand: number, settings: AqSettingsInput = {}): Msg {
  const profile = buildProfile(parseAqSettings(settings), (_p, c) => `Category ${c}`);
  const c = profile.categories.find((x) => x.category === category)!;
  return {
    topic: device, physical_id: device, categories: profile.categories,
    payload: {
      device, name: `Room ${device}`, co2, timestamp: '2026-03-30T08:03:00.000Z', category, label: c.label, level: c.level, color: c.color,
      since: '2026-03-30T08:03:00.000Z', demand, demandOn: demand >= 75, demandSince: '2026-03-30T08:00:00.000Z', profile: profile.id, outdoorCo2: 420,
    },
  };
}
const healthMsg = (device: string, event: string): Msg => ({
  topic: device, physical_id: device,
  payload: { event, device, name: device, since: '2026-03-30T08:00:00.000Z', lastReadingAt: '2026-03-30T07:45:00.000Z', periodMs: 300_000 },
});
const telemetryMsg = (device: string, co2: number): Msg => ({ topic: device, physical_id: device, payload: { physical_id: device, timestamp: '2026-03-30T08:03:00Z', data: { co2, temperature: 21.5 } } });

/** What Home Assistant ends up with: the last payload per topic. */
class Broker {
  readonly retained = new Map<string, string>();
  constructor(readonly bridge: HomeAssistantBridge) {}
  send(msg: Msg, now = 1_000): HaMessage[] {
    const { messages } = this.bridge.apply(parseHaInput(msg, BIRTH), now);
    for (const m of messages) if (m.retain) (m.payload === '' ? this.retained.delete(m.topic) : this.retained.set(m.topic, m.payload));
    return messages;
  }
  /** Every component of device `key` as Home Assistant would set it up, in either form. */
  components(key: string): Map<string, Msg> {
    const out = new Map<string, Msg>();
    for (const [topic, payload] of this.retained) {
      if (!topic.includes(`/leapcraft_${key}/`) && !topic.endsWith(`/leapcraft_${key}/config`)) continue;
      if (topic.startsWith('homeassistant/device/')) {
        assert.deepEqual(deviceConfigProblems(topic, JSON.parse(payload)), []);
        for (const c of deviceComponents(topic, JSON.parse(payload))) if (c.config) out.set(c.id, c.config);
      } else if (topic.endsWith('/config')) {
        assert.deepEqual(schemaProblems(topic, JSON.parse(payload)), []);
        out.set(topic.split('/')[3], JSON.parse(payload));
      }
    }
    return out;
  }
  /** A component's value and attributes as Home Assistant renders them from the retained state. */
  render(config: Msg): { value: string; attributes?: unknown } {
    const state = JSON.parse(this.retained.get(config.state_topic)!);
    const attributes = config.json_attributes_template ? JSON.parse(renderTemplate(config.json_attributes_template, state)) : undefined;
    return { value: renderTemplate(config.value_template, state), ...(attributes !== undefined ? { attributes } : {}) };
  }
}

for (const mode of ['device', 'entity'] as const) {
  describe(`Home Assistant bridge: air quality and device health (${mode === 'device' ? 'device-based' : 'per entity'})`, () => {
    it('air quality: an enum of the profile\'s categories and a % sensor, in the device\'s discovery config', () => {
      const ha = new Broker(newBridge(mode));
      ha.send(telemetryMsg('r1', 1300));
      ha.send(aqMsg('r1', 1300, 'III', 100));
      const comps = ha.components('r1');
      assert.deepEqual([...comps.keys()].sort(), ['air_quality', 'alert', 'co2', 'last_seen', 'temperature', 'ventilation_demand']);
      const aq = comps.get('air_quality')!;
      assert.equal(aq.device_class, 'enum');
      assert.deepEqual(aq.options, ['Category I', 'Category II', 'Category III', 'Category IV'], 'the profile\'s labels');
      assert.equal(aq.name, 'Air quality');
      assert.deepEqual(ha.render(aq), { value: 'Category III', attributes: { category: 'III', level: 3, profile: 'en16798' } });
      const demand = comps.get('ventilation_demand')!;
      assert.equal(demand.unit_of_measurement, '%');
      assert.equal(demand.state_class, 'measurement');
      assert.equal(ha.render(demand).value, '100');
      assert.equal(ha.render(comps.get('co2')!).value, '1300', 'the readings stay in the state');
      assert.equal(aq.device.name, 'Room r1');
      // The next msg: the state only, no config again.
      const next = ha.send(aqMsg('r1', 900, 'II', 50));
      assert.deepEqual(next.map((m) => m.kind), ['state']);
      assert.equal(ha.render(ha.components('r1').get('air_quality')!).value, 'Category II');
      assert.equal(ha.render(ha.components('r1').get('co2')!).value, '1300', 'the last reading kept');
      // Another profile: the enum announced again with its options.
      const uba = ha.send(aqMsg('r1', 900, 'harmless', 50, { profile: 'uba' }));
      assert.ok(uba.some((m) => m.kind === 'config'));
      assert.deepEqual(ha.components('r1').get('air_quality')!.options, ['Category harmless', 'Category elevated', 'Category unacceptable']);
      assert.equal(ha.render(ha.components('r1').get('air_quality')!).value, 'Category harmless');
      assert.equal(ha.bridge.stats().entities, 4, 'two readings, the air quality\'s two');
    });

    it('air-quality msgs alone announce the device, online', () => {
      const ha = new Broker(newBridge(mode));
      const msgs = ha.send(aqMsg('r2', 500, 'I', 0));
      assert.deepEqual([...ha.components('r2').keys()].sort(), ['air_quality', 'alert', 'last_seen', 'ventilation_demand']);
      assert.ok(msgs.some((m) => m.kind === 'availability' && m.payload === 'online'));
      // null: Home Assistant's Jinja renders None, which a sensor shows as unknown (nunjucks renders '').
      assert.equal(ha.render(ha.components('r2').get('last_seen')!).value, '', 'no reading yet: unknown');
      assert.deepEqual(ha.bridge.stats(), { devices: 1, entities: 2, offline: 0, gateways: 0, lastStateAt: 1000, skippedKeys: 0 });
    });

    it('device health: a problem binary sensor, on while silent or the battery low, off when both are over', () => {
      const ha = new Broker(newBridge(mode));
      ha.send(telemetryMsg('r3', 600));
      ha.send(healthMsg('r3', 'silent'));
      const problem = ha.components('r3').get('problem')!;
      assert.equal(problem.device_class, 'problem');
      assert.equal(problem.entity_category, 'diagnostic');
      assert.deepEqual(problem.availability, [{ topic: 'leapcraft/bridge/availability' }], 'live while the silent device is offline');
      assert.deepEqual(ha.render(problem), { value: 'ON', attributes: { silent: true, battery_low: null } });
      ha.send(healthMsg('r3', 'battery_low'));
      ha.send(healthMsg('r3', 'recovered'));
      assert.equal(ha.render(problem).value, 'ON', 'the battery is still low');
      const ok = ha.send(healthMsg('r3', 'battery_ok'));
      assert.deepEqual(ok.map((m) => m.kind), ['state'], 'no config again');
      assert.deepEqual(ha.render(problem), { value: 'OFF', attributes: { silent: false, battery_low: false } });
      assert.equal(ha.render(ha.components('r3').get('co2')!).value, '600');
      // A device the bridge knows nothing else of gets its problem sensor too.
      ha.send(healthMsg('r4', 'battery_low'));
      assert.deepEqual([...ha.components('r4').keys()].sort(), ['alert', 'last_seen', 'problem']);
    });

    it('a restart: the record announces the components the same before any air-quality msg; removal clears them', () => {
      const first = new Broker(newBridge(mode));
      first.send(telemetryMsg('r5', 700));
      first.send(aqMsg('r5', 700, 'harmless', 0, { profile: 'uba' }));
      first.send(healthMsg('r5', 'silent'));
      const record = JSON.parse(JSON.stringify(first.bridge.record()));
      const again = new Broker(newBridge(mode));
      again.bridge.restore(record);
      const msgs = again.send(telemetryMsg('r5', 710));
      const emptied = msgs.filter((m) => m.kind === 'config' && m.payload === '');
      assert.deepEqual(emptied, [], 'nothing removed');
      const comps = again.components('r5');
      assert.deepEqual(comps.get('air_quality')!.options, ['Category harmless', 'Category elevated', 'Category unacceptable']);
      assert.equal(again.render(comps.get('air_quality')!).value, '', 'unknown (null) until the air-quality node speaks');
      assert.equal(again.render(comps.get('problem')!).value, '');
      const removal = again.bridge.remove(['r5']);
      const topics = removal.filter((m) => m.kind === 'config').map((m) => m.topic);
      if (mode === 'device') assert.deepEqual(topics, ['homeassistant/device/leapcraft_r5/config']);
      else for (const c of ['air_quality', 'ventilation_demand']) assert.ok(topics.includes(`homeassistant/sensor/leapcraft_r5/${c}/config`), c);
      if (mode === 'entity') assert.ok(topics.includes('homeassistant/binary_sensor/leapcraft_r5/problem/config'));
    });
  });
}

describe('Home Assistant bridge: air-quality and health msgs refused', () => {
  const refused = (msg: Msg, field: string) => assert.throws(() => parseHaInput(msg, BIRTH), (e: { code?: string; field?: string; message: string }) => {
    assert.equal(e.code, 'LEAPCRAFT_INVALID_INPUT');
    assert.equal(e.field, field, e.message);
    return true;
  });

  it('a category not of the profile, a bad demand, no categories, the report', () => {
    refused({ ...aqMsg('r', 500, 'I', 0), payload: { ...aqMsg('r', 500, 'I', 0).payload, category: 'V' } }, 'msg.payload.category');
    refused({ ...aqMsg('r', 500, 'I', 0), payload: { ...aqMsg('r', 500, 'I', 0).payload, demand: 140 } }, 'msg.payload.demand');
    refused({ ...aqMsg('r', 500, 'I', 0), categories: [] }, 'msg.categories');
    refused({ ...aqMsg('r', 500, 'I', 0), categories: [{ category: 'I' }, { category: 'I' }] }, 'msg.categories');
    refused({ ...aqMsg('r', 500, 'I', 0), categories: [{ label: 'x' }] }, 'msg.categories[0].category');
    refused({ topic: 'leapcraft/air-quality/report', categories: aqMsg('r', 500, 'I', 0).categories, payload: { kind: 'daily', devices: [] } }, 'msg.payload');
    refused({ ...healthMsg('x', 'silent'), payload: { ...healthMsg('x', 'silent').payload, device: '..' } }, 'msg.payload.device');
  });

  it('a health msg is not an alert, an air-quality msg not a reading', () => {
    assert.equal(parseHaInput(healthMsg('x', 'battery_low'), BIRTH).kind, 'health');
    assert.equal(parseHaInput(aqMsg('x', 500, 'I', 0), BIRTH).kind, 'airQuality');
    // Another event name is no health msg: read as before.
    assert.equal(parseHaInput({ payload: { event: 'other', device: 'x', message: 'hi' } }, BIRTH).kind, 'data');
  });
});
