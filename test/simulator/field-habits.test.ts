/**
 * The simulator's field habits: 429s that carry only a reset (each header family), after which
 * the window is spent until the reset; sensors whose reports come late (jitter) or never (loss),
 * seeded so runs repeat; sensors faster than a node's poll. The simulator's clock is a variable
 * the test moves, so every figure is exact.
 */
import assert from 'node:assert/strict';
import { parseRateLimitHeaders } from '../../lib/api/rate-limit';
import { LeapcraftSimulator, RESET_HEADERS, type SimulatorOptions } from '../../simulator';
import { parseCliArgs } from '../../simulator/cli-args';

const T0 = Date.UTC(2026, 0, 5, 8, 0, 0, 250);
const S = 1000;

describe('simulator field habits', () => {
  let sim: LeapcraftSimulator;
  let now = T0;
  let token = '';

  async function start(options: SimulatorOptions = {}): Promise<void> {
    now = T0;
    sim = new LeapcraftSimulator({ deviceCount: 20, seed: 7, now: () => now, ...options });
    await sim.start();
    const res = await fetch(`${sim.baseUrl}/auth/client/token`, { method: 'POST', body: new URLSearchParams({ api_key: sim.apiKey }) });
    token = ((await res.json()) as { token: string }).token;
  }
  const get = (path: string) => fetch(`${sim.baseUrl}${path}`, { headers: { Authorization: `Bearer ${token}` } });
  const headersOf = (res: Response) => {
    const out: Record<string, string> = {};
    res.headers.forEach((value, name) => { out[name] = value; });
    return out;
  };

  afterEach(async () => {
    await sim?.stop();
  });

  describe('429s with a reset time only', () => {
    it('each header family names the same reset, never before the one announced, and nothing remains', async () => {
      await start();
      for (const form of RESET_HEADERS) {
        now += 10 * S;
        sim.clearFaults();
        sim.injectFault({ kind: 'rate-limit', times: 1, resetAfter: 2.5, resetHeaders: form });
        const res = await get('/things');
        assert.equal(res.status, 429, form);
        const headers = headersOf(res);
        assert.equal(headers['retry-after'], undefined, `${form}: no Retry-After`);
        const info = parseRateLimitHeaders(headers, now)!;
        assert.equal(info.remaining, 0, `${form}: nothing remains`);
        const logged = sim.stats.requests.at(-1)!;
        // The header's own precision: epoch seconds round up to the second, seconds from now to whole seconds.
        assert.equal(now + info.resetMs!, logged.resetAt, `${form}: the headers name the instant logged`);
        assert.ok(logged.resetAt! >= now + 2500 && logged.resetAt! < now + 3500, `${form}: ${logged.resetAt! - now} ms ahead`);
        if (form === 'x-ratelimit-epoch-ms') assert.equal(logged.resetAt, now + 2500, 'milliseconds: exact');
      }
      now += 10 * S;
      sim.clearFaults();
      sim.injectFault({ kind: 'rate-limit', times: 1, resetAfter: 3, resetHeaders: 'ratelimit' });
      assert.equal((await get('/things')).headers.get('ratelimit'), '"default";r=0;t=3');
    });

    it('until the reset every request (any endpoint) is answered 429 again, not counted by any fault; then served', async () => {
      await start();
      sim.injectFault({ kind: 'rate-limit', every: 3, resetAfter: 2 });
      sim.resetStats();
      // T0 is 250 ms past a second: the third request, at +10 s, names the reset as the epoch second after +12.25 s.
      const steps = [0, 0, 0, 500, 1000, 2000, 2749, 2750, 2750, 2750];
      const statuses: number[] = [];
      for (const [i, step] of steps.entries()) {
        now = T0 + 10 * S + step;
        statuses.push((await get(i === 4 ? '/devices' : '/things')).status);
      }
      const announced = sim.stats.requests[2]!.resetAt!;
      assert.equal(announced, T0 + 12_750);
      // Before the reset: 429 again, uncounted; after it the fault's count goes on (the 6th counted request).
      assert.deepEqual(statuses, [200, 200, 429, 429, 429, 429, 429, 200, 200, 429]);
      const log = sim.stats.requests;
      assert.deepEqual(log.map((r) => r.beforeReset === true), [false, false, false, true, true, true, true, false, false, false]);
      assert.ok(log.filter((r) => r.beforeReset).every((r) => r.resetAt === announced));
      assert.ok(log[9]!.resetAt! > announced, 'a new reset announced');
      sim.clearFaults();
      assert.equal((await get('/things')).status, 200, 'cleared with the faults');
    });
  });

  describe('sensors as they behave in the field', () => {
    /** The reading times device `id` shows from T0 for `spanMs`, looked at every `stepMs`. */
    async function readings(id: string, spanMs: number, stepMs: number): Promise<number[]> {
      const seen: number[] = [];
      for (now = T0; now < T0 + spanMs; now += stepMs) {
        const body = (await (await get(`/telemetry/${encodeURIComponent(id)}?type=latest`)).json()) as { timestamp: string };
        const t = Date.parse(body.timestamp);
        if (seen.at(-1) !== t) seen.push(t);
      }
      return seen;
    }

    it('jitter: each report up to reportJitterShare of the period after its slot, never out of order, the same in every run', async () => {
      await start({ reportIntervalMs: 10 * S, reportJitterShare: 0.3 });
      const id = sim.devices()[3]!.physical_id;
      const seen = await readings(id, 600 * S, S);
      assert.equal(seen.length, 61, 'one reading a period (and the one there at the start)');
      // Each reading's offset from its slot, measured from the first: all within one 3 s span.
      const offsets = seen.map((t) => (t - seen[0]!) - Math.round((t - seen[0]!) / (10 * S)) * 10 * S);
      assert.ok(Math.max(...offsets) - Math.min(...offsets) < 3 * S, `offsets ${[...new Set(offsets)].join(', ')} ms`);
      assert.ok(new Set(offsets).size >= 3, 'the lateness varies');
      assert.ok(offsets.every((o) => o % S === 0), 'whole seconds');
      assert.ok(seen.every((t, i) => i === 0 || t > seen[i - 1]!), 'in order');
      await sim.stop();
      await start({ reportIntervalMs: 10 * S, reportJitterShare: 0.3 });
      assert.deepEqual(await readings(id, 600 * S, S), seen, 'seeded: the same readings again');
    });

    it('loss: about lossRate of the reports never come, the previous reading stays the latest', async () => {
      await start({ reportIntervalMs: 10 * S, lossRate: 0.1 });
      let lost = 0;
      let gaps = 0;
      for (const device of sim.devices().slice(0, 5)) {
        const seen = await readings(device.physical_id, 1000 * S, 5 * S);
        gaps += seen.length - 1;
        lost += seen.slice(1).reduce((n, t, i) => n + Math.round((t - seen[i]!) / (10 * S)) - 1, 0);
        assert.ok(seen.slice(1).every((t, i) => (t - seen[i]!) % (10 * S) === 0), 'a lost report leaves the slot empty, the next comes on time');
      }
      const share = lost / (lost + gaps);
      assert.ok(share > 0.05 && share < 0.15, `${lost} of ${lost + gaps} reports lost`);
    });

    it('a sensor faster than the poll: every look sees a newer reading', async () => {
      await start({ reportIntervalMs: S });
      const seen = await readings(sim.devices()[0]!.physical_id, 60 * S, 2 * S);
      assert.equal(seen.length, 30);
      assert.ok(seen.slice(1).every((t, i) => t - seen[i]! === 2 * S));
    });

    it('the CLI sets them: --report-jitter, --report-jitter-share, --loss-rate', () => {
      const parsed = parseCliArgs(['--report-jitter', '2.5', '--report-jitter-share=0.3', '--loss-rate', '0.1']);
      assert.equal(parsed.kind, 'run');
      const { reportJitterMs, reportJitterShare, lossRate } = (parsed as { options: SimulatorOptions }).options;
      assert.deepEqual({ reportJitterMs, reportJitterShare, lossRate }, { reportJitterMs: 2500, reportJitterShare: 0.3, lossRate: 0.1 });
      assert.deepEqual(parseCliArgs(['--loss-rate', '1']), { kind: 'error', message: '--loss-rate needs a number from 0 to below 1, got "1"' });
    });

    it('refuses a share of 1 or more and a negative jitter', () => {
      assert.throws(() => new LeapcraftSimulator({ lossRate: 1 }), /lossRate/);
      assert.throws(() => new LeapcraftSimulator({ reportJitterShare: 1.5 }), /reportJitterShare/);
      assert.throws(() => new LeapcraftSimulator({ reportJitterMs: -1 }), /reportJitterMs/);
    });
  });
});
