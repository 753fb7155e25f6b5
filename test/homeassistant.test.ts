/**
 * The Home Assistant bridge's pure parts (lib/homeassistant/): ids and topics, the reading
 * table, value templates, reading msgs, gateways from topologies, and the bridge's decisions.
 */
import assert from 'node:assert/strict';
import nunjucks from 'nunjucks';
import {
  HA_KNOWN_READINGS, haDeviceKey, HaGatewayIndex, HaMessage, haObjectId, haReadingSpec, haTopicSetting, haUniqueId, haValueTemplate,
  HomeAssistantBridge, parseHaInput,
} from '../lib';

const ORIGIN = { name: 'node-red-contrib-leapcraft', sw_version: '0.1.0' };
function bridge(options: Partial<ConstructorParameters<typeof HomeAssistantBridge>[0]> = {}) {
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
      assert.deepEqual(cmd.readings, [{ physicalId: 'D2:C1:AA:FF:3E:09', values: [['co2', 550], ['mode', 'eco'], ['none', null]], firmware: '1.5.0' }]);
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
      assert.deepEqual(parse({ error: { message: 'x', code: 'LEAPCRAFT_NOT_FOUND' }, physical_id: 'a' }), { kind: 'failed', ids: ['a'] });
      assert.deepEqual(parse({ error: { message: 'x' } }), { kind: 'ignore' });
    });

    it('refuses what it cannot use with LEAPCRAFT_INVALID_INPUT', () => {
      for (const msg of [
        { payload: 7 }, { payload: 'x' }, { payload: null }, { payload: true }, {}, { payload: { data: { co2: 1 } } },
        { payload: { physical_id: '..', data: {} } }, { payload: { physical_id: 'a\nb', data: {} } }, { payload: { physical_id: 'a', data: [] } },
        { payload: [1] }, { payload: { physical_id: 'a', data: {} }, device: 5 }, { payload: { physical_id: 'a', gateway_id: '..' } },
        { action: 'rm' }, { action: 'remove', physical_id: [] }, { topic: 'homeassistant/status', payload: 'up' },
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
      // Its model's four readings (battery expected for an AirBird) and nothing twice.
      assert.deepEqual(kinds(first), ['config', 'config', 'config', 'config', 'availability', 'state']);
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
      assert.deepEqual(JSON.parse(first[5].payload), { co2: 550, temperature: 23.1, humidity: 44.5, battery: null });
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
      assert.deepEqual(linked.map((m) => [m.kind, m.gateway_id ?? m.physical_id]), [['config', 'gw1'], ['state', 'gw1'], ['config', 'a']]);
      const [gateway, sensor] = configs(linked);
      assert.deepEqual(gateway.device, { identifiers: ['leapcraft-gateway_gw1'], name: 'Gateway 1F', manufacturer: 'Leapcraft', model: 'Gateway' });
      assert.equal(gateway.entity_category, 'diagnostic');
      assert.equal(JSON.parse(linked[1].payload).sensors, 5);
      assert.equal(sensor.device.via_device, 'leapcraft-gateway_gw1');
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
      const all = b.announceAll();
      assert.deepEqual(all.map((m) => m.kind), ['availability', 'config', 'state', 'config', 'config', 'availability', 'state']);
      assert.deepEqual([all[0].topic, all[0].payload], ['leapcraft/bridge/availability', 'online']);
      assert.equal(all[5].payload, 'offline', 'as it is, not as it was announced');
    });

    it('remove: empty configs, cleared state and availability, forgotten; unknown devices get every known reading\'s topic', () => {
      const b = bridge();
      b.addData([{ physicalId: 'a', gatewayId: 'g' }, { physicalId: 'b', gatewayId: 'g' }], [reading('a', { co2: 1 }), reading('b', { co2: 1, custom: 'x' })], 0);
      b.markFailed(['b']);
      assert.deepEqual(b.stats(), { devices: 2, entities: 4, offline: 1, gateways: 1, lastStateAt: 0, skippedKeys: 0 });
      const one = b.remove(['b']);
      assert.deepEqual(b.stats(), { devices: 1, entities: 2, offline: 0, gateways: 1, lastStateAt: 0, skippedKeys: 0 });
      assert.deepEqual(one.map((m) => [m.kind, m.topic.split('/').slice(-2).join('/'), m.payload]), [
        ['config', 'co2/config', ''], ['config', 'custom/config', ''], ['state', `${haDeviceKey('b')}/state`, ''],
        ['availability', `${haDeviceKey('b')}/availability`, ''], ['state', 'g/state', '{"sensors":1}'],
      ]);
      const rest = b.remove();
      assert.deepEqual(rest.filter((m) => m.kind === 'config').map((m) => m.topic), [
        `homeassistant/sensor/leapcraft_${haDeviceKey('a')}/co2/config`, 'homeassistant/sensor/leapcraft-gw_g/sensors/config',
      ]);
      assert.deepEqual(b.stats(), { devices: 0, entities: 0, offline: 0, gateways: 0, lastStateAt: 0, skippedKeys: 0 });
      const unknown = b.remove(['ghost']);
      const known = new Set(Object.keys(HA_KNOWN_READINGS).map(haObjectId));
      assert.deepEqual(new Set(unknown.filter((m) => m.kind === 'config').map((m) => m.topic.split('/')[3])), known);
    });

    it('bounded memory: a msg past maxDevices is refused before anything changes; keys past maxKeysPerDevice are skipped', () => {
      const b = bridge({ maxDevices: 2, maxKeysPerDevice: 2 });
      b.addData([], [reading('a', { co2: 1 })], 0);
      assert.throws(() => b.addData([{ physicalId: 'b' }], [reading('c', { co2: 1 })], 0), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT');
      assert.equal(b.stats().devices, 1);
      const msgs = b.addData([], [reading('a', { co2: 1, temperature: 2, humidity: 3 })], 0);
      assert.equal(configs(msgs).length, 1);
      assert.deepEqual(JSON.parse(msgs[msgs.length - 1].payload), { co2: 1, temperature: 2 });
      assert.equal(b.stats().skippedKeys, 1);
    });

    it('no expire_after without an expected interval', () => {
      const msgs = bridge({ expireAfterS: undefined }).addData([], [reading('a', { co2: 1 })], 0);
      assert.equal(configs(msgs)[0].expire_after, undefined);
    });
  });
});
