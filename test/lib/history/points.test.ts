import assert from 'node:assert/strict';
import { answerPoints, deviceTags, numericValue, pointFields, reservedNames } from '../../../lib/history/points';
import { parseHistorySettings } from '../../../lib/history/settings';

const ALL = parseHistorySettings({}).tags;
const DEVICE = { physical_id: 'D2:C1:AA:FF:3E:09', name: 'Kitchen', type: 'ambinode', topology_id: 'GW-1', serial: 'LC-1' };
const target = { id: DEVICE.physical_id, device: DEVICE, tags: ALL, measurement: 'leapcraft' };

describe('history points', () => {
  describe('numericValue', () => {
    it('takes finite numbers and decimal numbers sent as text', () => {
      assert.equal(numericValue(21.5), 21.5);
      assert.equal(numericValue(0), 0);
      assert.equal(numericValue('21.5'), 21.5);
      assert.equal(numericValue(' -3 '), -3);
      assert.equal(numericValue('1e3'), 1000);
      assert.equal(numericValue('.5'), 0.5);
    });
    it('refuses everything else, including what Number() would read as a number', () => {
      for (const v of [NaN, Infinity, '', ' ', '0x1A', '12abc', 'Infinity', true, null, undefined, {}, [1], '1,5']) {
        assert.equal(numericValue(v), undefined, JSON.stringify(v));
      }
    });
  });

  describe('deviceTags', () => {
    it('gives the chosen tags from the device list entry', () => {
      assert.deepEqual(deviceTags('x', DEVICE, ALL), { device: 'x', name: 'Kitchen', model: 'ambinode', gateway: 'GW-1' });
      assert.deepEqual(deviceTags('x', DEVICE, ['device', 'model']), { device: 'x', model: 'ambinode' });
    });
    it('leaves out what the list does not give, and cleans what it gives', () => {
      assert.deepEqual(deviceTags('x', undefined, ALL), { device: 'x' });
      assert.deepEqual(deviceTags('x', { physical_id: 'x', name: '  ', topology_id: 7 }, ALL), { device: 'x', gateway: '7' });
      const tags = deviceTags('x', { physical_id: 'x', name: 'Line\nbreak\u0000', type: 'a'.repeat(400) }, ALL);
      assert.equal(tags.name, 'Line break');
      assert.equal(tags.model!.length, 256);
    });
  });

  describe('pointFields', () => {
    it('nested readings: numbers and numeric text become fields; meta and the rest are counted', () => {
      const point = { data: { co2: 550, temperature: '21.5', status: 'ok', flag: true, meta: { firmware: '1' } } };
      assert.deepEqual(pointFields(point, reservedNames(ALL)), { fields: { co2: 550, temperature: 21.5 }, skipped: 3 });
    });
    it('flat readings: the fields that describe the point are not readings, meta is counted', () => {
      const point = { physical_id: 'x', timestamp: '2026-03-29T15:24:05Z', created_at: 'y', co2: 550, humidity: '44', meta: {}, note: 'n' };
      assert.deepEqual(pointFields(point, reservedNames(ALL)), { fields: { co2: 550, humidity: 44 }, skipped: 2 });
    });
    it('a reading named like a tag or the time is left out and counted', () => {
      const point = { data: { name: 3, time: 4, gateway: 5, co2: 1 } };
      assert.deepEqual(pointFields(point, reservedNames(ALL)), { fields: { co2: 1 }, skipped: 3 });
      assert.deepEqual(pointFields(point, reservedNames(['device'])), { fields: { name: 3, gateway: 5, co2: 1 }, skipped: 1 });
    });
  });

  describe('answerPoints', () => {
    it('a latest reading: one point at the reading\'s own time', () => {
      const value = { physical_id: DEVICE.physical_id, timestamp: '2026-03-29T15:24:05Z', data: { co2: 550, meta: {} }, created_at: '2026-03-29T15:24:07Z' };
      const shaped = answerPoints(value, target);
      assert.deepEqual(shaped, {
        points: [{ measurement: 'leapcraft', tags: { device: DEVICE.physical_id, name: 'Kitchen', model: 'ambinode', gateway: 'GW-1' }, fields: { co2: 550 }, timestamp: new Date('2026-03-29T15:24:05Z') }],
        skipped: 1,
        undated: 0,
      });
    });
    it('zone-less API times are UTC; created_at stands in for a missing timestamp', () => {
      assert.equal(answerPoints({ timestamp: '2026-03-29 15:24:05', co2: 1 }, target).points[0]!.timestamp.toISOString(), '2026-03-29T15:24:05.000Z');
      assert.equal(answerPoints({ created_at: '2026-03-29T15:24:07Z', co2: 1 }, target).points[0]!.timestamp.toISOString(), '2026-03-29T15:24:07.000Z');
    });
    it('a point without any time is not written, and counted; with a fallback time it is', () => {
      assert.deepEqual(answerPoints({ data: { co2: 1 } }, target), { points: [], skipped: 0, undated: 1 });
      assert.equal(answerPoints({ data: { co2: 1 } }, target, 0).points[0]!.timestamp.getTime(), 0);
    });
    it('every point of an array or envelope, and none without a numeric value', () => {
      const points = [
        { timestamp: '2026-03-27T00:00:00Z', data: { co2: 500 } },
        { timestamp: '2026-03-28T00:00:00Z', data: { co2: 'n/a', meta: {} } },
      ];
      assert.equal(answerPoints(points, target).points.length, 1);
      assert.equal(answerPoints({ data: points }, target).points.length, 1);
      assert.equal(answerPoints({ data: points }, target).skipped, 2);
    });
    it('each point has tags of its own (a later change to one is not a change to another)', () => {
      const shaped = answerPoints([{ timestamp: '2026-03-27T00:00:00Z', co2: 1 }, { timestamp: '2026-03-28T00:00:00Z', co2: 2 }], target);
      shaped.points[0]!.tags.name = 'changed';
      assert.equal(shaped.points[1]!.tags.name, 'Kitchen');
    });
  });
});
