/**
 * The node's settings (every one validated, LEAPCRAFT_INVALID_INPUT naming it) and what a msg
 * means: the msgs of each of leapcraft-telemetry's output modes (made by its own code,
 * lib/telemetry/messages.ts, from the simulator's readings), a plain {co2} msg, a report request,
 * and the msgs that are refused.
 */
import assert from 'node:assert/strict';
import type { Device } from '../../../lib/api/types';
import { messagesFor, Outcome } from '../../../lib/telemetry/messages';
import { AqReading, parseAqInput } from '../../../lib/airquality/input';
import { AQ_DEFAULTS, AqSettingsInput, parseAqSettings } from '../../../lib/airquality/settings';
import { hostTimeZone } from '../../../lib/airquality/zone';
import { generateWorld, listItem } from '../../../simulator/data';
import { latestTelemetry } from '../../../simulator/model';

const NOW = Date.parse('2026-03-30T10:00:30Z');

function refused(input: AqSettingsInput, field: string): void {
  assert.throws(() => parseAqSettings(input), (err: Error & { code?: string; field?: string }) => {
    assert.equal(err.code, 'LEAPCRAFT_INVALID_INPUT', err.message);
    assert.equal(err.field, field, err.message);
    return true;
  }, JSON.stringify(input));
}

describe('air quality: settings', () => {
  it('a new node\'s settings (the editor\'s defaults) and no settings at all give the same', () => {
    const defaults = parseAqSettings({ ...AQ_DEFAULTS });
    assert.deepEqual(parseAqSettings({}), defaults);
    assert.deepEqual(defaults, {
      profile: 'en16798', outdoorCo2: 420, limit: 1000, thresholds: [], labels: [], marginPpm: 50, dwellMs: 120_000,
      demandLow: 700, demandHigh: 1100, onAt: 1000, offAt: 800, minOnMs: 300_000, minOffMs: 300_000, gapMs: 1_800_000,
      reportAt: 0, timeZone: hostTimeZone(), occupied: { days: [1, 2, 3, 4, 5], from: 480, to: 1080 },
    });
  });

  it('reads numbers as text (the editor stores text), the custom profile, occupied hours and the report time', () => {
    const s = parseAqSettings({
      profile: 'custom', thresholds: ' 700,900 , 1500', labels: 'good , ok, poor, bad', margin: '30', dwell: '0', minOn: '10', gap: '5',
      days: '7, 1,1', occupiedFrom: '22:00', occupiedTo: '06:30', reportAt: '07:45', timeZone: 'Europe/Copenhagen', store: ' file ',
    });
    assert.deepEqual([s.thresholds, s.labels, s.marginPpm, s.dwellMs, s.minOnMs, s.gapMs], [[700, 900, 1500], ['good', 'ok', 'poor', 'bad'], 30, 0, 600_000, 300_000]);
    assert.deepEqual(s.occupied, { days: [1, 7], from: 1320, to: 390 });
    assert.deepEqual([s.reportAt, s.timeZone, s.store], [465, 'Europe/Copenhagen', 'file']);
    assert.equal(parseAqSettings({ reportAt: '' }).reportAt, undefined, 'empty: no daily report');
    assert.deepEqual(parseAqSettings({ occupiedFrom: '00:00', occupiedTo: '24:00' }).occupied.to, 1440);
    assert.deepEqual(parseAqSettings({ profile: 'en16798', thresholds: 'nonsense' }).thresholds, [], 'custom settings count only for the custom profile');
  });

  it('refuses every bad setting, naming it', () => {
    refused({ profile: 'who' }, 'profile');
    refused({ outdoorCo2: '-1' }, 'outdoorCo2');
    refused({ outdoorCo2: '2001' }, 'outdoorCo2');
    refused({ outdoorCo2: '420.5' }, 'outdoorCo2');
    refused({ limit: '0' }, 'limit');
    refused({ limit: '20001' }, 'limit');
    refused({ margin: '1001' }, 'margin');
    refused({ margin: 'x' }, 'margin');
    refused({ dwell: '-1' }, 'dwell');
    refused({ dwell: '1441' }, 'dwell');
    refused({ minOn: '1.5' }, 'minOn');
    refused({ minOff: '9999' }, 'minOff');
    refused({ gap: '0' }, 'gap');
    refused({ demandLow: '0' }, 'demandLow');
    refused({ demandLow: '1100', demandHigh: '1100' }, 'demandHigh');
    refused({ onAt: '800', offAt: '800' }, 'offAt');
    refused({ onAt: '30000' }, 'onAt');
    refused({ profile: 'custom', thresholds: '1000, 800', labels: 'a, b, c' }, 'thresholds');
    refused({ profile: 'custom', thresholds: '800, 800', labels: 'a, b, c' }, 'thresholds');
    refused({ profile: 'custom', thresholds: '1,2,3,4,5,6', labels: 'a,b,c,d,e,f,g' }, 'thresholds');
    refused({ profile: 'custom', thresholds: '800, x', labels: 'a, b, c' }, 'thresholds');
    refused({ profile: 'custom', thresholds: '800, 1000', labels: 'a, b' }, 'labels');
    refused({ profile: 'custom', thresholds: '800, 1000', labels: 'a, b, a' }, 'labels');
    refused({ profile: 'custom', thresholds: '800', labels: 'a, ' }, 'labels');
    refused({ profile: 'custom', thresholds: '800', labels: `a, ${'x'.repeat(41)}` }, 'labels');
    refused({ profile: 'custom', thresholds: '800', labels: 'a, b\u0000' }, 'labels');
    refused({ days: '0,1' }, 'days');
    refused({ days: '1;2' }, 'days');
    refused({ days: 'mon' }, 'days');
    refused({ occupiedFrom: '8:00' }, 'occupiedFrom');
    refused({ occupiedFrom: '24:00' }, 'occupiedFrom');
    refused({ occupiedTo: '18:60' }, 'occupiedTo');
    refused({ occupiedFrom: '08:00', occupiedTo: '08:00' }, 'occupiedTo');
    refused({ occupiedFrom: '00:00', occupiedTo: '00:00' }, 'occupiedTo');
    refused({ reportAt: '07:10' }, 'reportAt');
    refused({ reportAt: '24:00' }, 'reportAt');
    refused({ timeZone: 'Europe/Kopenhagen' }, 'timeZone');
    refused({ store: 'x'.repeat(65) }, 'store');
    refused({ store: 'a\nb' }, 'store');
  });
});

describe('air quality: what a msg means', () => {
  const world = generateWorld({ seed: 1, deviceCount: 3, gateways: 1, thingCount: 0 });
  const outcomes: Outcome[] = world.devices.map((d) => ({ id: d.item.physical_id, value: latestTelemetry(d, NOW, { seed: 1, reportIntervalMs: 60_000 }) as never }));
  const shaping = { clone: (m: Record<string, unknown>) => structuredClone(m), deviceOf: (id: string) => world.devices.map(listItem).find((d) => d.physical_id === id) as Device | undefined };
  const expected: AqReading[] = world.devices.map((d, i) => {
    const value = outcomes[i].value as { timestamp: string; data: { co2: number; temperature: number; humidity: number } };
    return { device: d.item.physical_id, co2: value.data.co2, temperature: value.data.temperature, humidity: value.data.humidity, at: Date.parse(value.timestamp) };
  });

  it('the telemetry node\'s device mode: one reading per msg, with the device\'s name', () => {
    const msgs = messagesFor('device', { payload: 'tick' }, outcomes, shaping);
    assert.deepEqual(msgs.map((m) => parseAqInput(m, NOW)), expected.map((r, i) => ({ kind: 'readings', readings: [{ ...r, name: world.devices[i].item.name }] })));
  });

  it('the array mode: every device of the round from one msg', () => {
    const [msg] = messagesFor('array', { payload: 'tick' }, outcomes, shaping);
    assert.deepEqual(parseAqInput(msg, NOW), { kind: 'readings', readings: expected });
  });

  it('the metric mode: the co2 msg is a reading (its time from msg.timestamp), the other metrics pass by', () => {
    const msgs = messagesFor('metric', undefined, outcomes, shaping);
    const co2 = msgs.filter((m) => m.metric === 'co2').map((m) => parseAqInput(m, NOW));
    assert.deepEqual(co2, expected.map((r, i) => ({ kind: 'readings', readings: [{ device: r.device, name: world.devices[i].item.name, co2: r.co2, at: r.at }] })));
    assert.ok(msgs.filter((m) => m.metric !== 'co2').every((m) => parseAqInput(m, NOW).kind === 'ignored'));
  });

  it('any msg with co2 in its payload, the device in msg.topic or msg.physical_id; its time, or the time it came', () => {
    assert.deepEqual(parseAqInput({ topic: 'room-1', payload: { co2: '850', temperature: 21.5 } }, NOW),
      { kind: 'readings', readings: [{ device: 'room-1', co2: 850, temperature: 21.5, at: NOW }] });
    assert.deepEqual(parseAqInput({ topic: 'x', physical_id: 'room-2', payload: 900, timestamp: NOW - 5000, outdoorCo2: 410 }, NOW),
      { kind: 'readings', readings: [{ device: 'room-2', co2: 900, at: NOW - 5000, outdoorCo2: 410 }] });
    assert.deepEqual(parseAqInput({ payload: { physical_id: 'room-3', co2: 700, timestamp: '2026-03-30 09:59:00' } }, NOW),
      { kind: 'readings', readings: [{ device: 'room-3', co2: 700, at: Date.parse('2026-03-30T09:59:00Z') }] });
  });

  it('a reading wrapped as some servers answer (docs/API.md: under result, data or reading) is found where the docs put it', () => {
    const point = { physical_id: 'room-4', timestamp: '2026-03-30T09:58:00Z', data: { co2: 950 } };
    const expected = { kind: 'readings', readings: [{ device: 'room-4', co2: 950, at: Date.parse('2026-03-30T09:58:00Z') }] };
    for (const payload of [point, { result: point }, { data: point }, { reading: point }, [point]]) assert.deepEqual(parseAqInput({ payload }, NOW), expected, JSON.stringify(payload));
  });

  it('msg.report = true asks for a report, with msg.from / msg.to as ISO times, epoch ms or relative times', () => {
    assert.deepEqual(parseAqInput({ report: true }, NOW), { kind: 'report' });
    assert.deepEqual(parseAqInput({ report: true, from: '-24h', to: NOW - 1000 }, NOW), { kind: 'report', from: NOW - 86_400_000, to: NOW - 1000 });
    assert.deepEqual(parseAqInput({ report: false, topic: 'r', payload: 800 }, NOW).kind, 'readings');
  });

  it('refuses what is neither, with LEAPCRAFT_INVALID_INPUT naming the msg property', () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ payload: 800 }, /msg\.physical_id/],
      [{ topic: 'r', payload: -5 }, /msg\.payload: expected a CO2 value/],
      [{ topic: 'r', payload: 'abc' }, /msg\.payload/],
      [{ topic: 'r', payload: 1e6 }, /msg\.payload/],
      [{ topic: 'r', payload: { temperature: 21 } }, /holds no co2 reading/],
      [{ topic: 'r', payload: { co2: 'lots' } }, /msg\.payload\.co2/],
      [{ topic: 'r', payload: null }, /msg\.payload/],
      [{ topic: 'r', payload: true }, /msg\.payload/],
      [{ payload: [{ co2: 800 }, { co2: 900 }] }, /msg\.payload\[0\]\.physical_id/],
      [{ payload: [{ physical_id: '..', co2: 800 }] }, /physical_id/],
      [{ topic: 'r', payload: 800, outdoorCo2: 'x' }, /msg\.outdoorCo2/],
      [{ topic: 'r', payload: 800, outdoorCo2: 5000 }, /msg\.outdoorCo2/],
      [{ topic: 'r', payload: { co2: 800, timestamp: '2026-03-30T12:00:00Z' } }, /more than an hour ahead/],
      [{ report: 'yes' }, /msg\.report/],
      [{ report: true, from: 'yesterday' }, /msg\.from/],
      [{ report: true, from: NOW, to: NOW - 1 }, /msg\.from: must be before msg\.to/],
      [{ topic: 'r', payload: Array.from({ length: 10_001 }, () => ({ physical_id: 'a', co2: 1 })) }, /more than 10000/],
    ];
    for (const [msg, message] of cases) {
      assert.throws(() => parseAqInput(msg, NOW), (err: Error & { code?: string }) => err.code === 'LEAPCRAFT_INVALID_INPUT' && message.test(err.message), JSON.stringify(msg).slice(0, 80));
    }
  });
});
