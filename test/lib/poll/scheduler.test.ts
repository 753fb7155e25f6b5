import assert from 'node:assert/strict';
import sinon from 'sinon';
import { rejectionOf, useSimulator } from '../../support/fixtures';
import { SimClock } from '../../support/sim-clock';
import {
  Fetch, LeapcraftAbortedError, LeapcraftClient, LeapcraftError, LeapcraftBadResponseError, LeapcraftRateLimitError, LeapcraftUnavailableError, Listener, PollScheduler,
  SchedulerOptions, TelemetryReading, TelemetryResponse,
} from '../../../lib';
import { sleep, waitFor } from '../../support/wait';

interface Recorder<T> extends Listener<T> {
  values: Array<{ value: T; key: string }>;
  errors: Array<{ err: Error & { code?: string; retryAfterMs?: number }; key: string }>;
}

function recorder<T>(): Recorder<T> {
  const r: Recorder<T> = {
    values: [],
    errors: [],
    next(value, key) {
      r.values.push({ value, key });
    },
    error(err, { key }) {
      r.errors.push({ err: err as Error, key });
    },
  };
  return r;
}

/** A fetch that never settles by itself, only when its signal aborts. */
function pendingUntilAborted(onCall: (signal: AbortSignal) => void): Fetch<never> {
  return (signal) => {
    onCall(signal);
    return new Promise<never>((_resolve, reject) => {
      signal.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
    });
  };
}

const timeoutsAlive = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('PollScheduler', function () {
  const schedulers: PollScheduler[] = [];
  function scheduler(options: SchedulerOptions = {}): PollScheduler {
    const s = new PollScheduler(options);
    schedulers.push(s);
    return s;
  }
  // Registered before useSimulator: closes the schedulers before the clients and the simulator.
  afterEach(() => {
    sinon.restore();
    for (const s of schedulers.splice(0)) s.close();
  });

  describe('with the real client against the simulator', () => {
    /** Simulated time for a test's scheduler: it moves on once the client's requests are answered. */
    let time: SimClock | undefined;
    // Registered before useSimulator's: the clock is restored before the simulator stops.
    afterEach(() => {
      time?.restore();
      time = undefined;
    });
    const fx = useSimulator({ deviceCount: 20 });
    const fakeTime = (client: LeapcraftClient): SimClock => {
      time = new SimClock(Date.now(), undefined, () => client.stats().inFlight);
      return time;
    };

    const latest = (client: LeapcraftClient, id: string): Fetch<TelemetryResponse> =>
      (signal) => client.getTelemetry(id, {}, { signal });
    const ids = () => fx.sim.devices().map((d) => d.physical_id);
    const telemetrySent = () => fx.sim.stats.requests.filter((r) => r.endpoint === 'telemetry');
    const telemetrySentFor = (id: string) => telemetrySent().filter((r) => r.rawUrl.includes(`/telemetry/${encodeURIComponent(id)}?`));

    async function readyClient(options: Parameters<typeof fx.client>[0] = {}): Promise<LeapcraftClient> {
      const client = fx.client(options);
      await client.authenticate();
      fx.sim.resetStats();
      return client;
    }

    it('5 subscribers x 20 keys: 20 fetches in the round, and every subscriber gets the same 20 values', async () => {
      const client = await readyClient();
      const s = scheduler({ maxGapMs: 5 });
      const all = ids();
      assert.equal(all.length, 20);
      const subs = Array.from({ length: 5 }, () => recorder<TelemetryResponse>());
      for (const sub of subs) for (const id of all) s.subscribe(`latest:${id}`, 60_000, latest(client, id), sub);
      assert.equal(s.size, 20);

      await waitFor(() => subs.every((r) => r.values.length >= 20), 5000, 'every subscriber to get 20 values');
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 20);
      assert.equal(s.fetches, 20);
      for (const id of all) assert.equal(telemetrySentFor(id).length, 1, `one request for ${id}`);
      for (const sub of subs) {
        assert.equal(sub.values.length, 20);
        assert.equal(sub.errors.length, 0);
        assert.deepEqual(new Set(sub.values.map((v) => v.key)), new Set(all.map((id) => `latest:${id}`)));
        for (const { value, key } of sub.values) assert.equal(`latest:${(value as TelemetryReading).physical_id}`, key);
      }
      // Fan-out: the very same object goes to every subscriber of a key.
      for (const id of all) {
        const key = `latest:${id}`;
        const first = subs[0].values.find((v) => v.key === key)!.value;
        for (const sub of subs.slice(1)) assert.equal(sub.values.find((v) => v.key === key)!.value, first);
      }
    });

    it('a new subscriber to a polled key gets the last value at once, without a new request', async () => {
      const client = await readyClient();
      const clock = fakeTime(client);
      const s = scheduler({ maxGapMs: 5 });
      const id = ids()[0];
      const first = recorder<TelemetryResponse>();
      s.subscribe('k', 60_000, latest(client, id), first);
      const early = recorder<TelemetryResponse>();
      s.subscribe('k', 60_000, latest(client, id), early);
      assert.equal(early.values.length, 0, 'nothing cached yet, nothing delivered');
      const start = clock.now;
      await clock.runByStep(start + 1);
      assert.equal(first.values.length, 1, 'the first value');
      assert.equal(early.values.length, 1, 'the first value');

      let otherFetchCalls = 0;
      const late = recorder<TelemetryResponse>();
      s.subscribe('k', 60_000, (signal) => {
        otherFetchCalls++;
        return client.getTelemetry(id, {}, { signal });
      }, late);
      // Synchronously, inside subscribe().
      assert.equal(late.values.length, 1);
      assert.equal(late.values[0].value, first.values[0].value);
      assert.equal(late.values[0].key, 'k');
      // Nothing more until the next round, a minute after the first.
      await clock.runByStep(start + 60_000 - 1);
      assert.equal(otherFetchCalls, 0);
      assert.equal(s.fetches, 1);
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 1);
      assert.equal(s.size, 1);
    });

    it('paces a round: 10 keys with maxGapMs 50 go out one by one over 9 gaps, in subscription order', async () => {
      const client = await readyClient();
      const clock = fakeTime(client);
      const s = scheduler({ maxGapMs: 50 });
      const some = ids().slice(0, 10);
      const started: number[] = [];
      const r = recorder<TelemetryResponse>();
      for (const id of some) {
        s.subscribe(id, 60_000, (signal) => {
          started.push(Date.now());
          return client.getTelemetry(id, {}, { signal });
        }, r);
      }
      await clock.runByStep(clock.now + 1000);
      assert.equal(r.values.length, 10, 'all 10 values');

      assert.equal(started.length, 10);
      assert.deepEqual(started.slice(1).map((t, i) => t - started[i]!), Array(9).fill(50), 'a fetch every 50 ms');
      const sent = telemetrySent();
      assert.equal(sent.length, 10);
      assert.deepEqual(sent.map((x) => decodeURIComponent(x.rawUrl.split('/telemetry/')[1].split('?')[0])), some);
    });

    it('rounds keep their interval: timer lateness does not add up over the steps of a paced round', async () => {
      // 50 keys at 500 ms: 10 ms between steps, on a fake clock where every timer fires LATE ms
      // late (a busy event loop, a request's synchronous set-up). Lateness added up over 50 steps
      // used to stretch every round by a third.
      const LATE = 3;
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const onTime = globalThis.setTimeout;
      globalThis.setTimeout = ((fn: () => void, ms = 0) => onTime(fn, ms + LATE)) as typeof setTimeout;
      const rounds: number[] = [];
      try {
        const s = scheduler();
        const r = recorder<number>();
        for (let i = 0; i < 50; i++) {
          s.subscribe(`k${i}`, 500, async () => {
            if (i === 0) rounds.push(Date.now());
            return i;
          }, r);
        }
        await clock.tickAsync(3250);
      } finally {
        globalThis.setTimeout = onTime;
      }
      const periods = rounds.slice(1).map((t, i) => t - rounds[i]!);
      assert.equal(rounds.length, 7, `rounds in 3.25 s; periods ${periods.join(', ')} ms`);
      // At most one timer's lateness per round, not its 50 steps'.
      assert.ok(periods.every((p) => p >= 500 && p <= 500 + LATE), `periods ${periods.join(', ')} ms`);
    });

    it('a key rate-limited by the API (429, Retry-After 1) is not fetched again before 1 s, then fetched again', async () => {
      const client = await readyClient({ maxRetryAfterMs: 0 });
      fx.sim.injectFault({ kind: 'rate-limit', retryAfter: 1, endpoint: 'telemetry', times: 1 });
      const s = scheduler({ maxGapMs: 10 });
      const id = ids()[0];
      const calls: number[] = [];
      const r = recorder<TelemetryResponse>();
      s.subscribe('k', 200, (signal) => {
        calls.push(Date.now());
        return client.getTelemetry(id, {}, { signal });
      }, r);

      await waitFor(() => r.values.length >= 1, 5000, 'the value after the Retry-After');
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0].err.code, 'LEAPCRAFT_RATE_LIMITED');
      assert.equal(r.errors[0].key, 'k');
      assert.ok(r.errors[0].err.retryAfterMs! > 0 && r.errors[0].err.retryAfterMs! <= 1000);
      // The rounds at 200, 400, 600 and 800 ms left the key alone (not even a call the
      // client would have refused locally).
      assert.ok(calls.length >= 2);
      const between = calls.filter((t) => t > calls[0] && t < calls[0] + 950);
      assert.deepEqual(between, [], 'no fetch while the Retry-After runs');
      const sent = telemetrySent();
      assert.equal(sent[0].status, 429);
      assert.equal(sent[1].status, 200);
      assert.ok(sent[1].at - sent[0].at >= 950, `fetched again after ${sent[1].at - sent[0].at} ms, expected >= 1000`);
    });

    it('a failing key is reported to error() every round while the other keys still deliver', async () => {
      const client = await readyClient();
      const s = scheduler({ maxGapMs: 10 });
      const [a, b] = ids();
      const ghost = recorder<TelemetryResponse>();
      const good = recorder<TelemetryResponse>();
      s.subscribe('ghost', 150, latest(client, 'no-such-device'), ghost);
      s.subscribe('a', 150, latest(client, a), good);
      s.subscribe('b', 150, latest(client, b), good);

      await waitFor(() => ghost.errors.length >= 2 && good.values.filter((v) => v.key === 'b').length >= 2, 5000, 'two rounds');
      assert.equal(ghost.values.length, 0);
      assert.equal(good.errors.length, 0);
      for (const e of ghost.errors) {
        assert.equal(e.err.code, 'LEAPCRAFT_NOT_FOUND');
        assert.equal(e.key, 'ghost');
      }
      assert.ok(good.values.filter((v) => v.key === 'a').length >= 2);
      const tries = telemetrySentFor('no-such-device');
      assert.ok(tries.length >= 2);
      assert.ok(tries[1].at - tries[0].at >= 100, `retried after ${tries[1].at - tries[0].at} ms: in the next round, not at once`);
    });

    it('a key that failed once (503) delivers again in the next round', async () => {
      const client = await readyClient({ maxRetries: 0 });
      fx.sim.injectFault({ kind: 'status', status: 503, endpoint: 'telemetry', times: 1 });
      const s = scheduler({ maxGapMs: 10 });
      const [a, b] = ids();
      const ra = recorder<TelemetryResponse>();
      const rb = recorder<TelemetryResponse>();
      s.subscribe('a', 150, latest(client, a), ra); // first in the round: takes the 503
      s.subscribe('b', 150, latest(client, b), rb);

      await waitFor(() => ra.values.length >= 1, 5000, 'a value for the key that failed');
      assert.equal(ra.errors.length, 1);
      assert.equal(ra.errors[0].err.code, 'LEAPCRAFT_UNAVAILABLE');
      assert.equal(rb.errors.length, 0);
      assert.ok(rb.values.length >= 1);
      assert.equal(telemetrySentFor(a)[0].status, 503);
    });

    it('unsubscribing the last listener aborts its in-flight request and stops polling the key', async () => {
      const client = await readyClient({ timeoutMs: 10_000 });
      fx.sim.injectFault({ kind: 'hang', endpoint: 'telemetry', times: 1 });
      const s = scheduler({ maxGapMs: 10 });
      const [a, b] = ids();
      let calls = 0;
      let signal: AbortSignal | undefined;
      let inFlight: Promise<TelemetryResponse> | undefined;
      const ra = recorder<TelemetryResponse>();
      const rb = recorder<TelemetryResponse>();
      const unsubscribe = s.subscribe('a', 150, (sig) => {
        calls++;
        signal = sig;
        inFlight = client.getTelemetry(a, {}, { signal: sig });
        return inFlight;
      }, ra); // first: its request hangs
      s.subscribe('b', 150, latest(client, b), rb);
      await waitFor(() => telemetrySentFor(a).length === 1 && rb.values.length >= 1, 5000, 'the hung request and a value for b');

      unsubscribe();
      assert.equal(signal!.aborted, true);
      assert.equal((await rejectionOf(inFlight!)).code, 'LEAPCRAFT_ABORTED');
      assert.equal(s.size, 1);
      const bBefore = rb.values.length;
      // Three more rounds of the other key: a was due in each of them.
      await waitFor(() => rb.values.length >= bBefore + 3, 5000, 'three more values of b');
      assert.equal(calls, 1);
      assert.equal(telemetrySentFor(a).length, 1);
      assert.deepEqual(ra.values, []);
      assert.deepEqual(ra.errors, [], 'the abort is not reported as a failure');
      assert.ok(rb.values.length > bBefore, 'the other key is still polled');
      unsubscribe(); // a second call is harmless
      assert.equal(s.size, 1);
    });

    it('unsubscribing one of two listeners keeps the key polled for the other', async () => {
      const client = await readyClient();
      const s = scheduler({ maxGapMs: 10 });
      const id = ids()[0];
      const signals: AbortSignal[] = [];
      const fetch: Fetch<TelemetryResponse> = (signal) => {
        signals.push(signal);
        return client.getTelemetry(id, {}, { signal });
      };
      const r1 = recorder<TelemetryResponse>();
      const r2 = recorder<TelemetryResponse>();
      const unsubscribe1 = s.subscribe('k', 100, fetch, r1);
      s.subscribe('k', 100, fetch, r2);
      await waitFor(() => r1.values.length === 1 && r2.values.length === 1, 5000, 'the first value');

      unsubscribe1();
      assert.equal(s.size, 1);
      await waitFor(() => r2.values.length >= 3, 5000, 'two more values for the remaining listener');
      assert.equal(r1.values.length, 1);
      assert.ok(signals.every((sig) => !sig.aborted), 'nothing was aborted');
      assert.equal(telemetrySentFor(id).length, signals.length);
    });

    it('fetchNow joins the in-flight request of a polled key, and otherwise sends a fresh one', async () => {
      const client = await readyClient();
      fx.sim.set({ latencyMs: 200 });
      const s = scheduler({ maxGapMs: 10 });
      const id = ids()[0];
      let polled = 0;
      const r = recorder<TelemetryResponse>();
      s.subscribe('k', 60_000, (signal) => {
        polled++;
        return client.getTelemetry(id, {}, { signal });
      }, r);
      await waitFor(() => polled === 1, 5000, 'the round to start the request');

      let ownCalls = 0;
      const own: Fetch<TelemetryResponse> = (signal) => {
        ownCalls++;
        return client.getTelemetry(id, {}, { signal });
      };
      const joined = await s.fetchNow('k', own);
      assert.equal(ownCalls, 0, 'joined, not sent');
      await waitFor(() => r.values.length === 1, 5000, 'the polled value');
      assert.equal(joined, r.values[0].value);
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 1);

      const fresh = await s.fetchNow('k', own);
      assert.equal(ownCalls, 1);
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 2);
      assert.notEqual(fresh, joined);
      assert.equal((fresh as TelemetryReading).physical_id, id);
    });

    it('fetchNow passes its caller\'s abort on to the request', async () => {
      const client = await readyClient();
      fx.sim.set({ latencyMs: 300 });
      const s = scheduler();
      const id = ids()[0];
      const caller = new AbortController();
      let called = false;
      const p = s.fetchNow('k', (signal) => {
        called = true;
        return client.getTelemetry(id, {}, { signal });
      }, caller.signal);
      await waitFor(() => called && fx.sim.stats.byEndpoint.telemetry === 1, 5000, 'the request to be sent');
      caller.abort();
      assert.equal((await rejectionOf(p)).code, 'LEAPCRAFT_ABORTED');
    });

    it('fetchNow with an already-aborted signal sends nothing', async () => {
      const client = await readyClient();
      const s = scheduler();
      const id = ids()[0];
      const caller = new AbortController();
      caller.abort();
      const err = await rejectionOf(s.fetchNow('k', (signal) => client.getTelemetry(id, {}, { signal }), caller.signal));
      assert.equal(err.code, 'LEAPCRAFT_ABORTED');
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 0);
    });

    it('two fetchNow calls for the same key at once share one request', async () => {
      const client = await readyClient();
      fx.sim.set({ latencyMs: 100 });
      const s = scheduler();
      const id = ids()[0];
      const fetch = latest(client, id);
      const [x, y] = await Promise.all([s.fetchNow('k', fetch), s.fetchNow('k', fetch)]);
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 1, 'the second call joins the first one under way');
      assert.equal(x, y);
    });

    it('never overlaps two requests of one key when a request takes longer than the interval', async () => {
      const client = await readyClient();
      fx.sim.set({ latencyMs: 250 });
      const s = scheduler({ maxGapMs: 10 });
      const id = ids()[0];
      let running = 0;
      let maxRunning = 0;
      const r = recorder<TelemetryResponse>();
      s.subscribe('k', 80, async (signal) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          return await client.getTelemetry(id, {}, { signal });
        } finally {
          running--;
        }
      }, r);
      await waitFor(() => r.values.length >= 3, 5000, 'three values');
      assert.equal(maxRunning, 1);
      assert.equal(fx.sim.maxConcurrent, 1);
      assert.equal(r.errors.length, 0);
      assert.ok(fx.sim.stats.byEndpoint.telemetry <= r.values.length + 1);
    });

    it('unsubscribing the keys left in a round does not start the next round early', async () => {
      const client = await readyClient();
      const clock = fakeTime(client);
      const s = scheduler({ maxGapMs: 100 });
      const [a, b] = ids();
      const ra = recorder<TelemetryResponse>();
      const start = clock.now;
      s.subscribe('a', 1000, latest(client, a), ra);
      const unsubscribeB = s.subscribe('b', 1000, latest(client, b), recorder<TelemetryResponse>());
      // a goes first, b 100 ms later (maxGapMs).
      await clock.runByStep(start + 100 - 1);
      assert.equal(ra.values.length, 1, 'the value of a');
      unsubscribeB(); // b was still waiting for its turn in the round
      // The next round is due 1000 ms after the first.
      await clock.runByStep(start + 1000 - 1);
      assert.equal(telemetrySentFor(a).length, 1, 'a must be fetched once per 1000 ms interval');
      assert.equal(ra.values.length, 1);
      await clock.runByStep(start + 1000 + 1);
      assert.equal(telemetrySentFor(a).length, 2, 'and then in the next round');
    });
  });

  describe('failure state (owned by the scheduler, not by each node)', () => {
    const coded = (code: string) => Object.assign(new LeapcraftError(code as never, `failed: ${code}`), {});

    it('each listener hears first once per change of failure, and recovered once before the value', async () => {
      const s = scheduler({ maxGapMs: 5 });
      // 3 x unavailable, 2 x timeout, a value, 1 x unavailable, a value.
      const script: Array<string | null> = ['LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_TIMEOUT', null, 'LEAPCRAFT_UNAVAILABLE', null];
      let call = 0;
      const heard: string[] = [];
      const listener: Listener<number> = {
        next: (v) => heard.push(`value ${v}`),
        error: (_err, f) => heard.push(`${f.code}${f.first ? ' first' : ''}`),
        recovered: () => heard.push('recovered'),
      };
      s.subscribe('k', 40, async () => {
        const step = script[Math.min(call, script.length - 1)];
        call++;
        if (step) throw coded(step);
        return call;
      }, listener);
      await waitFor(() => heard.filter((h) => h.startsWith('value')).length >= 2, 5000, 'two values');
      assert.deepEqual(heard.slice(0, heard.indexOf('value 8') + 1), [
        'LEAPCRAFT_UNAVAILABLE first', 'LEAPCRAFT_UNAVAILABLE', 'LEAPCRAFT_UNAVAILABLE',
        'LEAPCRAFT_TIMEOUT first', 'LEAPCRAFT_TIMEOUT',
        'recovered', 'value 6',
        'LEAPCRAFT_UNAVAILABLE first',
        'recovered', 'value 8',
      ]);
    });

    it('a listener that joins a failing key hears the failure as first; the others do not hear it again', async () => {
      const s = scheduler({ maxGapMs: 5 });
      let calls = 0;
      const early: boolean[] = [];
      const late: boolean[] = [];
      const fetch = async () => { calls++; throw coded('LEAPCRAFT_UNAVAILABLE'); };
      s.subscribe('k', 40, fetch, { next: () => undefined, error: (_e, f) => early.push(f.first) });
      await waitFor(() => early.length >= 2, 5000, 'two failures');
      s.subscribe('k', 40, fetch, { next: () => undefined, error: (_e, f) => late.push(f.first) });
      await waitFor(() => late.length >= 2, 5000, 'two failures for the late listener');
      assert.equal(early.filter((f) => f).length, 1);
      assert.deepEqual(late.slice(0, 2), [true, false]);
    });

    it('a cancelled fetch (LEAPCRAFT_ABORTED) reaches no listener and is no failure', async () => {
      const s = scheduler({ maxGapMs: 5 });
      let calls = 0;
      const errors: unknown[] = [];
      const recovered: string[] = [];
      s.subscribe('k', 40, async () => {
        calls++;
        if (calls <= 2) throw new LeapcraftAbortedError('cancelled by the client');
        return calls;
      }, { next: () => undefined, error: (e) => errors.push(e), recovered: (k) => recovered.push(k) });
      await waitFor(() => calls >= 4, 5000, 'four fetches');
      assert.deepEqual(errors, []);
      assert.deepEqual(recovered, [], 'nothing to recover from');
    });
  });

  describe('timing logic with plain fetch functions', () => {
    it('keys at different intervals are separate entries, polled at their own pace', async () => {
      const s = scheduler({ maxGapMs: 10 });
      let fastCalls = 0;
      let slowCalls = 0;
      const fast = recorder<{ interval: number }>();
      const slow = recorder<{ interval: number }>();
      s.subscribe('k', 150, async () => (fastCalls++, { interval: 150 }), fast);
      s.subscribe('k', 2000, async () => (slowCalls++, { interval: 2000 }), slow);
      assert.equal(s.size, 2);
      await waitFor(() => fastCalls >= 3, 5000, 'three fetches at 150 ms');
      assert.equal(slowCalls, 1);
      assert.ok(fast.values.length >= 2);
      assert.ok(fast.values.every((v) => v.value.interval === 150 && v.key === 'k'));
      assert.deepEqual(slow.values, [{ value: { interval: 2000 }, key: 'k' }]);
    });

    it('a short interval shortens the gaps: every key is fetched once before any is fetched again', async () => {
      const s = scheduler({ maxGapMs: 1000 });
      const log: Array<{ key: string; at: number }> = [];
      const r = recorder<string>();
      const keys = Array.from({ length: 10 }, (_, i) => `k${i}`);
      for (const key of keys) s.subscribe(key, 200, async () => (log.push({ key, at: Date.now() }), key), r);
      await waitFor(() => log.length >= 20, 5000, 'two rounds');
      assert.deepEqual(log.slice(0, 10).map((x) => x.key), keys);
      assert.deepEqual(log.slice(10, 20).map((x) => x.key), keys);
      const span = log[9].at - log[0].at;
      assert.ok(span >= 150, `round 1 spanned ${span} ms: paced (~9 x 20 ms), not all at once`);
    });

    it('a key rejected with LEAPCRAFT_RATE_LIMITED waits out retryAfterMs while the other keys go on', async () => {
      const s = scheduler({ maxGapMs: 10 });
      const limitedCalls: number[] = [];
      const limited = recorder<string>();
      const ok = recorder<string>();
      s.subscribe('limited', 100, async () => {
        limitedCalls.push(Date.now());
        if (limitedCalls.length === 1) throw new LeapcraftRateLimitError('slow down', { status: 429, retryAfterMs: 650 });
        return 'fine';
      }, limited);
      s.subscribe('ok', 100, async () => 'ok', ok);

      await waitFor(() => limited.values.length >= 1, 5000, 'the limited key to be fetched again');
      const okDuringWait = ok.values.length;
      assert.ok(limitedCalls.length >= 2);
      assert.ok(limitedCalls[1] - limitedCalls[0] >= 645, `fetched again after ${limitedCalls[1] - limitedCalls[0]} ms, expected >= 650`);
      assert.equal(limited.errors.length, 1);
      assert.equal(limited.errors[0].err.code, 'LEAPCRAFT_RATE_LIMITED');
      assert.equal(limited.errors[0].key, 'limited');
      assert.ok(okDuringWait >= 2, 'the other key went on being polled');
      assert.equal(ok.errors.length, 0);
      // Not dropped: back in the rounds afterwards.
      await waitFor(() => limited.values.length >= 3, 5000, 'further rounds');
      assert.equal(limited.errors.length, 1);
    });

    it('a deferred key is fetched when Retry-After has passed even if the wall clock lags the timer', async () => {
      // Timers run on the monotonic clock, Date.now() on the wall clock; the two are not in
      // step (millisecond truncation, NTP adjustments). Here the wall clock reads 50 ms
      // behind from the moment the key was deferred.
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const s = scheduler({ maxGapMs: 10 });
      const calls: number[] = [];
      const r = recorder<string>();
      s.subscribe('k', 30_000, async () => {
        calls.push(clock.now);
        if (calls.length === 1) throw new LeapcraftRateLimitError('slow down', { status: 429, retryAfterMs: 300 });
        return 'fine';
      }, r);
      await clock.tickAsync(0);
      assert.equal(r.errors.length, 1, 'the rate-limit');
      sinon.stub(Date, 'now').callsFake(() => clock.now - 50);
      await clock.tickAsync(700);
      assert.equal(calls.length, 2, 'the deferred fetch must not wait for the next round (30 s away)');
      assert.deepEqual(r.values.map((v) => v.value), ['fine']);
    });

    it('a failing key is retried in the next round, then delivers', async () => {
      const s = scheduler({ maxGapMs: 10 });
      let n = 0;
      const r = recorder<string>();
      s.subscribe('k', 100, async () => {
        if (++n === 1) throw new LeapcraftUnavailableError('down', { status: 503 });
        return `value ${n}`;
      }, r);
      await waitFor(() => r.values.length >= 1, 5000, 'a value');
      assert.equal(r.errors.length, 1);
      assert.equal(r.errors[0].err.code, 'LEAPCRAFT_UNAVAILABLE');
      assert.equal(r.values[0].value, 'value 2');
    });

    it('a key failing before its first value is retried soon, backing off, not a whole (long) interval later', async () => {
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['setTimeout', 'clearTimeout', 'Date'] });
      const s = scheduler({ maxGapMs: 10, firstValueRetryMs: 50 });
      const at: number[] = [];
      const r = recorder<string>();
      s.subscribe('list', 60_000, async () => {
        at.push(Date.now());
        if (at.length <= 3) throw new LeapcraftUnavailableError('down', { status: 503 });
        return 'list';
      }, r);
      await clock.tickAsync(1000);
      assert.equal(r.values.length, 1, 'the first value within a second, not the 60 s interval');
      assert.equal(r.errors.length, 3);
      const gaps = at.slice(1).map((t, i) => t - at[i]!);
      assert.ok(gaps[0]! >= 50 && gaps[1]! >= 100 && gaps[2]! >= 200, `backing off: ${gaps.join(', ')} ms`);
      // With its value in hand, the key waits for the next round, a minute after the first.
      await clock.tickAsync(at[0]! + 60_000 - 1 - clock.now);
      assert.equal(at.length, 4);
      await clock.tickAsync(1);
      assert.equal(at.length, 5, 'the next round');
    });

    it('with retryFailures a key that had a value is retried soon too, the backoff starting over after each value; without, it waits for the round', async () => {
      const s = scheduler({ maxGapMs: 10, firstValueRetryMs: 50 });
      const calls = { eager: [] as number[], patient: [] as number[] };
      // Fetches 2-4 and 6 fail (transient); the others give a value.
      const fetchFor = (name: keyof typeof calls) => async () => {
        const n = calls[name].push(Date.now());
        if ((n >= 2 && n <= 4) || n === 6) throw new LeapcraftBadResponseError('html instead of JSON');
        return `${name} ${n}`;
      };
      const eager = recorder<string>();
      const patient = recorder<string>();
      s.subscribe('eager', 1000, fetchFor('eager'), eager, { retryFailures: true });
      s.subscribe('patient', 1000, fetchFor('patient'), patient);
      await waitFor(() => eager.values.length >= 3, 5000, 'the eager key back after each outage');
      assert.equal(eager.errors.length, 4);
      const gap = (i: number) => calls.eager[i]! - calls.eager[i - 1]!;
      assert.ok(gap(2) >= 45 && gap(2) < 300 && gap(3) >= 95 && gap(3) < 400 && gap(4) >= 190 && gap(4) < 600,
        `backing off from 50 ms: ${gap(2)}, ${gap(3)}, ${gap(4)} ms`);
      assert.ok(gap(6) >= 45 && gap(6) < 300, `after a value the backoff starts over at 50 ms: ${gap(6)} ms`);
      // The patient key failed at rounds 2 and 3 and was not fetched in between.
      assert.equal(calls.patient.length, 3, `patient key fetched ${calls.patient.length} times`);
      assert.equal(patient.errors.length, 2);
    });

    it('a listener that throws does not stop delivery to the others', async () => {
      const reported: unknown[] = [];
      const s = scheduler({ maxGapMs: 10, onListenerError: (err) => reported.push(err) });
      const boom = new Error('listener bug');
      const thrower: Listener<string> = {
        next() { throw boom; },
        error() { throw boom; },
      };
      const r1 = recorder<string>();
      const r2 = recorder<string>();
      let n = 0;
      s.subscribe('k', 100, async () => {
        if (++n === 2) throw new LeapcraftUnavailableError('down');
        return `v${n}`;
      }, r1);
      s.subscribe('k', 100, async () => 'unused', thrower);
      s.subscribe('k', 100, async () => 'unused', r2);

      await waitFor(() => r2.values.length >= 2, 5000, 'two values for the last listener');
      assert.deepEqual(r1.values.slice(0, 2).map((v) => v.value), ['v1', 'v3']);
      assert.deepEqual(r2.values.slice(0, 2).map((v) => v.value), ['v1', 'v3']);
      assert.equal(r1.errors.length, 1);
      assert.equal(r2.errors.length, 1, 'the error reached the listener after the thrower too');
      assert.ok(reported.length >= 3, `${reported.length} listener errors reported`);
      assert.ok(reported.every((e) => e === boom));

      // The cached value handed to a new listener that throws does not throw out of subscribe.
      const before = reported.length;
      const lateThrower: Listener<string> = { next() { throw boom; }, error() { throw boom; } };
      assert.doesNotThrow(() => s.subscribe('k', 100, async () => 'unused', lateThrower));
      assert.equal(reported.length, before + 1);
    });

    it('close() stops every poll, aborts in-flight fetches, clears the retry timers and leaves no timer', async () => {
      await null; // mocha arms its own timeout timer once the test function has returned
      const before = timeoutsAlive();
      const s = scheduler({ maxGapMs: 5 });
      let calls = 0;
      let pendingSignal: AbortSignal | undefined;
      const r = recorder<string>();
      s.subscribe('a', 100, async () => (calls++, 'a'), r);
      s.subscribe('b', 100, async () => (calls++, 'b'), r);
      s.subscribe('pending', 100, pendingUntilAborted((sig) => { calls++; pendingSignal = sig; }), recorder<never>());
      s.subscribe('limited', 100, async () => {
        calls++;
        throw new LeapcraftRateLimitError('slow down', { retryAfterMs: 250 });
      }, r);
      await waitFor(() => r.values.length >= 2 && r.errors.length >= 1 && pendingSignal !== undefined, 5000, 'the first round');
      assert.ok(timeoutsAlive() > before, 'the scheduler holds timers while it runs');

      s.close();
      assert.equal(pendingSignal!.aborted, true);
      assert.ok(timeoutsAlive() <= before, `${timeoutsAlive() - before} timer(s) left behind`);
      assert.equal(s.size, 0);
      const callsAtClose = calls;
      const valuesAtClose = r.values.length;
      // No timer is left (above), so nothing can fire later; what the close itself set off has run
      // once the event loop has turned.
      await new Promise((resolve) => setImmediate(resolve));
      assert.equal(calls, callsAtClose);
      assert.equal(r.values.length, valuesAtClose);
      assert.throws(() => s.subscribe('c', 100, async () => 'c', recorder<string>()), /closed/);
    });

    it('fetchNow of a key nobody polls runs its fetch and hands back the value', async () => {
      const s = scheduler();
      let calls = 0;
      assert.equal(await s.fetchNow('k', async () => (calls++, 42)), 42);
      assert.equal(await s.fetchNow('k', async () => (calls++, 43)), 43);
      assert.equal(calls, 2);
      const err = await rejectionOf(s.fetchNow('k', async () => { throw new LeapcraftUnavailableError('down'); }));
      assert.equal(err.code, 'LEAPCRAFT_UNAVAILABLE');
    });

    it('rejects a non-positive interval', () => {
      const s = scheduler();
      for (const interval of [0, -1, Number.NaN]) {
        assert.throws(() => s.subscribe('k', interval, async () => 1, recorder<number>()), RangeError);
      }
      assert.equal(s.size, 0);
    });
  });
});
