import assert from 'node:assert/strict';
import { useSimulator } from '../../support/fixtures';
import { describeTelemetryShape, extractMetrics, fingerprint, METRIC_UNITS, readingFingerprint, stableStringify, TelemetryReading } from '../../../lib';

const T = Date.UTC(2026, 2, 29, 15, 24, 5); // 2026-03-29T15:24:05Z
const NOW = Date.UTC(2030, 0, 1);

/** Runs `fn` with the process in another time zone, so "read as UTC" is told apart from "read as local". */
function inTimeZone<T>(tz: string, fn: () => T): T {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

function sampleLatest(): TelemetryReading {
  return {
    physical_id: 'D2:C1:AA:FF:3E:09',
    timestamp: '2026-03-29T15:24:05Z',
    data: {
      co2: 612,
      temperature: 21.5,
      humidity: 40,
      pm2_5: 3.2,
      noise: 35,
      battery: 88,
      voc: 120,
      meta: { firmware: '1.2.3', rssi: -61 },
    },
    created_at: '2026-03-29T15:24:07Z',
  };
}

describe('readings', () => {
  describe('extractMetrics on a latest reading', () => {
    it('gives one entry per numeric data key, with units, skipping data.meta', () => {
      assert.deepEqual(extractMetrics(sampleLatest(), NOW), [
        { metric: 'co2', value: 612, timestamp: T, unit: 'ppm' },
        { metric: 'temperature', value: 21.5, timestamp: T, unit: '°C' },
        { metric: 'humidity', value: 40, timestamp: T, unit: '%' },
        { metric: 'pm2_5', value: 3.2, timestamp: T, unit: 'µg/m³' },
        { metric: 'noise', value: 35, timestamp: T, unit: 'dB(A)' },
        { metric: 'battery', value: 88, timestamp: T, unit: '%' },
        { metric: 'voc', value: 120, timestamp: T },
      ]);
    });

    it('leaves the unit out (not undefined) for a metric it does not know', () => {
      const [voc] = extractMetrics({ timestamp: '2026-03-29T15:24:05Z', data: { voc: 1 } });
      assert.ok(!('unit' in voc));
      assert.equal(METRIC_UNITS.voc, undefined);
    });

    it('takes the timestamp from `timestamp` as epoch ms, honouring a zone or offset', () => {
      for (const timestamp of ['2026-03-29T15:24:05Z', '2026-03-29T15:24:05.000z', '2026-03-29T17:24:05+02:00', '2026-03-29T10:24:05-0500']) {
        assert.equal(extractMetrics({ timestamp, data: { co2: 1 } })[0].timestamp, T, timestamp);
      }
      assert.equal(extractMetrics({ timestamp: T as unknown as string, data: { co2: 1 } })[0].timestamp, T, 'epoch ms as a number');
    });

    it('reads a zone-less timestamp as UTC, whatever the local zone', () => {
      for (const tz of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
        inTimeZone(tz, () => {
          for (const timestamp of ['2026-03-29 15:24:05', '2026-03-29T15:24:05', '2026-03-29T15:24:05.000']) {
            assert.equal(extractMetrics({ timestamp, data: { co2: 1 } })[0].timestamp, T, `${timestamp} in ${tz}`);
          }
        });
      }
    });

    it('falls back to created_at, then to now, when there is no usable timestamp', () => {
      const created = '2026-03-29T15:24:07Z';
      assert.equal(extractMetrics({ created_at: created, data: { co2: 1 } }, NOW)[0].timestamp, T + 2000);
      assert.equal(extractMetrics({ timestamp: 'soon', created_at: created, data: { co2: 1 } }, NOW)[0].timestamp, T + 2000);
      assert.equal(extractMetrics({ timestamp: 'soon', created_at: 'later', data: { co2: 1 } }, NOW)[0].timestamp, NOW);
      assert.equal(extractMetrics({ data: { co2: 1 } }, NOW)[0].timestamp, NOW);
      const before = Date.now();
      const t = extractMetrics({ data: { co2: 1 } })[0].timestamp;
      assert.ok(t >= before && t <= Date.now(), 'now defaults to the current time');
    });

    it('accepts numeric strings, and skips NaN, Infinity, booleans, null, blanks and objects', () => {
      const metrics = extractMetrics({
        timestamp: '2026-03-29T15:24:05Z',
        data: {
          co2: '612', temperature: ' 21.5 ', zero: 0, zeroText: '0',
          nan: Number.NaN, inf: Number.POSITIVE_INFINITY, ninf: Number.NEGATIVE_INFINITY, infText: 'Infinity', nanText: 'NaN',
          yes: true, no: false, nothing: null, missing: undefined, blank: '', spaces: '   ', word: 'high',
          nested: { value: 1 }, list: [1],
        },
      });
      assert.deepEqual(metrics.map((m) => [m.metric, m.value]), [['co2', 612], ['temperature', 21.5], ['zero', 0], ['zeroText', 0]]);
      assert.equal(metrics[0].unit, 'ppm');
    });
  });

  describe('extractMetrics on averages', () => {
    it('gives one entry per bucket and metric, each with its bucket time', () => {
      const buckets = [
        { physical_id: 'x', resolution: 'daily', timestamp: '2026-03-27T00:00:00Z', data: { co2: 500, temperature: 20, meta: { a: 1 } }, samples: 10 },
        { physical_id: 'x', resolution: 'daily', timestamp: '2026-03-28T00:00:00Z', data: { co2: 550, temperature: 21 }, samples: 12 },
      ];
      const d27 = Date.UTC(2026, 2, 27);
      const d28 = Date.UTC(2026, 2, 28);
      assert.deepEqual(extractMetrics(buckets, NOW), [
        { metric: 'co2', value: 500, timestamp: d27, unit: 'ppm' },
        { metric: 'temperature', value: 20, timestamp: d27, unit: '°C' },
        { metric: 'co2', value: 550, timestamp: d28, unit: 'ppm' },
        { metric: 'temperature', value: 21, timestamp: d28, unit: '°C' },
      ]);
    });

    it('skips the junk items of a series and keeps the good ones', () => {
      const series = [null, 'text', 7, [1, 2], { data: 'x' }, { timestamp: '2026-03-29T15:24:05Z', data: { co2: 400 } }, { data: [1] }];
      assert.deepEqual(extractMetrics(series, NOW), [{ metric: 'co2', value: 400, timestamp: T, unit: 'ppm' }]);
    });
  });

  describe('extractMetrics on every shape a server may answer (docs/API.md)', () => {
    const nested = { physical_id: 'x', timestamp: '2026-03-29T15:24:05Z', data: { co2: 612, temperature: 21.5, meta: { fw: 3 } }, created_at: '2026-03-29T15:24:07Z' };
    const flat = { physical_id: 'x', timestamp: '2026-03-29T15:24:05Z', co2: 612, temperature: 21.5, meta: { fw: 3 }, created_at: '2026-03-29T15:24:07Z' };
    const expected = [
      { metric: 'co2', value: 612, timestamp: T, unit: 'ppm' },
      { metric: 'temperature', value: 21.5, timestamp: T, unit: '°C' },
    ];
    const shapes: Array<[string, unknown]> = [
      ['one object, readings under data', nested],
      ['one object, readings flat', flat],
      ['an array of points, nested', [nested]],
      ['an array of points, flat', [flat]],
      ['an envelope {data: [points]}, nested', { data: [nested] }],
      ['an envelope {data: [points]}, flat', { data: [flat], total: 1 }],
    ];
    for (const [name, value] of shapes) {
      it(`${name}`, () => {
        assert.deepEqual(extractMetrics(value, NOW), expected);
      });
    }

    it('names a shape by its keys and types, never its values', () => {
      assert.equal(describeTelemetryShape({ data: [], total: 0 }), '{data: [0]} with {data, total}');
      assert.equal(describeTelemetryShape([]), 'an empty array');
      assert.equal(describeTelemetryShape({ physical_id: 'secret-id', timestamp: 'x' }), 'an object {physical_id, timestamp}');
    });
  });

  describe('extractMetrics on junk', () => {
    const junk: Array<[string, unknown]> = [
      ['null', null],
      ['undefined', undefined],
      ['a string', 'co2=612'],
      ['a number', 612],
      ['true', true],
      ['an empty array', []],
      ['an array of junk', [null, 'x', 3, true, []]],
      ['an object without data or numbers', { timestamp: '2026-03-29T15:24:05Z', physical_id: 'x', note: 'co2 612' }],
      ['data that is a string', { data: 'co2=612' }],
      ['data that is an array', { data: [612] }],
      ['data that is null', { data: null }],
      ['data with only meta', { data: { meta: { co2: 612 } } }],
      ['data with only a numeric meta', { data: { meta: 7 } }],
      ['data with only a numeric-string meta', { data: { meta: '7' } }],
    ];
    for (const [name, value] of junk) {
      it(`${name} gives []`, () => {
        assert.deepEqual(extractMetrics(value, NOW), []);
      });
    }
  });

  describe('extractMetrics on what the simulator serves', () => {
    const fx = useSimulator({ deviceCount: 3 });

    it('a latest reading: every reading has a unit, none is meta, all at the reading\'s time', async () => {
      const client = fx.client();
      for (const device of fx.sim.devices()) {
        const reading = (await client.getTelemetry(device.physical_id)) as TelemetryReading;
        const metrics = extractMetrics(reading);
        const numeric = Object.entries(reading.data!).filter(([k, v]) => k !== 'meta' && typeof v === 'number');
        assert.ok(numeric.length >= 3);
        assert.deepEqual(metrics.map((m) => m.metric), numeric.map(([k]) => k));
        for (const m of metrics) {
          assert.ok(m.unit, `${m.metric} has a unit`);
          assert.equal(m.timestamp, Date.parse(reading.timestamp!));
          assert.ok(Number.isFinite(m.value));
        }
      }
    });

    it('daily averages over three days: one entry per bucket and metric', async () => {
      const client = fx.client();
      const id = fx.sim.devices()[0].physical_id;
      const to = new Date(Date.UTC(2026, 0, 10));
      const from = new Date(Date.UTC(2026, 0, 7));
      const series = await client.getTelemetry(id, { type: 'averages', resolution: 'daily', from: from.toISOString(), to: to.toISOString() });
      assert.ok(Array.isArray(series) && series.length >= 3);
      const metrics = extractMetrics(series);
      const expected = series.flatMap((b) => Object.keys(b.data!).filter((k) => k !== 'meta').map((k) => [k, Date.parse(b.timestamp!)]));
      assert.deepEqual(metrics.map((m) => [m.metric, m.timestamp]), expected);
    });
  });

  describe('readingFingerprint', () => {
    it('ignores created_at', () => {
      const a = sampleLatest();
      const b = { ...sampleLatest(), created_at: '2026-03-29T15:30:00Z' };
      const { created_at: _drop, ...c } = sampleLatest();
      assert.equal(readingFingerprint(a), readingFingerprint(b));
      assert.equal(readingFingerprint(a), readingFingerprint(c));
    });

    it('changes with the timestamp', () => {
      const b = { ...sampleLatest(), timestamp: '2026-03-29T15:25:05Z' };
      assert.notEqual(readingFingerprint(sampleLatest()), readingFingerprint(b));
    });

    it('changes with any value', () => {
      const base = readingFingerprint(sampleLatest());
      for (const metric of ['co2', 'temperature', 'humidity', 'pm2_5', 'noise', 'battery', 'voc']) {
        const changed = sampleLatest();
        (changed.data as Record<string, number>)[metric] += 1;
        assert.notEqual(readingFingerprint(changed), base, metric);
      }
      const added = sampleLatest();
      added.data!.pm10 = 4;
      assert.notEqual(readingFingerprint(added), base, 'a new reading');
    });

    it('does not depend on key order', () => {
      const r = sampleLatest();
      const reordered = { created_at: r.created_at, data: Object.fromEntries(Object.entries(r.data!).reverse()), timestamp: r.timestamp, physical_id: r.physical_id };
      assert.equal(readingFingerprint(reordered), readingFingerprint(r));
    });

    it('ignores created_at in every bucket of a series, not the bucket values', () => {
      const series = [
        { timestamp: '2026-03-27T00:00:00Z', data: { co2: 500 }, created_at: '2026-03-28T00:00:01Z' },
        { timestamp: '2026-03-28T00:00:00Z', data: { co2: 550 }, created_at: '2026-03-29T00:00:01Z' },
      ];
      const restored = series.map((b) => ({ ...b, created_at: '2026-04-01T00:00:00Z' }));
      assert.equal(readingFingerprint(series), readingFingerprint(restored));
      const changed = series.map((b, i) => (i === 1 ? { ...b, data: { co2: 551 } } : b));
      assert.notEqual(readingFingerprint(series), readingFingerprint(changed));
    });

    it('is a sha1 hex digest and tells junk apart', () => {
      assert.match(readingFingerprint(sampleLatest()), /^[0-9a-f]{40}$/);
      assert.notEqual(readingFingerprint(null), readingFingerprint('null-ish'));
      assert.notEqual(readingFingerprint([]), readingFingerprint({}));
    });
  });

  describe('stableStringify and fingerprint', () => {
    it('give the same text whatever the key order, nested objects and objects in arrays included', () => {
      const a = { b: 1, a: { y: [{ q: 1, p: 2 }], x: 'x' }, c: null };
      const b = { c: null, a: { x: 'x', y: [{ p: 2, q: 1 }] }, b: 1 };
      assert.equal(stableStringify(a), stableStringify(b));
      assert.equal(stableStringify(a), '{"a":{"x":"x","y":[{"p":2,"q":1}]},"b":1,"c":null}');
      assert.equal(fingerprint(a), fingerprint(b));
    });

    it('is valid JSON that parses back to the same content', () => {
      const value = { s: 'quote " and \\ and ünïcode', n: -1.5e-7, t: true, f: false, z: null, list: [3, 'two', { k: [] }], empty: {} };
      assert.deepEqual(JSON.parse(stableStringify(value)), value);
    });

    it('keeps array order and types apart', () => {
      assert.notEqual(stableStringify([1, 2]), stableStringify([2, 1]));
      assert.notEqual(stableStringify({ a: 1 }), stableStringify({ a: '1' }));
      assert.notEqual(stableStringify({ a: null }), stableStringify({}));
      assert.notEqual(fingerprint({ a: 1 }), fingerprint({ a: 2 }));
      for (const v of [1, 'text', true, null]) assert.equal(stableStringify(v), JSON.stringify(v));
    });
  });
});
