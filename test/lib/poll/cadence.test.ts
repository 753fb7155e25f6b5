/**
 * Cadence-aware polling: the pure learner driven with plain clock values, and the scheduler
 * on sinon's fake clock (no wall-clock timing: every number below is exact).
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { CadenceLearner, commonPeriod, fitPeriod } from '../../../lib/poll/cadence';
import { Listener, PollScheduler, SchedulerOptions } from '../../../lib/poll/scheduler';
import { LeapcraftUnavailableError } from '../../../lib/api/errors';
import { hashInts, unit } from '../../../simulator/random';

const S = 1000;
const MIN = 60 * S;
const PERIOD = 300 * S;
const INTERVAL = 60 * S;
const T0 = Date.UTC(2026, 2, 30, 3, 0, 0);

/** A sensor reporting every `period` from `phase`, each reading visible `lag` after its timestamp. */
function sensor(phase: number, period = PERIOD, lag = 0) {
  return (now: number) => Math.floor((now - lag - phase) / period) * period + phase;
}

/**
 * Drives a learner the way the scheduler does: a check whenever it asks, the reading the
 * sensor shows then. Returns the checks' times and the delays of new readings.
 */
function drive(learner: CadenceLearner, readingAt: (now: number) => number | undefined, from: number, until: number, intervalMs = INTERVAL) {
  const checks: number[] = [];
  const delays: number[] = [];
  let now = from;
  while (now < until) {
    checks.push(now);
    const reading = readingAt(now);
    if (learner.observe(reading, now) && reading !== undefined && learner.readings > 1) delays.push(now - reading);
    const next = learner.nextCheckAt(now, intervalMs);
    assert.ok(next > now, `next check ${next - now} ms after the last one`);
    now = next;
  }
  return { checks, delays };
}

const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

/**
 * A sensor as it behaves in the field: report k is due at phase + k periods, comes up to
 * `jitterMs` after that (whole seconds), and a share `lossRate` never comes. Seeded per sensor
 * and report, as the simulator's own habits are.
 */
function fieldSensor(seed: number, phase: number, period: number, o: { jitterMs?: number; lossRate?: number } = {}) {
  return (now: number) => {
    for (let k = Math.floor((now - phase) / period), back = 0; back < 100; k--, back++) {
      if ((o.lossRate ?? 0) > 0 && unit(hashInts(seed, k, 1)) < o.lossRate!) continue;
      const at = phase + k * period + Math.floor((unit(hashInts(seed, k, 2)) * (o.jitterMs ?? 0)) / S) * S;
      if (at <= now) return at;
    }
    throw new Error('no reading in 100 periods');
  };
}

describe('cadence-aware polling', () => {
  describe('CadenceLearner (pure, fed clock values)', () => {
    it('a regular 300 s sensor polled at 60 s: checked just after each reading is due, one request per new reading once learnt', () => {
      const learner = new CadenceLearner();
      const readingAt = sensor(100 * S);
      const warmUp = drive(learner, readingAt, T0, T0 + 30 * MIN);
      assert.equal(learner.mode, 'regular');
      assert.equal(learner.periodMs(), PERIOD);
      // From cold: fixed polling until two readings gave the period, then one look mid-period
      // to verify it (see the aliasing test): 9 checks.
      assert.equal(warmUp.checks.length, 9);
      assert.equal(learner.verified, true);
      assert.equal(learner.readings, 7);

      // The next 30 simulated minutes: 6 new readings, 6 requests, each a second after its reading.
      const steady = drive(learner, readingAt, learner.nextCheckAt(warmUp.checks.at(-1)!, INTERVAL), T0 + 60 * MIN);
      const newReadings = learner.readings - 7;
      assert.equal(newReadings, 6);
      assert.ok(steady.checks.length / newReadings <= 1.2, `${steady.checks.length} requests for ${newReadings} new readings`);
      assert.deepEqual(steady.delays, Array(6).fill(1000), 'each reading found a margin (1 s) after it is due');
      for (const at of steady.checks) assert.equal((at - 100 * S - T0) % PERIOD, 1000, 'checks fall just after a due time');
    });

    it('from cold, requests per reading over 30 minutes stay between 1 and 1.85 whatever the phase; with a period other keys agree on, 1 from the start', () => {
      for (let phase = 0; phase < PERIOD; phase += 10 * S) {
        const learner = new CadenceLearner();
        const { checks } = drive(learner, sensor(phase), T0, T0 + 30 * MIN);
        const ratio = checks.length / learner.readings;
        assert.ok(ratio >= 1 && ratio <= 1.85, `phase ${phase / S} s: ${checks.length} checks for ${learner.readings} readings`);
      }
      const hinted = new CadenceLearner();
      const checks: number[] = [];
      for (let now = T0; now < T0 + 30 * MIN; now = hinted.nextCheckAt(now, INTERVAL, { hintPeriodMs: PERIOD })) {
        checks.push(now);
        hinted.observe(sensor(123 * S)(now), now, { hintPeriodMs: PERIOD });
      }
      assert.equal(checks.length, hinted.readings, `${checks.length} checks for ${hinted.readings} readings`);
    });

    it('an irregular sensor falls back to the fixed interval', () => {
      const learner = new CadenceLearner();
      // Reports whenever it likes: seen deltas of 70, 180, 420, 60, 250, 540, 120 s...
      const times = [0, 70, 250, 670, 730, 980, 1520, 1640, 2000].map((t) => T0 + t * S);
      const readingAt = (now: number) => [...times].reverse().find((t) => t <= now);
      const first = drive(learner, readingAt, T0, T0 + 5 * MIN);
      // The first delta (70 s) is a tentative period under 1.25 intervals: the rounds, every interval.
      assert.deepEqual(first.checks.map((t) => (t - T0) / S), [0, 60, 120, 180, 240]);
      const { checks } = drive(learner, readingAt, learner.nextCheckAt(learner.lastCheckAt!, INTERVAL), T0 + 40 * MIN);
      assert.equal(learner.mode, 'irregular');
      assert.equal(learner.plans(INTERVAL), false);
      // Two or three deltas may happen to fit a period for a moment (the next due time is then
      // looked at a little early), never for longer: no gap beyond the interval.
      assert.ok(gaps(checks).every((g) => g <= INTERVAL), `gaps ${gaps(checks).map((g) => g / S)}`);
      assert.ok(gaps(checks).filter((g) => g === INTERVAL).length >= checks.length - 3, 'every interval, but for a look or two');
      assert.equal(learner.nextCheckAt(checks.at(-1)!, INTERVAL), checks.at(-1)! + INTERVAL);
    });

    it('missing timestamps fall back to the fixed interval, and timestamps coming back resume the plan', () => {
      const learner = new CadenceLearner();
      drive(learner, sensor(0), T0, T0 + 20 * MIN);
      assert.equal(learner.plans(INTERVAL), true);
      const at = T0 + 20 * MIN + 5 * S;
      learner.observe(undefined, at);
      assert.equal(learner.mode, 'no-timestamps');
      assert.equal(learner.plans(INTERVAL), false);
      assert.equal(learner.nextCheckAt(at, INTERVAL), at + INTERVAL);

      const never = new CadenceLearner();
      const { checks } = drive(never, () => undefined, T0, T0 + 30 * MIN);
      assert.equal(checks.length, 30);
      assert.deepEqual(new Set(gaps(checks)), new Set([INTERVAL]));

      learner.observe(sensor(0)(at + INTERVAL), at + INTERVAL);
      assert.equal(learner.mode, 'regular');
      assert.equal(learner.plans(INTERVAL), true);
    });

    it('before a second reading there is no period: the fixed interval', () => {
      const learner = new CadenceLearner();
      assert.equal(learner.nextCheckAt(T0, INTERVAL), T0, 'never checked: now');
      learner.observe(T0 - 10 * S, T0);
      assert.equal(learner.mode, 'learning');
      assert.equal(learner.plans(INTERVAL), false);
      assert.equal(learner.nextCheckAt(T0, INTERVAL), T0 + INTERVAL);
      assert.equal(learner.expectedPerHour(INTERVAL), 60);
    });

    it('a sensor that stops reporting: one re-check after its due time, then a look at each later due time, at least every min(5 intervals, 10 min)', () => {
      const learner = new CadenceLearner();
      const live = sensor(0);
      const stoppedAt = T0 + 20 * MIN;
      const readingAt = (now: number) => live(Math.min(now, stoppedAt));
      drive(learner, readingAt, T0, stoppedAt + 10 * S);
      const lastReading = learner.lastReadingAt!;
      assert.equal(lastReading, stoppedAt);
      const { checks } = drive(learner, readingAt, learner.nextCheckAt(learner.lastCheckAt!, INTERVAL), T0 + 80 * MIN);
      const due = lastReading + PERIOD;
      // The first period overdue: due + 1 s, and one re-check 5 % of the period (15 s) later; no backoff series.
      const firstPeriod = checks.filter((t) => t < due + PERIOD);
      assert.deepEqual(firstPeriod.map((t) => (t - due) / S), [1, 16]);
      // After that: about one check a period, never a gap beyond the heartbeat (+ a margin).
      const later = checks.filter((t) => t >= due + PERIOD);
      assert.ok(gaps(later).every((g) => g <= 5 * INTERVAL + learner.marginMs), `gaps ${gaps(later).map((g) => g / S)}`);
      const window = later.filter((t) => t < due + PERIOD + 30 * MIN);
      assert.ok(window.length <= 6, `${window.length} checks in 30 minutes of a stopped sensor (fixed polling: 30)`);
      assert.ok(later.every((t) => (t - due) % PERIOD === 1000), 'each just after a due time, in case it resumes');
      // Never a tight loop.
      assert.ok(gaps(checks).every((g) => g >= 1000));
    });

    it('the heartbeat is min(5 intervals, 10 min): a 30-minute sensor polled at 60 s is still checked every 5 minutes, at 5 min every 10', () => {
      const slow = new CadenceLearner();
      const { checks } = drive(slow, sensor(0, 30 * MIN), T0, T0 + 240 * MIN);
      assert.equal(slow.periodMs(), 30 * MIN);
      const planned = checks.filter((t) => t > T0 + 90 * MIN);
      assert.ok(gaps(planned).every((g) => g <= 5 * INTERVAL + slow.marginMs), `gaps ${gaps(planned).map((g) => g / S)}`);
      const slowerPoll = new CadenceLearner();
      const atFive = drive(slowerPoll, sensor(0, 60 * MIN), T0, T0 + 600 * MIN, 5 * MIN).checks.filter((t) => t > T0 + 200 * MIN);
      assert.ok(gaps(atFive).every((g) => g <= 10 * MIN + slowerPoll.marginMs), `gaps ${gaps(atFive).map((g) => g / S)}`);
      assert.ok(gaps(atFive).some((g) => g >= 10 * MIN), 'ten minutes, not five intervals (25 min)');
    });

    it('a late reading is found by the one re-check, raises the margin by the bracket, and then the sensor on time again is found at the first check', () => {
      const learner = new CadenceLearner();
      const onTime = sensor(0);
      const lateOnce = T0 + 25 * MIN; // this one reading becomes visible 12 s late
      const readingAt = (now: number) => {
        const r = onTime(now);
        return r === lateOnce && now < lateOnce + 12 * S ? r - PERIOD : r;
      };
      drive(learner, readingAt, T0, lateOnce - 10 * S);
      assert.equal(learner.marginMs, 1000);
      const { checks } = drive(learner, readingAt, learner.nextCheckAt(learner.lastCheckAt!, INTERVAL), lateOnce + 2 * PERIOD + 20 * S);
      const aroundLate = checks.filter((t) => t < lateOnce + PERIOD);
      // due + 1 s (miss), the re-check 15 s later (5 % of the period): found at 16 s.
      assert.deepEqual(aroundLate.map((t) => (t - lateOnce) / S), [1, 16]);
      // Missed 1 s after its time, found 16 s after: the margin rises to twice the miss (and the minimum), not to the loose find.
      assert.equal(learner.marginMs, 3 * S, 'the bracket raises the margin');
      const after = checks.filter((t) => t >= lateOnce + PERIOD);
      assert.deepEqual(after.map((t) => (t - lateOnce) / S), [300 + 3, 600 + 3], 'on time again: one check per reading');
    });

    it('the margin covers a steady lag, and comes back down (halving every eight readings) once readings are on time', () => {
      const learner = new CadenceLearner();
      const lagging = sensor(0, PERIOD, 12 * S);
      const prompt = sensor(0, PERIOD, 0);
      const { checks, delays } = drive(learner, lagging, T0, T0 + 120 * MIN);
      const high = learner.marginMs;
      assert.ok(high >= 12 * S && high <= 24 * S, `margin ${high} ms covers a 12 s lag`);
      const learnt = learner.readings;
      assert.ok(checks.filter((t) => t > T0 + 60 * MIN).length <= 1.25 * 12, 'about one request per reading with the lag');
      assert.ok(delays.slice(-8).every((d) => d <= 24 * S));
      const margins: number[] = [];
      let now = learner.nextCheckAt(learner.lastCheckAt!, INTERVAL);
      // From a 17 s margin: halved every eight readings, under 1.1 s after 32.
      while (now < T0 + 330 * MIN) {
        if (learner.observe(prompt(now), now)) margins.push(learner.marginMs);
        now = learner.nextCheckAt(now, INTERVAL);
      }
      assert.ok(learner.readings > learnt);
      assert.ok(margins.every((m, i) => i === 0 || m <= margins[i - 1]!), `never up again: ${margins.map((m) => m / S)}`);
      assert.equal(learner.marginMs, 1000);
    });

    it('a change of cadence is noticed by the heartbeat and learnt again', () => {
      const learner = new CadenceLearner();
      const change = T0 + 30 * MIN;
      const before = sensor(0, PERIOD);
      const after = sensor(change, 120 * S);
      const readingAt = (now: number) => (now < change ? before(now) : after(now));
      drive(learner, readingAt, T0, change + 30 * MIN);
      assert.equal(learner.periodMs(), 120 * S);
      assert.equal(learner.plans(INTERVAL), true);
    });

    it('aliasing: a report skipped while learning does not leave the learner at two periods', () => {
      const learner = new CadenceLearner();
      const onTime = sensor(0);
      const skipped = T0 + 5 * MIN;
      // The report at 5 min never comes: fixed polling sees 0, then 10 min (a trusted 600 s delta).
      const readingAt = (now: number) => {
        const r = onTime(now);
        return r === skipped ? r - PERIOD : r;
      };
      // Polled every 150 s: the heartbeat (10 min) does not fall between two 5-minute reports.
      const { checks } = drive(learner, readingAt, T0, T0 + 40 * MIN, 150 * S);
      assert.equal(learner.periodMs(), PERIOD, 'one look mid-period found the reading at 15 min');
      assert.equal(learner.verified, true);
      assert.ok(checks.some((t) => t > T0 + 15 * MIN && t < T0 + 15 * MIN + 5 * S), 'the mid-period look, just after 15 min');
    });

    it('aliasing: a device reporting twice as often as the period the account agrees on is caught by the periodic look mid-period', () => {
      const learner = new CadenceLearner();
      // Polled every 150 s: the heartbeat (10 min) is no shorter than the account's period.
      const interval = 150 * S;
      const context = { hintPeriodMs: 2 * PERIOD }; // the account's keys report every 10 min
      const readingAt = sensor(0); // this one every 5 min
      let now = T0 + 2 * PERIOD - 10 * S;
      learner.observe(readingAt(now), now, context);
      // Planning on the hint, it checks every 10 min and sees every other reading...
      while (now < T0 + 24 * 2 * PERIOD) {
        now = learner.nextCheckAt(now, interval, context);
        learner.observe(readingAt(now), now, context);
      }
      assert.equal(learner.periodMs(context), 2 * PERIOD, 'aliased while vouched for by the account');
      // ...until the 24th reading: then a look mid-period finds the one between.
      while (now < T0 + 27 * 2 * PERIOD) {
        now = learner.nextCheckAt(now, interval, context);
        learner.observe(readingAt(now), now, context);
      }
      assert.equal(learner.periodMs(context), PERIOD);
    });

    it('a lost reading costs at most two requests (its slot\'s look and one re-check), then the learner goes to the slot after it', () => {
      const learner = new CadenceLearner();
      const readingAt = fieldSensor(5, T0 + 7 * S, 10 * S, { lossRate: 0.1 });
      const { checks } = drive(learner, readingAt, T0, T0 + 120 * MIN, 2 * S);
      // Between two readings found k periods apart (k - 1 lost), the looks that found nothing.
      let wastedWorst = 0;
      let lost = 0;
      let prev: number | undefined;
      let wasted = 0;
      for (const at of checks.filter((t) => t > T0 + 2 * MIN)) {
        const r = readingAt(at);
        if (prev === undefined || r === prev) {
          wasted += prev === undefined ? 0 : 1;
          prev ??= r;
          continue;
        }
        const missing = Math.round((r - prev) / (10 * S)) - 1;
        lost += missing;
        // Each lost reading: its slot's look and one re-check; the probe mid-period (every 24 readings) aside.
        if (missing > 0) wastedWorst = Math.max(wastedWorst, wasted - 2 * missing);
        prev = r;
        wasted = 0;
      }
      assert.ok(lost >= 50, `${lost} readings lost in two hours`);
      assert.ok(wastedWorst <= 1, `a lost reading cost ${2 + wastedWorst} requests at worst`);
      const found = learner.readings;
      assert.ok(checks.length / found <= 1.3, `${checks.length} requests for ${found} readings, ${lost} lost`);
    });

    it('jitter up to 30 % of the period: the first look where most readings are, one re-check at the latest seen, at most 1.3 requests per reading', () => {
      for (const [period, interval] of [[10 * S, 2 * S], [PERIOD, INTERVAL]] as const) {
        let checks = 0;
        let readings = 0;
        for (let i = 0; i < 20; i++) {
          const learner = new CadenceLearner();
          const readingAt = fieldSensor(100 + i, T0 + i * 3 * S, period, { jitterMs: 0.3 * period });
          const warm = drive(learner, readingAt, T0, T0 + 12 * period, interval);
          const before = learner.readings;
          const steady = drive(learner, readingAt, learner.nextCheckAt(warm.checks.at(-1)!, interval), T0 + 120 * period, interval);
          checks += steady.checks.length;
          readings += learner.readings - before;
          assert.equal(learner.mode, 'regular', `sensor ${i}: a jittery sensor is regular`);
          assert.ok(Math.abs(learner.periodMs()! - period) <= 0.05 * period, `sensor ${i}: period ${learner.periodMs()}`);
        }
        assert.ok(readings >= 20 * 100, `${readings} readings`);
        assert.ok(checks / readings <= 1.3, `${period / S} s sensors, ${interval / S} s interval: ${checks} requests for ${readings} readings`);
      }
    });

    it('a sensor faster than the interval (one that shows as the interval itself) follows the rounds: a request every interval, each a new reading', () => {
      for (const period of [S, 0.5 * INTERVAL, INTERVAL]) {
        const learner = new CadenceLearner();
        const { checks } = drive(learner, sensor(T0 + 250, period), T0, T0 + 30 * MIN);
        assert.equal(learner.plans(INTERVAL), false, `a ${period / S} s sensor`);
        assert.deepEqual(new Set(gaps(checks)), new Set([INTERVAL]), 'never less often than the interval');
        assert.equal(learner.readings, checks.length, 'each look a new reading');
      }
      // A period of 1.25 intervals or more is planned.
      const slower = new CadenceLearner();
      drive(slower, sensor(T0, 1.25 * INTERVAL), T0, T0 + 30 * MIN);
      assert.equal(slower.plans(INTERVAL), true);
    });

    it('a sensor faster than the checks shows as their gap: under a budget\'s stretch it follows the stretched rounds, and after it a look mid-period brings it back to the rounds', () => {
      const learner = new CadenceLearner();
      const readingAt = sensor(T0 + 250, S);
      const checks: number[] = [];
      for (let now = T0; now < T0 + 2 * MIN;) {
        const context = now < T0 + MIN ? { stretch: 1.5 } : {};
        learner.observe(readingAt(now), now, context);
        checks.push(now);
        now = learner.nextCheckAt(now, 2 * S, context);
      }
      const stretched = checks.filter((t) => t < T0 + MIN);
      assert.deepEqual(new Set(gaps(stretched)), new Set([3 * S]), 'the stretched rounds: every 3 s');
      // Its period then looks like 3 s (1.5 intervals): planned, until the look mid-period finds a reading between.
      const after = checks.filter((t) => t >= T0 + MIN + 10 * S);
      assert.ok(gaps(after).every((g) => g <= 2 * S), `every interval again: ${gaps(after).map((g) => g / S)}`);
      assert.equal(learner.plans(2 * S), false);
    });

    it('fitPeriod: multiples (a missed report) still fit, one outlier of five is tolerated, the latest must fit', () => {
      assert.deepEqual(fitPeriod([300, 600, 300, 300].map((x) => x * S)), { periodMs: PERIOD, regular: true });
      assert.deepEqual(fitPeriod([300, 301, 299, 300, 300].map((x) => x * S)), { periodMs: PERIOD, regular: true });
      assert.equal(fitPeriod([300, 20, 300, 300, 300].map((x) => x * S))!.regular, true);
      assert.equal(fitPeriod([300, 300, 300, 300, 20].map((x) => x * S))!.regular, false);
      assert.equal(fitPeriod([300, 20].map((x) => x * S))!.regular, false);
      assert.equal(fitPeriod([]), undefined);
      assert.equal(commonPeriod([300, 300, 600].map((x) => x * S)), PERIOD);
      assert.equal(commonPeriod([300, 300].map((x) => x * S)), undefined, 'three keys at least');
      assert.equal(commonPeriod([300, 45, 77, 1000].map((x) => x * S)), undefined, 'two thirds must agree');
    });
  });

  describe('PollScheduler with cadence-aware keys (fake clock)', () => {
    let clock: sinon.SinonFakeTimers;
    const schedulers: PollScheduler[] = [];
    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    });
    afterEach(() => {
      for (const s of schedulers.splice(0)) s.close();
      clock.restore();
    });
    function scheduler(options: SchedulerOptions = {}): PollScheduler {
      const s = new PollScheduler(options);
      schedulers.push(s);
      return s;
    }

    interface Reading { t: number; device: string }
    const timeOf = (v: Reading) => v.t;
    function recorder() {
      const r = { values: [] as Array<{ at: number; value: Reading }>, errors: [] as unknown[] };
      const listener: Listener<Reading> = {
        next: (value) => r.values.push({ at: Date.now(), value }),
        error: (err) => r.errors.push(err),
      };
      return { ...r, listener, get r() { return r; } };
    }
    function device(name: string, readingAt: (now: number) => number) {
      const calls: number[] = [];
      return {
        calls,
        fetch: async () => {
          calls.push(Date.now());
          return { t: readingAt(Date.now()), device: name };
        },
      };
    }

    it('while no new reading can be due, each round hands out the cached value without a request', async () => {
      const s = scheduler();
      const d = device('a', sensor(T0 + 30 * S));
      const rec = recorder();
      s.subscribe('a', INTERVAL, d.fetch, rec.listener, { cadence: { timeOf } });
      await clock.tickAsync(60 * MIN);
      const { values } = rec.r;
      // Before the period is known (two readings), the rounds fetch; after, one request per reading.
      assert.equal(s.cadenceOf('a', INTERVAL)!.mode, 'regular');
      const fromCache = s.servedFromCache;
      assert.ok(fromCache >= 40, `${fromCache} round visits answered from the cache`);
      assert.ok(d.calls.length <= 16, `${d.calls.length} requests in an hour (fixed polling: 60)`);
      // The node still hears at every interval: every round delivered, plus each new reading when found.
      const rounds = values.filter((v) => (v.at - T0) % INTERVAL === 0).length;
      assert.ok(rounds >= 59, `${rounds} deliveries on the rounds`);
      const distinct = new Set(values.map((v) => v.value.t));
      assert.equal(distinct.size, 13);
      // A reading's first delivery comes a second after its timestamp once learnt.
      const firstSeen = new Map<number, number>();
      for (const v of values) if (!firstSeen.has(v.value.t)) firstSeen.set(v.value.t, v.at);
      const lateDelays = [...firstSeen].filter(([t]) => t > T0 + 15 * MIN).map(([t, at]) => at - t);
      assert.ok(lateDelays.every((x) => x <= 2 * S), `delays ${lateDelays.map((x) => x / S)} s`);
      assert.equal(s.fetches, d.calls.length);
    });

    it('two listeners of one cadence-aware key share every request (coalescing unchanged)', async () => {
      const s = scheduler();
      const d = device('a', sensor(0));
      const one = recorder();
      const two = recorder();
      s.subscribe('a', INTERVAL, d.fetch, one.listener, { cadence: { timeOf } });
      s.subscribe('a', INTERVAL, d.fetch, two.listener, { cadence: { timeOf } });
      assert.equal(s.size, 1);
      await clock.tickAsync(30 * MIN);
      assert.equal(s.fetches, d.calls.length);
      assert.deepEqual(two.r.values.map((v) => v.value), one.r.values.map((v) => v.value));
      for (let i = 0; i < one.r.values.length; i++) assert.equal(one.r.values[i]!.value, two.r.values[i]!.value, 'the same object');
    });

    it('a listener subscribed without cadence keeps the key on the fixed interval', async () => {
      const s = scheduler();
      const d = device('a', sensor(0));
      const aware = recorder();
      const plain = recorder();
      s.subscribe('a', INTERVAL, d.fetch, aware.listener, { cadence: { timeOf } });
      const unsubscribePlain = s.subscribe('a', INTERVAL, d.fetch, plain.listener);
      await clock.tickAsync(30 * MIN);
      assert.equal(d.calls.length, 31, 'at 0 and every minute up to 30');
      assert.equal(s.servedFromCache, 0);
      unsubscribePlain();
      const before = d.calls.length;
      await clock.tickAsync(30 * MIN);
      assert.ok(d.calls.length - before <= 7, `${d.calls.length - before} requests once only the cadence-aware listener is left`);
    });

    it('keys without cadence are polled exactly as before', async () => {
      const s = scheduler();
      const d = device('a', sensor(0));
      const rec = recorder();
      s.subscribe('a', INTERVAL, d.fetch, rec.listener);
      await clock.tickAsync(30 * MIN);
      assert.deepEqual(gaps(d.calls), Array(30).fill(INTERVAL));
      assert.equal(s.servedFromCache, 0);
      assert.equal(rec.r.values.length, 31);
    });

    it('100 sensors at 300 s polled at 60 s for 30 minutes: about one request per reading, found a second after it is due', async () => {
      const s = scheduler();
      const seen = new Map<string, Map<number, number>>();
      for (let i = 0; i < 100; i++) {
        const name = `d${i}`;
        const phase = T0 + ((i * 7919) % 300) * S;
        const d = device(name, sensor(phase));
        seen.set(name, new Map());
        s.subscribe(name, INTERVAL, d.fetch, {
          next: (v: Reading) => { if (!seen.get(name)!.has(v.t)) seen.get(name)!.set(v.t, Date.now() - v.t); },
          error: () => undefined,
        }, { cadence: { timeOf } });
      }
      await clock.tickAsync(30 * MIN);
      const readings = [...seen.values()].reduce((n, m) => n + m.size, 0);
      const delays = [...seen.values()].flatMap((m) => [...m.values()].slice(1)).sort((a, b) => a - b);
      const median = delays[delays.length >> 1]!;
      console.log(`      measured: ${s.fetches} requests for ${readings} readings (${readings - 100} new), ${s.servedFromCache} rounds from the cache, median delay ${median / S} s`);
      assert.ok(s.fetches / readings <= 1.05, `${s.fetches} requests for ${readings} readings`);
      assert.ok(s.fetches / (readings - 100) <= 1.2, `${s.fetches} requests for ${readings - 100} new readings`);
      assert.ok(median <= 10 * S, `median delay ${median / S} s`);
    });

    it('100 sensors with a 3 s API lag and ±2 s jitter for 2 hours: about 1.2 requests per reading, median delay under 10 s', async () => {
      const s = scheduler();
      const seen = new Map<string, Map<number, number>>();
      const jitter = (i: number, k: number) => (((i * 31 + k * 17) % 5) - 2) * S;
      for (let i = 0; i < 100; i++) {
        const phase = T0 + ((i * 7919) % 300) * S;
        const name = `d${i}`;
        seen.set(name, new Map());
        // Reading k is taken at phase + k periods + jitter and visible 3 s later.
        const readingAt = (now: number) => {
          for (let k = Math.floor((now - phase) / PERIOD) + 1; ; k--) {
            const t = phase + k * PERIOD + jitter(i, k);
            if (t + 3 * S <= now) return t;
          }
        };
        s.subscribe<Reading>(name, INTERVAL, async () => ({ t: readingAt(Date.now()), device: name }), {
          next: (v) => { if (!seen.get(name)!.has(v.t)) seen.get(name)!.set(v.t, Date.now() - v.t); },
          error: () => undefined,
        }, { cadence: { timeOf } });
      }
      await clock.tickAsync(120 * MIN);
      const readings = [...seen.values()].reduce((n, m) => n + m.size, 0);
      const delays = [...seen.values()].flatMap((m) => [...m.values()].slice(1)).sort((a, b) => a - b);
      const median = delays[delays.length >> 1]!;
      console.log(`      measured: ${s.fetches} requests for ${readings} readings (${(s.fetches / readings).toFixed(2)} each; fixed polling: 5), median delay ${median / S} s`);
      assert.ok(s.fetches / readings <= 1.3, `${s.fetches} requests for ${readings} readings`);
      assert.ok(median <= 10 * S, `median delay ${median / S} s`);
    });

    it('ten sensors as they behave in the field, every 10 s, polled every 2 s: requests per new reading after warm-up', async () => {
      const cases: Array<{ label: string; period: number; jitterMs?: number; lossRate?: number; most: number }> = [
        { label: 'every 10 s, exact', period: 10 * S, most: 1.1 },
        { label: 'every 10 s, ±1 s jitter', period: 10 * S, jitterMs: 2 * S, most: 1.1 },
        { label: 'every 10 s, 1 reading in 10 lost', period: 10 * S, lossRate: 0.1, most: 1.3 },
        // Each lost reading costs its slot's look and one re-check: (1 + 1/4) / (3/4) = 1.67, and the probe mid-period.
        { label: 'every 10 s, 1 in 4 lost', period: 10 * S, lossRate: 0.25, most: 1.75 },
        { label: 'every 10 s, jitter up to 3 s', period: 10 * S, jitterMs: 3 * S, most: 1.3 },
        { label: 'every 1 s, polled every 2 s', period: S, most: 1 },
      ];
      const lines: string[] = [];
      for (const c of cases) {
        const s = scheduler();
        const start = Date.now();
        const warm = start + 2 * MIN;
        let requests = 0;
        let fresh = 0;
        for (let i = 0; i < 10; i++) {
          const readingAt = fieldSensor(i, start + i * 1300, c.period, c);
          const seen = new Set<number>();
          s.subscribe<Reading>(`d${i}`, 2 * S, async () => {
            if (Date.now() >= warm) requests++;
            return { t: readingAt(Date.now()), device: `d${i}` };
          }, {
            next: (v) => { if (!seen.has(v.t) && seen.add(v.t) && Date.now() >= warm) fresh++; },
            error: () => undefined,
          }, { cadence: { timeOf } });
        }
        await clock.tickAsync(12 * MIN);
        s.close();
        lines.push(`${c.label}: ${(requests / fresh).toFixed(2)} (${requests} for ${fresh})`);
        assert.ok(requests / fresh <= c.most, `${c.label}: ${requests} requests for ${fresh} new readings`);
        // 10 minutes at 2 s: 300 intervals a sensor.
        if (c.period < 2 * S) {
          assert.ok(fresh >= 10 * 300, `${fresh} new readings: the freshest at every interval, of every sensor`);
          assert.equal(requests, fresh, 'each request a new reading');
        }
      }
      console.log(`      measured (requests per new reading over 10 minutes after 2 of warm-up): ${lines.join('; ')}`);
    });

    it('a failing cadence-aware key follows the rounds until it recovers', async () => {
      const s = scheduler();
      const readingAt = sensor(0);
      let failing = false;
      const calls: number[] = [];
      const rec = recorder();
      s.subscribe<Reading>('a', INTERVAL, async () => {
        calls.push(Date.now());
        if (failing) throw new LeapcraftUnavailableError('down');
        return { t: readingAt(Date.now()), device: 'a' };
      }, rec.listener, { cadence: { timeOf } });
      await clock.tickAsync(20 * MIN);
      failing = true;
      const before = calls.length;
      await clock.tickAsync(10 * MIN);
      assert.ok(calls.length - before >= 9, `${calls.length - before} tries in 10 minutes of failure: at every round`);
      assert.ok(rec.r.errors.length >= 9);
      failing = false;
      await clock.tickAsync(2 * MIN);
      const recovered = calls.length;
      await clock.tickAsync(30 * MIN);
      assert.ok(calls.length - recovered <= 7, `${calls.length - recovered} requests in 30 minutes after recovering`);
    });

    it('close() leaves no timer behind, with off-round checks and cached rounds under way', async () => {
      const s = scheduler();
      for (let i = 0; i < 20; i++) {
        const d = device(`d${i}`, sensor(T0 + i * 13 * S));
        s.subscribe(`d${i}`, INTERVAL, d.fetch, recorder().listener, { cadence: { timeOf } });
      }
      await clock.tickAsync(20 * MIN);
      assert.ok(clock.countTimers() > 0);
      assert.ok(clock.countTimers() <= 3, `${clock.countTimers()} timers for 20 keys (a round timer and an off-round one)`);
      s.close();
      assert.equal(clock.countTimers(), 0);
    });

    it('a thousand keys keep two timers, and off-round checks due at one instant go out paced', async () => {
      const s = scheduler({ maxGapMs: 50 });
      const calls: number[] = [];
      const readingAt = sensor(T0 + 10 * S); // every sensor reports at the same instant
      for (let i = 0; i < 1000; i++) {
        s.subscribe<Reading>(`d${i}`, INTERVAL, async () => (calls.push(Date.now()), { t: readingAt(Date.now()), device: `d${i}` }), recorder().listener, { cadence: { timeOf } });
      }
      await clock.tickAsync(25 * MIN);
      assert.ok(clock.countTimers() <= 2, `${clock.countTimers()} timers`);
      const due = T0 + 10 * S + 4 * PERIOD;
      const burst = calls.filter((t) => t >= due && t < due + 60 * S);
      assert.equal(burst.length, 1000);
      const perSecond = new Map<number, number>();
      for (const t of burst) perSecond.set(Math.floor(t / S), (perSecond.get(Math.floor(t / S)) ?? 0) + 1);
      assert.ok(Math.max(...perSecond.values()) <= 21, `at most ${Math.max(...perSecond.values())} a second (gap 50 ms)`);
    });
  });
});
