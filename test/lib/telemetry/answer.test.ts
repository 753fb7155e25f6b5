/** Finding the reading in a telemetry answer however it is wrapped (lib/telemetry/answer.ts). */
import assert from 'node:assert/strict';
import { findAverages, findLatestReading } from '../../../lib/telemetry/answer';
import { extractMetrics, readingTime } from '../../../lib/telemetry/readings';

/** The docs' sample: its `data` holds the readings. */
const SAMPLE = {
  physical_id: 'D2:C1:AA:FF:3E:09',
  timestamp: '2021-05-26T10:00:00.000Z',
  data: { temperature: 23.1, humidity: 40, co2: 612, pm2_5: 3, meta: {} },
  created_at: '2021-05-26T10:00:01.000Z',
};
const FLAT = { physical_id: 'testsim00004', timestamp: '2021-05-26T10:00:00Z', temperature: 21.5, co2: 480, meta: {}, created_at: '2021-05-26T10:00:01Z' };
const bucket = (day: number) => ({ physical_id: 'X', resolution: 'daily', timestamp: `2021-05-2${day}T00:00:00Z`, data: { co2: 500 + day, meta: {} }, samples: 1440 });

describe('findLatestReading', () => {
  it('the docs\' sample is the point itself, its data the readings (not a wrapper)', () => {
    const found = findLatestReading(SAMPLE);
    assert.equal(found?.value, SAMPLE);
    assert.deepEqual(found?.via, []);
    assert.equal(findLatestReading(FLAT)?.value, FLAT);
    // Without id or times, a data object of readings is still the sample's data.
    const bare = { data: { temperature: 20, co2: 400 } };
    assert.deepEqual(findLatestReading(bare), { value: bare, via: [] });
  });

  it('unwraps an array of one, and data, result or reading holding the point (nested or flat)', () => {
    assert.deepEqual(findLatestReading([SAMPLE]), { value: SAMPLE, via: ['array'] });
    for (const key of ['data', 'result', 'reading']) {
      assert.deepEqual(findLatestReading({ [key]: SAMPLE }), { value: SAMPLE, via: [key] }, key);
      assert.deepEqual(findLatestReading({ [key]: FLAT }), { value: FLAT, via: [key] }, `${key}, flat`);
    }
    assert.deepEqual(findLatestReading({ result: [SAMPLE] }), { value: SAMPLE, via: ['result', 'array'] });
    assert.deepEqual(findLatestReading({ data: SAMPLE, status: 'ok', total: 1 }), { value: SAMPLE, via: ['data'] });
    // A point without id or times, under a key that is not the readings' data.
    assert.deepEqual(findLatestReading({ result: { co2: 410 } }), { value: { co2: 410 }, via: ['result'] });
  });

  it('of several points in an array, the newest', () => {
    const older = { ...SAMPLE, timestamp: '2021-05-26T09:55:00Z' };
    const newer = { ...SAMPLE, timestamp: '2021-05-26T10:05:00Z' };
    assert.equal(findLatestReading([older, newer, SAMPLE])?.value, newer);
    assert.equal(findLatestReading({ data: [newer, older] })?.value, newer);
  });

  it('no reading: nothing found, so the client can say so', () => {
    for (const body of [[], {}, { status: 'ok' }, { data: [] }, { data: null }, { result: 'none' }, null, 'x', 42, [[], 'x']]) {
      assert.equal(findLatestReading(body), undefined, JSON.stringify(body));
    }
    let deep: unknown = SAMPLE;
    for (let i = 0; i < 8; i++) deep = { result: deep };
    assert.equal(findLatestReading(deep), undefined, 'wrappers are looked through a few levels deep only');
  });

  it('what is found reads as the sample does: metrics, their time', () => {
    const direct = extractMetrics(SAMPLE, 0);
    for (const body of [[SAMPLE], { data: SAMPLE }, { result: SAMPLE }, { reading: SAMPLE }]) {
      const point = findLatestReading(body)!.value;
      assert.deepEqual(extractMetrics(point, 0), direct);
      assert.equal(readingTime(point), Date.parse(SAMPLE.timestamp));
    }
  });
});

describe('findAverages', () => {
  it('an array of buckets as it came, an empty one included (no data in the range)', () => {
    const buckets = [bucket(1), bucket(2)];
    assert.deepEqual(findAverages(buckets), { value: buckets, via: [] });
    assert.deepEqual(findAverages([]), { value: [], via: [] });
    assert.deepEqual(findAverages([SAMPLE]), { value: [SAMPLE], via: [] });
  });

  it('one object, or it or the buckets wrapped in data, result or reading', () => {
    const buckets = [bucket(1), bucket(2)];
    assert.deepEqual(findAverages(SAMPLE), { value: SAMPLE, via: [] });
    assert.deepEqual(findAverages({ data: buckets, total: 2 }), { value: buckets, via: ['data'] });
    assert.deepEqual(findAverages({ result: buckets }), { value: buckets, via: ['result'] });
    for (const key of ['data', 'result', 'reading']) {
      assert.deepEqual(findAverages({ [key]: SAMPLE }), { value: SAMPLE, via: [key] });
      assert.deepEqual(findAverages({ [key]: FLAT }), { value: FLAT, via: [key] });
    }
    assert.deepEqual(findAverages([{ data: SAMPLE }]), { value: SAMPLE, via: ['array', 'data'] });
    // The whole range without data: only meta, still the point.
    const empty = { physical_id: 'X', timestamp: '2027-01-01T00:00:00Z', data: { meta: {} }, created_at: '2026-03-30T00:00:00Z' };
    assert.deepEqual(findAverages(empty), { value: empty, via: [] });
  });

  it('no averages: nothing found', () => {
    for (const body of [{}, { status: 'ok' }, { result: 'none' }, null, 'x', 7]) assert.equal(findAverages(body), undefined, JSON.stringify(body));
  });
});
