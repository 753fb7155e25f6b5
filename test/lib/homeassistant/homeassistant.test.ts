/**
 * The Home Assistant bridge's pure parts (lib/homeassistant/): ids and topics, the reading
 * table, value templates, reading and alert msgs, gateways from topologies, settings, and the
 * bridge's decisions in both discovery forms (per entity: the tests written before device-based
 * discovery existed, kept in that form; device-based: the default), health, clean-up, the record.
 */
import assert from 'node:assert/strict';
import nunjucks from 'nunjucks';
import {
  HA_ALERT_EVENT_TYPES, HA_KNOWN_READINGS, haBridgeOptions, haCleanupEveryMs, haDeviceKey, HaGatewayIndex, HaMessage, haObjectId, haReadingId,
  haReadingSpec, haTopicSetting, haUniqueId, haValueTemplate, HomeAssistantBridge, isAlertShaped, parseAlert, parseHaInput, parseHaSettings, readHaRecord,
} from '../../../lib';
import { deviceComponents, deviceConfigProblems, expandDeviceConfig, renderTemplate, schemaProblems } from '../../support/ha-discovery-schema';

const ORIGIN = { name: 'node-red-contrib-leapcraft', sw_version: '0.1.0' };
type Options = Partial<ConstructorParameters<typeof HomeAssistantBridge>[0]>;
/** Per-entity discovery: the form the tests below were written for (before device-based discovery existed). */
function bridge(options: Options = {}) {
  return new HomeAssistantBridge({ discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft', qos: 1, origin: ORIGIN, expireAfterS: 180, mode: 'entity', ...options });
}
/** Device-based discovery, the default. */
function deviceBridge(options: Options = {}) {
  return new HomeAssistantBridge({ discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft', qos: 1, origin: ORIGIN, expireAfterS: 180, ...options });
}
const reading = (physicalId: string, values: Record<string, unknown>, firmware?: string) =>
  ({ physicalId, values: Object.entries(values) as Array<[string, number | string | boolean | null]>, ...(firmware ? { firmware } : {}) });
const kinds = (msgs: HaMessage[]) => msgs.map((m) => m.kind);
const configs = (msgs: HaMessage[]) => msgs.filter((m) => m.kind === 'config' && m.payload !== '').map((m) => JSON.parse(m.payload) as Record<string, any>);

describe('Home Assistant bridge (lib)', () => {
  describe('ids and topics', () => {
    it('keeps ids of [A-Za-z0-9_] as they are, reduces others with a hash that keeps them apart', () => {
      assert.equal(haDeviceKey('testsim00004'), 'testsim00004');
      const mac = haDeviceKey('D2:C1:AA:FF:3E:09');
      assert.match(mac, /^D2_C1_AA_FF_3E_09_[0-9a-f]{8}$/);
      assert.equal(haDeviceKey('D2:C1:AA:FF:3E:09'), mac, 'stable');
      assert.notEqual(haDeviceKey('a:b'), haDeviceKey('a.b'));
      assert.notEqual(haDeviceKey('a:b'), haDeviceKey('a_b'));
      assert.match(haDeviceKey('a-b'), /^a_b_[0-9a-f]{8}$/, 'no - in a device key: it separates unique ids');
      for (const id of ['../auth', 'Büro €', 'x/y/#', '"quote"', 'a b']) assert.match(haDeviceKey(id), /^[A-Za-z0-9_]+$/);
      assert.equal(haObjectId('pm2_5'), 'pm2_5');
      assert.equal(haObjectId('pm-10'), 'pm-10');
      assert.match(haObjectId('pm2.5'), /^pm2_5_[0-9a-f]{8}$/);
      // (device, key) pairs never share a unique id.
      assert.notEqual(haUniqueId(`leapcraft_${haDeviceKey('a_b')}`, haObjectId('c')), haUniqueId(`leapcraft_${haDeviceKey('a')}`, haObjectId('b_c')));
      assert.notEqual(haUniqueId(`leapcraft_${haDeviceKey('a')}`, haObjectId('b-c')), haUniqueId(`leapcraft_${haDeviceKey('a-b')}`, haObjectId('c')));
    });

    it('a sensor\'s device identifier never names a gateway\'s device', () => {
      const b = bridge();
      const msgs = b.addData([{ physicalId: 'gateway_g', gatewayId: 'g' }], [reading('gateway_g', { co2: 1 })], 0);
      const ids = configs(msgs).map((c) => c.device.identifiers[0]);
      assert.equal(new Set(ids).size, 2, JSON.stringify(ids));
    });

    it('topic settings: levels of [A-Za-z0-9_.-], no wildcards or empty levels', () => {
      for (const ok of ['homeassistant', 'homeassistant/status', 'my-ha/prefix_2.x', ' leapcraft ']) assert.equal(haTopicSetting(ok, 't'), ok.trim());
      for (const bad of ['', ' ', '/a', 'a/', 'a//b', 'a/+/b', 'a/#', '#', 'a b', 'ä', 'x'.repeat(129), 42, null]) {
        assert.throws(() => haTopicSetting(bad, 't'), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT', String(bad));
      }
    });

    it('value templates are plain for identifiers, subscripts otherwise, and render the reading with nunjucks', () => {
      assert.equal(haValueTemplate('co2'), '{{ value_json.co2 }}');
      assert.equal(haValueTemplate('items'), "{{ value_json['items'] }}", 'a dict method name in Jinja');
      assert.equal(haValueTemplate('pm-10'), "{{ value_json['pm-10'] }}");
      assert.equal(haValueTemplate('2x'), "{{ value_json['2x'] }}");
      const state = { co2: 550, items: 3, 'pm-10': 7.5, '2x': 'on' };
      for (const [key, value] of Object.entries(state)) {
        assert.equal(nunjucks.renderString(haValueTemplate(key), { value_json: state }), String(value));
      }
    });
  });

  describe('readings', () => {
    it('maps the known readings to Home Assistant\'s device classes and units', () => {
      assert.deepEqual(
        Object.fromEntries(['co2', 'temperature', 'humidity', 'pm2_5', 'pm10', 'pm1', 'noise', 'battery'].map((k) => [k, [haReadingSpec(k, 1).device_class, haReadingSpec(k, 1).unit_of_measurement]])),
        {
          co2: ['carbon_dioxide', 'ppm'], temperature: ['temperature', '°C'], humidity: ['humidity', '%'], pm2_5: ['pm25', '\u00b5g/m\u00b3'],
          pm10: ['pm10', '\u00b5g/m\u00b3'], pm1: ['pm1', '\u00b5g/m\u00b3'], noise: ['sound_pressure', 'dBA'], battery: ['battery', '%'],
        },
      );
      assert.equal(haReadingSpec('battery', 90).entity_category, 'diagnostic');
      assert.equal(haReadingSpec('CO2', 1).device_class, 'carbon_dioxide', 'case does not matter');
      for (const spec of Object.values(HA_KNOWN_READINGS)) assert.equal(spec.state_class, 'measurement');
    });

    it('unknown keys: a plain sensor, measurement only when numeric', () => {
      assert.deepEqual(haReadingSpec('light_level', 300), { name: 'Light level', state_class: 'measurement' });
      assert.deepEqual(haReadingSpec('light_level', '300'), { name: 'Light level', state_class: 'measurement' });
      assert.deepEqual(haReadingSpec('mode', 'eco'), { name: 'Mode' });
      assert.deepEqual(haReadingSpec('window_open', true), { name: 'Window open' });
    });
  });

  describe('reading msgs (parseHaInput)', () => {
    const parse = (msg: Record<string, unknown>) => parseHaInput(msg, 'homeassistant/status');

    it('telemetry: meta and non-scalars left out, unusable keys and values skipped, msg.device applied', () => {
      const cmd = parse({
        payload: { physical_id: 'D2:C1:AA:FF:3E:09', data: { co2: 550, mode: 'eco', meta: { firmware: '1.5.0' }, nested: { a: 1 }, list: [1], nan: NaN, long: 'x'.repeat(300), ['k'.repeat(65)]: 1, ' pad': 1, none: null, half: 'a\ud800', ['b\udc00']: 1 } },
        device: { name: 'Conference Room B\u0007', type: 'airbird', serial: 'LC-1', topology_id: 149 },
      });
      assert.equal(cmd.kind, 'data');
      if (cmd.kind !== 'data') return;
      assert.deepEqual(cmd.readings, [{ physicalId: 'D2:C1:AA:FF:3E:09', values: [['co2', 550], ['mode', 'eco'], ['none', null]], firmware: '1.5.0', meta: { firmware: '1.5.0' } }]);
      assert.deepEqual(cmd.devices, [{ physicalId: 'D2:C1:AA:FF:3E:09', name: 'Conference Room B', type: 'airbird', serial: 'LC-1', topologyId: 149 }]);
    });

    it('arrays: telemetry (array mode) and device lists; msg.physical_id stands in for one object only', () => {
      const cmd = parse({ payload: [{ physical_id: 'a', data: { co2: 1 } }, { physical_id: 'b', name: 'B', type: 'ambinode' }] });
      assert.ok(cmd.kind === 'data' && cmd.readings.length === 1 && cmd.devices.length === 1 && cmd.devices[0].name === 'B');
      const details = parse({ payload: { serial: 'LC-9', meta: {} }, physical_id: 'testsim00004' });
      assert.ok(details.kind === 'data' && details.devices[0].physicalId === 'testsim00004' && details.devices[0].serial === 'LC-9');
      assert.throws(() => parse({ payload: [{ serial: 'x' }], physical_id: 'a' }), /physical_id/);
    });

    it('actions, birth messages, Status and Catch msgs', () => {
      assert.deepEqual(parse({ action: 'remove' }), { kind: 'remove' });
      assert.deepEqual(parse({ action: 'remove', physical_id: ['a', 'a', 'b'] }), { kind: 'remove', ids: ['a', 'b'] });
      assert.deepEqual(parse({ action: 'announce' }), { kind: 'announce' });
      assert.deepEqual(parse({ topic: 'homeassistant/status', payload: 'online' }), { kind: 'birth', online: true });
      assert.deepEqual(parse({ topic: 'homeassistant/status', payload: Buffer.from('offline\n') }), { kind: 'birth', online: false });
      assert.deepEqual(parse({ status: { fill: 'green', text: 'node-red:common.status.connected' } }), { kind: 'connected' });
      assert.deepEqual(parse({ status: { fill: 'green', text: 'connected' } }), { kind: 'connected' });
      assert.deepEqual(parse({ status: { fill: 'red', text: 'node-red:common.status.disconnected' } }), { kind: 'ignore' });
      assert.deepEqual(parse({ status: { fill: 'green', text: '2 devices, 9 entities, state 14:05:12' } }), { kind: 'ignore' });
      assert.deepEqual(parse({ error: { message: 'x', code: 'LEAPCRAFT_NOT_FOUND' }, physical_id: 'a' }), { kind: 'failed', ids: ['a'], code: 'LEAPCRAFT_NOT_FOUND' });
      assert.deepEqual(parse({ error: { message: 'x' }, physical_id: 'a' }), { kind: 'failed', ids: ['a'] });
      assert.deepEqual(parse({ error: { message: 'x' } }), { kind: 'ignore' });
      // Without a device: the account's health only (e.g. the telemetry node's device list failed).
      assert.deepEqual(parse({ error: { message: 'x', code: 'LEAPCRAFT_AUTH' } }), { kind: 'failed', ids: [], code: 'LEAPCRAFT_AUTH' });
      assert.deepEqual(parse({ action: 'remove', physical_id: 'a', key: ['co2', 'co2'] }), { kind: 'remove', ids: ['a'], keys: ['co2'] });
    });

    it('refuses what it cannot use with LEAPCRAFT_INVALID_INPUT', () => {
      for (const msg of [
        { payload: 7 }, { payload: 'x' }, { payload: null }, { payload: true }, {}, { payload: { data: { co2: 1 } } },
        { payload: { physical_id: '..', data: {} } }, { payload: { physical_id: 'a\nb', data: {} } }, { payload: { physical_id: 'a', data: [] } },
        { payload: [1] }, { payload: { physical_id: 'a', data: {} }, device: 5 }, { payload: { physical_id: 'a', gateway_id: '..' } },
        { action: 'rm' }, { action: 'remove', physical_id: [] }, { topic: 'homeassistant/status', payload: 'up' },
        { action: 'remove', key: 'co2' }, { action: 'remove', physical_id: 'a', key: [1] }, { action: 'alert', payload: 'x' },
        { payload: { physical_id: 'a\nb', message: 'CO2 high' } },
        { payload: new Array(10_001).fill({ physical_id: 'a', data: {} }) },
      ]) {
        assert.throws(() => parse(msg), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT', JSON.stringify(msg).slice(0, 80));
      }
    });
  });

  describe('gateways from topologies', () => {
    it('finds a sensor by the topology\'s devices, else by topology_id against gateway_id, id or topology_id', () => {
      const index = new HaGatewayIndex([
        { gateway_id: '0123245cf74c60d7ee', name: null, devices: [{ physical_id: 'D2:C1:AA:FF:3E:09' }] },
        { gateway_id: 'gw-b', id: 149, name: 'Gateway 2F', device_count: 4 },
      ]);
      assert.deepEqual(index.resolve('D2:C1:AA:FF:3E:09', 'something else'), { id: '0123245cf74c60d7ee', sensors: 1 });
      assert.deepEqual(index.resolve('x', 149), { id: 'gw-b', name: 'Gateway 2F', sensors: 4 });
      assert.deepEqual(index.resolve('x', '149'), { id: 'gw-b', name: 'Gateway 2F', sensors: 4 });
      assert.deepEqual(index.resolve('x', 'gw-b'), { id: 'gw-b', name: 'Gateway 2F', sensors: 4 });
      assert.equal(index.resolve('x', 'nope'), undefined);
      assert.equal(index.resolve('x', undefined), undefined);
      assert.equal(HaGatewayIndex.listsDevices([{ gateway_id: 'a', devices: [] }]), true);
      assert.equal(HaGatewayIndex.listsDevices([{ gateway_id: 'a', device_count: 3 }]), false);
    });
  });

  describe('the bridge', () => {
    it('a first reading: configs (full sensor schema), online, state; the next reading: state only', () => {
      const b = bridge();
      const first = b.addData([{ physicalId: 'D2:C1:AA:FF:3E:09', name: 'Conference Room B', type: 'airbird', serial: 'LC-2026-X88' }], [reading('D2:C1:AA:FF:3E:09', { temperature: 23.1, humidity: 44.5, co2: 550 }, '1.5.0')], 1000);
      // Its model's four readings (battery expected for an AirBird), last seen and alert, nothing twice.
      assert.deepEqual(kinds(first), ['config', 'config', 'config', 'config', 'config', 'config', 'availability', 'state']);
      const [co2] = configs(first).filter((c) => c.name === 'CO2');
      const key = haDeviceKey('D2:C1:AA:FF:3E:09');
      assert.deepEqual(co2, {
        name: 'CO2',
        unique_id: `leapcraft_${key}-co2`,
        state_topic: `leapcraft/device/${key}/state`,
        value_template: '{{ value_json.co2 }}',
        device_class: 'carbon_dioxide',
        unit_of_measurement: 'ppm',
        state_class: 'measurement',
        suggested_display_precision: 0,
        expire_after: 180,
        availability: [{ topic: 'leapcraft/bridge/availability' }, { topic: `leapcraft/device/${key}/availability` }],
        availability_mode: 'all',
        qos: 1,
        device: { identifiers: ['leapcraft_D2:C1:AA:FF:3E:09'], name: 'Conference Room B', manufacturer: 'Leapcraft', model: 'AirBird', serial_number: 'LC-2026-X88', sw_version: '1.5.0' },
        origin: ORIGIN,
      });
      assert.equal(first[0].topic, `homeassistant/sensor/leapcraft_${key}/co2/config`);
      assert.deepEqual(first.slice(4, 6).map((m) => m.topic), [`homeassistant/sensor/leapcraft_${key}/last_seen/config`, `homeassistant/event/leapcraft_${key}/alert/config`]);
      // last_seen: the reading's own time when it has one, else when it came.
      assert.deepEqual(JSON.parse(first[7].payload), { co2: 550, temperature: 23.1, humidity: 44.5, battery: null, last_seen: '1970-01-01T00:00:01Z' });
      for (const m of first.filter((x) => x.kind === 'config')) assert.deepEqual(schemaProblems(m.topic, JSON.parse(m.payload)), []);
      assert.ok(first.every((m) => m.retain === true && m.qos === 1));
      assert.deepEqual(kinds(b.addData([], [reading('D2:C1:AA:FF:3E:09', { co2: 560 }, '1.5.0')], 2000)), ['state']);
      assert.deepEqual(b.stats(), { devices: 1, entities: 4, offline: 0, gateways: 0, lastStateAt: 2000, skippedKeys: 0 });
    });

    it('offline once on a failed poll or stale data, online again with a reading', () => {
      const b = bridge();
      b.addData([], [reading('a', { co2: 1 }), reading('b', { co2: 1 })], 0);
      assert.deepEqual(b.markFailed(['a', 'unknown']).map((m) => [m.physical_id, m.payload]), [['a', 'offline']]);
      assert.deepEqual(b.markFailed(['a']), []);
      assert.deepEqual(b.markStale(3000, 3000), [], 'not older than the limit');
      assert.deepEqual(b.markStale(3001, 3000).map((m) => [m.physical_id, m.payload]), [['b', 'offline']]);
      assert.deepEqual(b.markStale(9000, 3000), []);
      assert.deepEqual(kinds(b.addData([], [reading('a', { co2: 2 })], 9000)), ['availability', 'state']);
      assert.equal(b.stats().offline, 1);
    });

    it('gateways: announced first as their own device, linked by via_device, re-announced when the topology changes', () => {
      const b = bridge();
      const plain = b.addData([{ physicalId: 'a', topologyId: 'gw1' }], [reading('a', { co2: 1 })], 0);
      assert.ok(configs(plain).every((c) => c.device.via_device === undefined));
      const linked = b.setGatewayIndex(new HaGatewayIndex([{ gateway_id: 'gw1', name: 'Gateway 1F', device_count: 5 }]));
      // The device block changed (via_device, suggested_area): every entity of the device again.
      assert.deepEqual(linked.map((m) => [m.kind, m.gateway_id ?? m.physical_id]), [['config', 'gw1'], ['state', 'gw1'], ['config', 'a'], ['config', 'a'], ['config', 'a']]);
      const [gateway, sensor] = configs(linked);
      assert.deepEqual(gateway.device, { identifiers: ['leapcraft-gateway_gw1'], name: 'Gateway 1F', manufacturer: 'Leapcraft', model: 'Gateway', suggested_area: 'Gateway 1F' });
      assert.equal(gateway.entity_category, 'diagnostic');
      assert.equal(JSON.parse(linked[1].payload).sensors, 5);
      assert.equal(sensor.device.via_device, 'leapcraft-gateway_gw1');
      assert.equal(sensor.device.suggested_area, 'Gateway 1F', 'the area: the gateway\'s name by default');
      assert.deepEqual(b.setGatewayIndex(new HaGatewayIndex([{ gateway_id: 'gw1', name: 'Gateway 1F', device_count: 5 }])), [], 'nothing changed');
      // Without a count from the topology: the sensors the bridge knows behind it.
      const b2 = bridge();
      const two = b2.addData([{ physicalId: 'x', gatewayId: 'g' }, { physicalId: 'y', gatewayId: 'g' }], [reading('x', { co2: 1 }), reading('y', { co2: 1 })], 0);
      assert.deepEqual(two.filter((m) => m.gateway_id && m.kind === 'state').map((m) => JSON.parse(m.payload).sensors), [1, 2]);
    });

    it('announceAll: the bridge, every config, availability and last state', () => {
      const b = bridge();
      b.addData([{ physicalId: 'a', gatewayId: 'g' }], [reading('a', { co2: 1, temperature: 20 })], 0);
      b.markFailed(['a']);
      const all = b.announceAll(5000);
      const bridgeEntities = ['config', 'config', 'config', 'config', 'config', 'state'];
      assert.deepEqual(all.map((m) => m.kind), ['availability', ...bridgeEntities, 'config', 'state', 'config', 'config', 'config', 'config', 'availability', 'state']);
      assert.deepEqual([all[0].topic, all[0].payload], ['leapcraft/bridge/availability', 'online']);
      assert.equal(all[6].topic, 'leapcraft/bridge/state', 'the bridge\'s health too');
      assert.equal(all[13].payload, 'offline', 'as it is, not as it was announced');
    });

    it('remove: empty configs, cleared state and availability, forgotten; unknown devices get every known reading\'s topic', () => {
      const b = bridge();
      b.addData([{ physicalId: 'a', gatewayId: 'g' }, { physicalId: 'b', gatewayId: 'g' }], [reading('a', { co2: 1 }), reading('b', { co2: 1, custom: 'x' })], 0);
      b.markFailed(['b']);
      assert.deepEqual(b.stats(), { devices: 2, entities: 4, offline: 1, gateways: 1, lastStateAt: 0, skippedKeys: 0 });
      const one = b.remove(['b']);
      assert.deepEqual(b.stats(), { devices: 1, entities: 2, offline: 0, gateways: 1, lastStateAt: 0, skippedKeys: 0 });
      assert.deepEqual(one.map((m) => [m.kind, m.topic.split('/').slice(-2).join('/'), m.payload]), [
        ['config', 'co2/config', ''], ['config', 'custom/config', ''], ['config', 'last_seen/config', ''], ['config', 'alert/config', ''],
        ['state', `${haDeviceKey('b')}/state`, ''], ['availability', `${haDeviceKey('b')}/availability`, ''], ['state', 'g/state', '{"sensors":1}'],
      ]);
      assert.equal(one[3].topic, `homeassistant/event/leapcraft_${haDeviceKey('b')}/alert/config`);
      const rest = b.remove();
      assert.deepEqual(rest.filter((m) => m.kind === 'config').map((m) => m.topic), [
        `homeassistant/sensor/leapcraft_${haDeviceKey('a')}/co2/config`, `homeassistant/sensor/leapcraft_${haDeviceKey('a')}/last_seen/config`,
        `homeassistant/event/leapcraft_${haDeviceKey('a')}/alert/config`, 'homeassistant/sensor/leapcraft-gw_g/sensors/config',
      ]);
      assert.deepEqual(b.stats(), { devices: 0, entities: 0, offline: 0, gateways: 0, lastStateAt: 0, skippedKeys: 0 });
      assert.deepEqual(b.record().devices, {}, 'forgotten in the record too');
      const unknown = b.remove(['ghost']);
      const known = new Set([...Object.keys(HA_KNOWN_READINGS).map(haObjectId), 'last_seen', 'alert', 'air_quality', 'ventilation_demand', 'problem']);
      assert.deepEqual(new Set(unknown.filter((m) => m.kind === 'config' && m.topic.split('/').length === 5).map((m) => m.topic.split('/')[3])), known);
      assert.ok(unknown.some((m) => m.topic === `homeassistant/device/leapcraft_${haDeviceKey('ghost')}/config` && m.payload === ''), 'and the device-based config');
    });

    it('bounded memory: a msg past maxDevices is refused before anything changes; keys past maxKeysPerDevice are skipped', () => {
      const b = bridge({ maxDevices: 2, maxKeysPerDevice: 2 });
      b.addData([], [reading('a', { co2: 1 })], 0);
      assert.throws(() => b.addData([{ physicalId: 'b' }], [reading('c', { co2: 1 })], 0), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(b.stats().devices, 1);
      const msgs = b.addData([], [reading('a', { co2: 1, temperature: 2, humidity: 3 })], 0);
      assert.equal(configs(msgs).length, 1, 'the one new reading entity');
      assert.deepEqual(JSON.parse(msgs[msgs.length - 1].payload), { co2: 1, temperature: 2, last_seen: '1970-01-01T00:00:00Z' });
      assert.equal(b.stats().skippedKeys, 1);
    });

    it('no expire_after without an expected interval', () => {
      const msgs = bridge({ expireAfterS: undefined }).addData([], [reading('a', { co2: 1 })], 0);
      assert.equal(configs(msgs)[0].expire_after, undefined);
    });
  });
  describe('alerts', () => {
    const parse = (msg: Record<string, unknown>) => parseHaInput(msg, 'homeassistant/status');
    const alert = { id: 'a-1', physical_id: 'D2:C1:AA:FF:3E:09', type: 'co2_high', message: 'CO2 above 1000 ppm in Conference Room B', value: 1234, threshold: 1000, created_at: '2026-03-29T15:24:05Z' };

    it('tells an alert by its marks, not a device-list entry or a reading', () => {
      assert.equal(isAlertShaped(alert), true);
      assert.equal(isAlertShaped({ physical_id: 'x', type: 'device_offline' }), true, 'a known kind without message or threshold');
      assert.equal(isAlertShaped({ physical_id: 'x', type: 'co2_high', timestamp: '2026-03-29T15:24:05Z' }), true, 'a time called timestamp');
      assert.equal(isAlertShaped({ physical_id: 'x', name: 'Kitchen', type: 'airbird', serial: 'LC-1', topology_id: 'gw', meta: {} }), false);
      assert.equal(isAlertShaped({ physical_id: 'x', timestamp: '2026-03-29T15:24:05Z', co2: 500 }), false);
      assert.equal(isAlertShaped({ physical_id: 'x', data: { co2: 500 }, message: 'x' }), false, 'readings under data');
      const flat = parse({ payload: { physical_id: 'x', timestamp: '2026-03-29T15:24:05Z', co2: 1, message: 'ok' }, device: { name: 'X' } });
      assert.ok(flat.kind === 'data' && flat.readings.length === 1 && flat.alerts.length === 0, 'the telemetry node\'s msg (msg.device) is never an alert');
    });

    it('the notifications node\'s msg: one event, its kind as the event type, its fields as attributes (never a key or token)', () => {
      const cmd = parse({ payload: { ...alert, api_key: 'k', token: 't', access_token: 'a', nested: { a: 1 }, list: [1] }, topic: alert.physical_id });
      assert.ok(cmd.kind === 'data' && cmd.readings.length === 0 && cmd.devices.length === 0);
      if (cmd.kind !== 'data') return;
      assert.deepEqual(cmd.alerts, [{ physicalId: alert.physical_id, eventType: 'co2_high', attributes: { ...alert } }]);
      // msg.topic names the device when the alert does not; an unknown kind is `other`, its own kind kept.
      const other = parseAlert({ type: 'Window Open', message: 'open' }, 'room-1', 'msg.payload');
      assert.deepEqual(other, { physicalId: 'room-1', eventType: 'other', attributes: { type: 'Window Open', message: 'open', physical_id: 'room-1' } });
      assert.equal(parseAlert({ kind: 'Battery Low', threshold: 20 }, '', 'msg.payload').eventType, 'battery_low');
      assert.equal(parseAlert({ message: 'x' }, undefined, 'msg.payload').physicalId, undefined);
      // msg.action = "alert" takes any object as an alert.
      const forced = parse({ action: 'alert', payload: [{ physical_id: 'a', what: 'x' }] });
      assert.ok(forced.kind === 'data' && forced.alerts.length === 1 && forced.alerts[0].eventType === 'other');
      assert.ok(HA_ALERT_EVENT_TYPES.includes('other'));
    });

    it('an event of the device\'s alert entity, or of the bridge\'s for a device it does not know; never retained', () => {
      const b = deviceBridge();
      b.addData([{ physicalId: alert.physical_id, name: 'Conference Room B' }], [reading(alert.physical_id, { co2: 1200 })], 0);
      const { messages } = b.apply(parse({ payload: alert, topic: alert.physical_id }), 10);
      const events = messages.filter((m) => m.kind === 'event');
      assert.deepEqual(events.map((m) => [m.topic, m.retain]), [[`leapcraft/device/${haDeviceKey(alert.physical_id)}/alert`, false]]);
      assert.deepEqual(JSON.parse(events[0].payload), { ...alert, event_type: 'co2_high' });
      const unknown = b.alert(parseAlert({ ...alert, physical_id: 'not-announced' }, undefined, 'msg.payload'));
      assert.equal(unknown.topic, 'leapcraft/bridge/alert');
      assert.equal(JSON.parse(unknown.payload).physical_id, 'not-announced');
    });
  });

  describe('device-based discovery (the default)', () => {
    const id = 'D2:C1:AA:FF:3E:09';
    const key = haDeviceKey(id);
    const deviceTopic = `homeassistant/device/leapcraft_${key}/config`;
    const sensor = { physicalId: id, name: 'Conference Room B', type: 'airbird', serial: 'LC-2026-X88', gatewayId: 'gw1' };

    it('a first reading: the gateway\'s config, then one config for the device with every component; all pass the discovery checks', () => {
      const b = deviceBridge();
      const first = b.addData([sensor], [{ ...reading(id, { temperature: 23.1, humidity: 44.5, co2: 550 }, '1.5.0'), time: Date.parse('2026-03-29T15:24:05Z') }], 1000);
      assert.deepEqual(first.map((m) => [m.kind, m.topic]), [
        ['config', 'homeassistant/device/leapcraft-gw_gw1/config'], ['state', 'leapcraft/gateway/gw1/state'], ['config', deviceTopic],
        ['availability', `leapcraft/device/${key}/availability`], ['state', `leapcraft/device/${key}/state`],
      ]);
      const payload = JSON.parse(first[2].payload);
      assert.deepEqual(deviceConfigProblems(first[2].topic, payload), []);
      assert.deepEqual(deviceConfigProblems(first[0].topic, JSON.parse(first[0].payload)), []);
      assert.deepEqual(Object.keys(payload), ['dev', 'o', 'cmps', 'stat_t', 'avty', 'avty_mode', 'qos'], 'abbreviated, shared options at the root');
      assert.deepEqual(Object.entries(payload.cmps).map(([c, v]) => [c, (v as { p: string }).p]), [
        ['co2', 'sensor'], ['temperature', 'sensor'], ['humidity', 'sensor'], ['battery', 'sensor'], ['last_seen', 'sensor'], ['alert', 'event'],
      ]);
      // The unique ids of the reading entities are the ones per-entity discovery always gave.
      const components = deviceComponents(first[2].topic, payload);
      assert.deepEqual(components.map((c) => c.config!.unique_id), ['co2', 'temperature', 'humidity', 'battery', 'last_seen', 'alert'].map((o) => haUniqueId(`leapcraft_${key}`, o)));
      const co2 = components[0].config!;
      assert.deepEqual(co2, {
        name: 'CO2', unique_id: `leapcraft_${key}-co2`, value_template: '{{ value_json.co2 }}', device_class: 'carbon_dioxide', unit_of_measurement: 'ppm',
        state_class: 'measurement', suggested_display_precision: 0, expire_after: 180,
        availability: [{ topic: 'leapcraft/bridge/availability' }, { topic: `leapcraft/device/${key}/availability` }], availability_mode: 'all',
        state_topic: `leapcraft/device/${key}/state`, qos: 1,
        device: { identifiers: [`leapcraft_${id}`], name: 'Conference Room B', manufacturer: 'Leapcraft', model: 'AirBird', serial_number: 'LC-2026-X88', sw_version: '1.5.0', via_device: 'leapcraft-gateway_gw1' },
        origin: ORIGIN,
      });
      // last seen and alert stay available while the device is offline: the bridge's availability only.
      const lastSeen = components.find((c) => c.id === 'last_seen')!.config!;
      assert.deepEqual([lastSeen.device_class, lastSeen.entity_category, lastSeen.availability], ['timestamp', 'diagnostic', [{ topic: 'leapcraft/bridge/availability' }]]);
      const alertEntity = components.find((c) => c.id === 'alert')!.config!;
      assert.deepEqual([alertEntity.state_topic, alertEntity.event_types], [`leapcraft/device/${key}/alert`, [...HA_ALERT_EVENT_TYPES]]);
      const state = JSON.parse(first[4].payload);
      assert.equal(state.last_seen, '2026-03-29T15:24:05Z', 'the reading\'s own time');
      for (const c of components) {
        if (c.config!.value_template && state[c.id] !== null) assert.equal(renderTemplate(c.config!.value_template, state), String(state[c.id]), c.id);
      }
      assert.equal(renderTemplate(co2.value_template, state), '550');
      // The next reading: the state only.
      assert.deepEqual(kinds(b.addData([], [reading(id, { co2: 560 }, '1.5.0')], 2000)), ['state']);
    });

    it('a new reading key: the device\'s config once more, with the component added (nothing else)', () => {
      const b = deviceBridge();
      b.addData([], [reading('x', { co2: 1 })], 0);
      const more = b.addData([], [reading('x', { co2: 1, light_level: 300 })], 1);
      assert.deepEqual(kinds(more), ['config', 'state']);
      assert.deepEqual(Object.keys(JSON.parse(more[0].payload).cmps), ['co2', 'light_level', 'last_seen', 'alert']);
      assert.deepEqual(b.addData([], [reading('x', { co2: 2, light_level: 301 })], 2).map((m) => m.kind), ['state']);
    });

    it('removing a component: the config with it reduced to its platform, then without it; a device: one empty config', () => {
      const b = deviceBridge();
      b.addData([], [reading('x', { co2: 1, mode: 'eco' })], 0);
      const { messages } = b.apply(parseHaInput({ action: 'remove', physical_id: 'x', key: 'mode' }, 'homeassistant/status'), 1);
      const configsSent = messages.filter((m) => m.kind === 'config').map((m) => JSON.parse(m.payload).cmps);
      assert.deepEqual(configsSent.map((c) => c.mode), [{ p: 'sensor' }, undefined]);
      assert.deepEqual(Object.keys(configsSent[1]), ['co2', 'last_seen', 'alert']);
      assert.deepEqual(deviceConfigProblems(messages[0].topic, JSON.parse(messages[0].payload)), []);
      const gone = b.remove(['x']);
      assert.deepEqual(gone.map((m) => [m.kind, m.topic, m.payload]), [
        ['config', 'homeassistant/device/leapcraft_x/config', ''], ['state', 'leapcraft/device/x/state', ''], ['availability', 'leapcraft/device/x/availability', ''],
      ]);
    });

    it('suggested_area: the gateway\'s name (default), the device\'s name, a meta field, or none', () => {
      const area = (options: Options, device: Record<string, unknown> = {}) => {
        const b = deviceBridge(options);
        b.setGatewayIndex(new HaGatewayIndex([{ gateway_id: 'gw1', name: 'Gateway 1F' }, { gateway_id: 'gw2', name: null }]));
        const msgs = b.addData([{ physicalId: 'x', name: 'Kitchen', topologyId: 'gw1', meta: { zone: 'North', floor: '2' }, ...device }], [reading('x', { co2: 1 })], 0);
        return JSON.parse(msgs.find((m) => m.physical_id === 'x' && m.kind === 'config')!.payload).dev.sa;
      };
      assert.equal(area({}), 'Gateway 1F');
      assert.equal(area({}, { topologyId: 'gw2' }), undefined, 'a gateway without a name gives none');
      assert.equal(area({ area: { source: 'device' } }), 'Kitchen');
      assert.equal(area({ area: { source: 'meta', field: 'zone' } }), 'North');
      assert.equal(area({ area: { source: 'meta', field: 'room' } }), undefined);
      assert.equal(area({ area: { source: 'none' } }), undefined);
    });

    it('the bridge\'s own device: health entities (connectivity, problem, count, timestamp) and the event entity for unknown devices', () => {
      const b = deviceBridge();
      const [config, state] = b.announceBridge(0);
      assert.equal(config.topic, 'homeassistant/device/leapcraft-bridge_leapcraft/config');
      assert.deepEqual(deviceConfigProblems(config.topic, JSON.parse(config.payload)), []);
      const components = deviceComponents(config.topic, JSON.parse(config.payload));
      assert.deepEqual(components.map((c) => [c.id, c.platform, c.config!.device_class ?? null, c.config!.entity_category ?? null]), [
        ['api', 'binary_sensor', 'connectivity', 'diagnostic'], ['rate_limited', 'binary_sensor', 'problem', 'diagnostic'],
        ['devices_polled', 'sensor', null, 'diagnostic'], ['last_poll', 'sensor', 'timestamp', 'diagnostic'], ['alert', 'event', null, null],
      ]);
      assert.deepEqual(JSON.parse(state.payload), { api: null, api_problem: {}, rate_limited: 'OFF', devices_polled: 0, last_poll: null });
    });
  });

  describe('health', () => {
    it('API reachable from readings and the account\'s reads, why not when not; rate limited; devices polled; last poll', () => {
      const b = deviceBridge();
      b.announceBridge(0);
      const health = (msgs: HaMessage[]) => msgs.filter((m) => m.topic === 'leapcraft/bridge/state').map((m) => JSON.parse(m.payload));
      const [afterReading] = health(b.apply(parseHaInput({ payload: { physical_id: 'a', data: { co2: 1 } } }, 'x'), Date.parse('2026-03-29T15:24:05Z')).messages);
      assert.deepEqual(afterReading, { api: 'ON', api_problem: {}, rate_limited: 'OFF', devices_polled: 1, last_poll: '2026-03-29T15:24:05Z' });
      // A refused key (a Catch node's msg of the telemetry node without a device): not reachable, and why.
      const since = Date.parse('2026-03-29T15:30:00Z');
      const [refused] = health(b.apply(parseHaInput({ error: { code: 'LEAPCRAFT_AUTH', message: 'x' } }, 'x'), since).messages);
      assert.deepEqual([refused.api, refused.api_problem], ['OFF', { error: 'key refused', code: 'LEAPCRAFT_AUTH', since: '2026-03-29T15:30:00Z' }]);
      assert.equal(renderTemplate('{{ value_json.api_problem | tojson }}', refused), '{"error":"key refused","code":"LEAPCRAFT_AUTH","since":"2026-03-29T15:30:00Z"}');
      // One device not found says nothing about the API; nothing changed, nothing sent.
      assert.deepEqual(health(b.apply(parseHaInput({ error: { code: 'LEAPCRAFT_NOT_FOUND' }, physical_id: 'zz' }, 'x'), since + 1).messages), []);
      b.accountFailed('LEAPCRAFT_RATE_LIMITED', since + 2, since + 2, 30_000);
      assert.deepEqual(health(b.healthMessages(since + 3)).map((h) => [h.api, h.rate_limited]), [['OFF', 'ON']]);
      b.accountSucceeded();
      b.setClientRateLimited(false);
      assert.deepEqual(health(b.healthMessages(since + 40_000)).map((h) => [h.api, h.rate_limited, h.api_problem]), [['ON', 'OFF', {}]]);
      b.setClientRateLimited(true);
      assert.equal(health(b.healthMessages(since + 40_001))[0].rate_limited, 'ON', 'the client\'s own 429 pause');
      assert.deepEqual(b.healthMessages(since + 40_002), [], 'unchanged: nothing');
      b.markFailed(['a']);
      assert.equal(health(b.healthMessages(since + 40_003))[0].devices_polled, 0);
    });
  });

  describe('clean-up and the record', () => {
    it('a device missing from the device list for the grace period is removed; one that comes back or reports is not', () => {
      const b = deviceBridge({ removeAfterMs: 1000 });
      b.addData([], [reading('a', { co2: 1 }), reading('b', { co2: 1 }), reading('c', { co2: 1 })], 0);
      assert.deepEqual(b.setDeviceList(['a'], 100), []);
      assert.deepEqual(b.missing().map((m) => m.physicalId).sort(), ['b', 'c']);
      assert.deepEqual(b.cleanup(1099), [], 'not before the grace period');
      b.setDeviceList(['a', 'b'], 500);
      b.addData([], [reading('c', { co2: 2 })], 600);
      assert.deepEqual(b.missing(), [], 'b is listed again, c reports');
      b.setDeviceList(['a'], 700);
      const removed = b.cleanup(1700);
      assert.deepEqual(removed.filter((m) => m.kind === 'config').map((m) => [m.topic, m.payload]).sort(), [
        ['homeassistant/device/leapcraft_b/config', ''], ['homeassistant/device/leapcraft_c/config', ''],
      ]);
      assert.deepEqual(Object.keys(b.record().devices), ['a']);
      assert.deepEqual(deviceBridge({ removeAfterMs: 0 }).cleanup(1e12), [], '0: never');
    });

    it('what was announced survives a restart through the record: clean-up and the same config for devices not seen since', () => {
      const before = deviceBridge({ removeAfterMs: 1000 });
      const first = before.addData([{ physicalId: 'a', name: 'A', type: 'ambinode' }], [reading('a', { co2: 1, light_level: 3 }), reading('b', { co2: 1 })], 0);
      const stored = JSON.parse(JSON.stringify(before.record()));
      assert.deepEqual(readHaRecord(stored, 10), stored);
      assert.equal(readHaRecord({ v: 2 }, 10), undefined);
      assert.deepEqual(readHaRecord({ v: 1, devices: { x: { mode: 'device', components: { '../x': 'sensor', ok: 'light' } }, y: 'z' } }, 10), { v: 1, devices: {}, gateways: {} }, 'garbage dropped');

      const after = deviceBridge({ removeAfterMs: 1000 });
      after.restore(stored);
      // a's first reading after the restart lacks light_level: its component stays (omitting it would delete it).
      const again = after.addData([{ physicalId: 'a', name: 'A', type: 'ambinode' }], [reading('a', { co2: 2 })], 5000);
      const config = (msgs: HaMessage[]) => msgs.find((m) => m.kind === 'config' && m.physical_id === 'a')!.payload;
      assert.equal(config(again), config(first), 'the very same config');
      // b left while the bridge was stopped: the first device list finds it missing, the grace period removes it.
      after.setDeviceList(['a'], 6000);
      assert.deepEqual(after.cleanup(7000).filter((m) => m.kind === 'config').map((m) => m.topic), ['homeassistant/device/leapcraft_b/config']);
    });

    it('switching the form migrates the way Home Assistant documents: migrate_discovery on the old topics, the new configs, the old topics emptied', () => {
      const entity = bridge();
      entity.addData([], [reading('x', { co2: 1 })], 0);
      const device = deviceBridge();
      device.restore(entity.record());
      const msgs = device.addData([], [reading('x', { co2: 2 })], 1).filter((m) => m.kind === 'config');
      assert.deepEqual(msgs.map((m) => [m.topic, m.payload === '' ? '' : m.payload.startsWith('{"migrate') ? 'migrate' : 'config']), [
        ['homeassistant/sensor/leapcraft_x/co2/config', 'migrate'], ['homeassistant/sensor/leapcraft_x/last_seen/config', 'migrate'],
        ['homeassistant/event/leapcraft_x/alert/config', 'migrate'], ['homeassistant/device/leapcraft_x/config', 'config'],
        ['homeassistant/sensor/leapcraft_x/co2/config', ''], ['homeassistant/sensor/leapcraft_x/last_seen/config', ''], ['homeassistant/event/leapcraft_x/alert/config', ''],
      ]);
      assert.deepEqual(JSON.parse(msgs[0].payload), { migrate_discovery: true });
      // And back (a rollback): migr_discvry on the device topic, the entity configs, the device topic emptied.
      const back = bridge();
      back.restore(device.record());
      const rolled = back.addData([], [reading('x', { co2: 3 })], 2).filter((m) => m.kind === 'config');
      assert.deepEqual([rolled[0].topic, JSON.parse(rolled[0].payload)], ['homeassistant/device/leapcraft_x/config', { migr_discvry: true }]);
      assert.deepEqual([rolled[rolled.length - 1].topic, rolled[rolled.length - 1].payload], ['homeassistant/device/leapcraft_x/config', '']);
      assert.equal(rolled.filter((m) => m.payload.startsWith('{"name"')).length, 3);
    });

    it('a reading called last_seen or alert keeps its own entity', () => {
      assert.notEqual(haReadingId('last_seen'), 'last_seen');
      assert.notEqual(haReadingId('alert'), 'alert');
      assert.equal(haReadingId('co2'), 'co2');
      const msgs = deviceBridge().addData([], [reading('x', { alert: 1, last_seen: 'yesterday' })], 0);
      const cmps = JSON.parse(msgs.find((m) => m.kind === 'config')!.payload).cmps;
      assert.equal(Object.keys(cmps).length, 4);
    });
  });

  describe('settings', () => {
    it('defaults, the legacy form for a node saved before device-based discovery, and refusals', () => {
      const legacy = parseHaSettings({});
      assert.deepEqual([legacy.discovery, legacy.area, legacy.removeAfterMs, legacy.store], ['entity', 'gateway', 24 * 3_600_000, undefined]);
      const now = parseHaSettings({ discovery: 'device', area: 'meta', areaField: ' zone ', removeAfter: '90', removeAfterUnit: 's', store: 'file' });
      assert.deepEqual([now.discovery, now.area, now.areaField, now.removeAfterMs, now.store], ['device', 'meta', 'zone', 90_000, 'file']);
      assert.equal(haCleanupEveryMs(now), 9000);
      assert.equal(haCleanupEveryMs(parseHaSettings({ removeAfter: 0 })), undefined);
      const options = haBridgeOptions(now);
      assert.deepEqual([options.mode, options.area, options.removeAfterMs], ['device', { source: 'meta', field: 'zone' }, 90_000]);
      for (const bad of [{ discovery: 'both' }, { area: 'room' }, { area: 'meta' }, { removeAfter: -1 }, { removeAfter: 366, removeAfterUnit: 'd' }, { removeAfterUnit: 'w' }, { store: 'x'.repeat(65) }, { areaField: 7 }]) {
        assert.throws(() => parseHaSettings(bad), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT', JSON.stringify(bad));
      }
    });
  });
});
