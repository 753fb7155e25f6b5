/** The tests' Home Assistant discovery schema checker (test/support/ha-discovery-schema.ts): it refuses what Home Assistant refuses or ignores. */
import assert from 'node:assert/strict';
import { deviceComponents, deviceConfigProblems, renderTemplate, schemaProblems } from '../../support/ha-discovery-schema';

type Config = Record<string, any>;

describe('Home Assistant discovery schema (the tests\' checker)', () => {
  const device = { identifiers: ['leapcraft_x'], name: 'X', manufacturer: 'Leapcraft' };
  const origin = { name: 'node-red-contrib-leapcraft' };
  const good = {
    name: 'CO2', unique_id: 'leapcraft_x-co2', state_topic: 'leapcraft/device/x/state', value_template: '{{ value_json.co2 }}', device_class: 'carbon_dioxide',
    unit_of_measurement: 'ppm', state_class: 'measurement', availability: [{ topic: 'a' }], qos: 1, device, origin,
  };

  it('passes a good sensor and refuses each thing Home Assistant would refuse or ignore', () => {
    const topic = 'homeassistant/sensor/leapcraft_x/co2/config';
    assert.deepEqual(schemaProblems(topic, good), []);
    for (const [what, bad] of [
      ['a wrong unit', { ...good, unit_of_measurement: '%' }], ['a unit on a timestamp', { ...good, device_class: 'timestamp' }],
      ['an unknown key', { ...good, unit: 'ppm' }], ['no unique id', { ...good, unique_id: undefined }], ['no availability', { ...good, availability: [] }],
      ['a config entity', { ...good, entity_category: 'config' }], ['no origin', { ...good, origin: undefined }],
    ] as const) {
      assert.notDeepEqual(schemaProblems(topic, bad as Config), [], what);
    }
    assert.notDeepEqual(schemaProblems('homeassistant/sensor/leapcraft x/co2/config', good), [], 'an id outside the charset');
    assert.notDeepEqual(schemaProblems('homeassistant/event/leapcraft_x/alert/config', { ...good, device_class: undefined, unit_of_measurement: undefined, state_class: undefined }), [], 'an event without event_types');
    assert.notDeepEqual(schemaProblems('homeassistant/binary_sensor/leapcraft_x/api/config', { ...good, unit_of_measurement: undefined, state_class: undefined, device_class: 'carbon_dioxide' }), []);
    const enumSensor = { ...good, device_class: 'enum', options: ['I', 'II'], unit_of_measurement: undefined, state_class: undefined };
    assert.deepEqual(schemaProblems(topic, enumSensor), []);
    for (const [what, bad] of [
      ['an enum without options', { ...enumSensor, options: undefined }], ['empty options', { ...enumSensor, options: [] }],
      ['options repeating', { ...enumSensor, options: ['I', 'I'] }], ['an enum with a state class', { ...enumSensor, state_class: 'measurement' }],
      ['an enum with a unit', { ...enumSensor, unit_of_measurement: '%' }], ['options without the enum class', { ...good, options: ['I'] }],
    ] as const) {
      assert.notDeepEqual(schemaProblems(topic, bad as Config), [], what);
    }
  });

  it('expands a device-based config and finds mixed or unknown spelling', () => {
    const topic = 'homeassistant/device/leapcraft_x/config';
    const payload = {
      dev: { ids: ['leapcraft_x'], name: 'X', mf: 'Leapcraft', sa: 'Room' }, o: { name: 'node-red-contrib-leapcraft', sw: '1' },
      cmps: { co2: { p: 'sensor', name: 'CO2', uniq_id: 'leapcraft_x-co2', val_tpl: '{{ value_json.co2 }}', dev_cla: 'carbon_dioxide', unit_of_meas: 'ppm' } },
      stat_t: 'leapcraft/device/x/state', avty: [{ t: 'a' }], qos: 1,
    };
    assert.deepEqual(deviceConfigProblems(topic, payload), []);
    const [co2] = deviceComponents(topic, payload);
    assert.equal(co2.topic, 'homeassistant/sensor/leapcraft_x/co2/config');
    assert.deepEqual(co2.config!.availability, [{ topic: 'a' }]);
    assert.equal(co2.config!.device.suggested_area, 'Room');
    assert.notDeepEqual(deviceConfigProblems(topic, { ...payload, state_topic: 'x' }), [], 'a full name beside abbreviations');
    assert.notDeepEqual(deviceConfigProblems(topic, { ...payload, cmps: { co2: { ...payload.cmps.co2, unit_of_meas: '%' } } }), [], 'a component checked like an entity');
    assert.notDeepEqual(deviceConfigProblems(topic, { ...payload, dev: undefined }), []);
    assert.deepEqual(deviceComponents(topic, { ...payload, cmps: { co2: { p: 'sensor' } } }).map((c) => c.config), [null], 'a removal');
  });

  it('renders templates as Jinja2 would, tojson included', () => {
    assert.equal(renderTemplate('{{ value_json.co2 }}', { co2: 550 }), '550');
    assert.equal(renderTemplate('{{ value_json.api_problem | tojson }}', { api_problem: { error: 'key refused' } }), '{"error":"key refused"}');
  });
});
