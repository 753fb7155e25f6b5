/**
 * lib/telemetry/device-health.ts on a clock the test moves: when a device is silent, when it has
 * recovered, a low battery and its recovery, each once per change; the period it is judged by
 * (learnt, seen, or the floor before either); a snapshot carried across a redeploy.
 */
import assert from 'node:assert/strict';
import {
  BATTERY_HYSTERESIS, DeviceHealth, HEALTH_DEFAULTS, HealthEvent, healthMsg, parseHealthSettings, UNKNOWN_PERIOD_FLOOR_MS,
} from '../../../lib/telemetry/device-health';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const reading = (at: number, battery?: number) => ({
  physical_id: 'a', timestamp: new Date(at).toISOString(), data: { co2: 600, ...(battery !== undefined ? { battery } : {}) },
});

/** A device reporting every `periodMs`, polled every `intervalMs`, on a fake clock. */
class Run {
  now = T0;
  readonly health: DeviceHealth;
  readonly events: HealthEvent[] = [];
  /** The device's latest reading time (it reports at T0 - offset + k·period). */
  last: number;
  silentFrom = Infinity;
  battery?: (at: number) => number;

  constructor(readonly periodMs: number, readonly intervalMs: number, readonly learnt: (now: number) => number | undefined, offset = 0, settings = HEALTH_DEFAULTS) {
    this.health = new DeviceHealth(settings, () => this.now);
    this.last = T0 - offset;
  }

  /** Polls every interval up to `end`. */
  until(end: number): void {
    for (; this.now <= end; this.now += this.intervalMs) {
      while (this.last + this.periodMs <= Math.min(this.now, this.silentFrom)) this.last += this.periodMs;
      this.events.push(...this.health.answer('a', reading(this.last, this.battery?.(this.last)), this.learnt(this.now), this.intervalMs));
    }
  }
}

describe('device health (lib/telemetry/device-health.ts)', () => {
  it('a healthy sensor: no event in an hour, before and after its period is learnt', () => {
    for (const [period, interval] of [[300 * S, 60 * S], [60 * S, 60 * S], [60 * S, 600 * S], [30 * MIN, 60 * S]]) {
      // Learnt after 25 minutes, as the scheduler learns from 5 deltas.
      const run = new Run(period, interval, (now) => (now - T0 >= 5 * period ? period : undefined), period - 1000);
      run.until(T0 + 60 * MIN);
      assert.deepEqual(run.events, [], `period ${period / S} s, interval ${interval / S} s`);
    }
  });

  it('silent once within 3 learnt periods plus one interval, recovered once when it reports again', () => {
    const run = new Run(300 * S, 60 * S, () => 300 * S);
    run.until(T0 + 20 * MIN);
    const lastReading = run.last;
    run.silentFrom = run.now;
    run.until(T0 + 60 * MIN);
    assert.deepEqual(run.events.map((e) => e.event), ['silent']);
    const silent = run.events[0];
    const heard = T0 + Math.ceil((lastReading + 3 * 300 * S + 1 - T0) / (60 * S)) * 60 * S;
    assert.equal(silent.since, lastReading + 3 * 300 * S);
    assert.equal(silent.lastReadingAt, lastReading);
    assert.equal(silent.periodMs, 300 * S);
    assert.ok(heard - lastReading <= 3 * 300 * S + 60 * S, 'within 3 periods and an interval');
    run.silentFrom = Infinity;
    run.until(T0 + 120 * MIN);
    assert.deepEqual(run.events.map((e) => e.event), ['silent', 'recovered']);
    assert.equal(run.events[1].since, run.events[1].lastReadingAt);
    assert.ok(run.events[1].lastReadingAt > lastReading);
  });

  it('judges by the gap it saw while the scheduler learns, and by the floor before any gap', () => {
    // Not learnt: a 5-minute sensor seen twice is judged by 5 minutes, not by the 1-minute interval.
    const run = new Run(300 * S, 60 * S, () => undefined);
    run.until(T0 + 10 * MIN);
    run.silentFrom = run.now;
    const last = run.last;
    run.until(T0 + 60 * MIN);
    assert.deepEqual(run.events.map((e) => [e.event, e.periodMs, e.since]), [['silent', 300 * S, last + 900 * S]]);
    // Silent from the start: judged by the floor (a sensor reporting every few minutes is not silent meanwhile).
    const dead = new Run(300 * S, 60 * S, () => undefined, 10 * MIN);
    dead.silentFrom = T0 - 10 * MIN;
    dead.until(T0 + 60 * MIN);
    assert.deepEqual(dead.events.map((e) => [e.event, e.periodMs, e.since]), [['silent', UNKNOWN_PERIOD_FLOOR_MS, T0 - 10 * MIN + 3 * UNKNOWN_PERIOD_FLOOR_MS]]);
  });

  it('the silence does not count as a gap: after it, the device is judged by its period again', () => {
    const run = new Run(60 * S, 60 * S, () => undefined);
    run.until(T0 + 10 * MIN);
    run.silentFrom = run.now;
    run.until(T0 + 30 * MIN);
    run.silentFrom = Infinity;
    run.until(T0 + 40 * MIN);
    run.silentFrom = run.now;
    run.until(T0 + 50 * MIN);
    assert.deepEqual(run.events.map((e) => [e.event, e.periodMs]), [['silent', 60 * S], ['recovered', 60 * S], ['silent', 60 * S]]);
  });

  it('battery: low once below the threshold, ok once from threshold + hysteresis, nothing for a wobble', () => {
    const levels = [40, 25, 21, 19, 20, 19, 20, 22, 24, 25, 26, 18, 100];
    const run = new Run(60 * S, 60 * S, () => 60 * S);
    run.battery = (at) => levels[Math.min(levels.length - 1, Math.round((at - T0) / (60 * S)))];
    run.until(T0 + (levels.length - 1) * MIN);
    assert.equal(BATTERY_HYSTERESIS, 5);
    assert.deepEqual(run.events.map((e) => [e.event, e.battery]), [['battery_low', 19], ['battery_ok', 25], ['battery_low', 18], ['battery_ok', 100]]);
  });

  it('a first reading with a low battery is news; a device without a battery never is', () => {
    const low = new DeviceHealth(HEALTH_DEFAULTS, () => T0);
    assert.deepEqual(low.answer('a', reading(T0, 5), 60 * S, 60 * S).map((e) => e.event), ['battery_low']);
    assert.deepEqual(low.answer('a', reading(T0, 5), 60 * S, 60 * S), [], 'the same reading again: nothing');
    assert.deepEqual(low.answer('b', reading(T0), 60 * S, 60 * S), []);
    assert.deepEqual(low.answer('c', reading(T0, 90), 60 * S, 60 * S), []);
  });

  it('a reading without a time is new when its content changes, dated when it was first seen', () => {
    let now = T0;
    const health = new DeviceHealth(HEALTH_DEFAULTS, () => now);
    const flat = (co2: number) => ({ physical_id: 'a', co2 });
    for (let k = 0; k < 10; k++, now += 60 * S) assert.deepEqual(health.answer('a', flat(600 + k), 60 * S, 60 * S), []);
    const events = [];
    for (let k = 0; k < 5; k++, now += 60 * S) events.push(...health.answer('a', flat(700), 60 * S, 60 * S));
    assert.deepEqual(events.map((e) => [e.event, e.lastReadingAt]), [['silent', T0 + 10 * 60 * S]]);
  });

  it('a snapshot carried across a redeploy: the same state is not told again; forget drops a device', () => {
    let now = T0;
    const first = new DeviceHealth(HEALTH_DEFAULTS, () => now);
    first.answer('a', reading(T0, 5), 60 * S, 60 * S);
    now += 10 * MIN;
    assert.deepEqual(first.answer('a', reading(T0, 5), 60 * S, 60 * S).map((e) => e.event), ['silent']);
    const again = new DeviceHealth(HEALTH_DEFAULTS, () => now);
    again.restore(JSON.parse(JSON.stringify(first.snapshot())));
    assert.deepEqual(again.answer('a', reading(T0, 5), 60 * S, 60 * S), []);
    again.restore({ b: { at: 'x' }, c: null, d: { at: 1, id: 't1', silentSince: 'soon' } });
    assert.deepEqual(Object.keys(again.snapshot()), ['a', 'd']);
    again.forget('a');
    assert.deepEqual(again.answer('a', reading(now, 50), 60 * S, 60 * S), [], 'forgotten: a new device');
  });

  it('settings: defaults, ranges, text from the editor', () => {
    assert.deepEqual(parseHealthSettings({}), { silentPeriods: 3, batteryLow: 20 });
    assert.deepEqual(parseHealthSettings({ silentPeriods: '5', batteryLow: '' }), { silentPeriods: 5, batteryLow: 20 });
    for (const bad of [{ silentPeriods: 1 }, { silentPeriods: 'x' }, { batteryLow: 0 }, { batteryLow: 100 }, { batteryLow: 2.5 }]) {
      assert.throws(() => parseHealthSettings(bad), (err: Error & { code?: string }) => err.code === 'LEAPCRAFT_INVALID_INPUT', JSON.stringify(bad));
    }
  });

  it('the msg: topic and physical_id the device, ISO times, the name when known', () => {
    const e: HealthEvent = { event: 'silent', device: 'a', since: T0, lastReadingAt: T0 - 900 * S, periodMs: 300 * S, battery: 54 };
    assert.deepEqual(healthMsg(e, 'Room 1'), {
      topic: 'a', physical_id: 'a',
      payload: { event: 'silent', device: 'a', name: 'Room 1', since: '2026-01-05T08:00:00.000Z', lastReadingAt: '2026-01-05T07:45:00.000Z', periodMs: 300_000, battery: 54 },
    });
    assert.equal((healthMsg({ ...e, battery: undefined }, undefined).payload as Record<string, unknown>).name, 'a');
  });
});
