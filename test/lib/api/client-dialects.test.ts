/**
 * The client against the simulator's token answers and wrapped telemetry (lib/api/client.ts with
 * token-answer.ts, auth.ts and lib/telemetry/answer.ts): a told lifetime is renewed before it
 * ends, no request paying for a refusal; every wrapping of a reading gives the reading itself;
 * an answer without one is LEAPCRAFT_BAD_RESPONSE naming its shape.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { LeapcraftClient } from '../../../lib';
import { DIALECTS, LeapcraftSimulator, type SimulatorOptions } from '../../../simulator';
import { waitFor } from '../../support/wait';

const T0 = Date.UTC(2026, 2, 30, 9);
const LIFETIME_MS = 60_000;

async function withSim<T>(options: SimulatorOptions, work: (sim: LeapcraftSimulator, client: LeapcraftClient) => Promise<T>): Promise<T> {
  const sim = new LeapcraftSimulator({ deviceCount: 5, ...options });
  await sim.start();
  const client = new LeapcraftClient({ baseUrl: sim.baseUrl, apiKey: sim.apiKey });
  try {
    return await work(sim, client);
  } finally {
    client.close();
    await sim.stop();
  }
}

describe('LeapcraftClient: token answers with a lifetime', function () {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    // Only the date moves by hand: sockets and timers stay real.
    clock = sinon.useFakeTimers({ now: T0, toFake: ['Date'] });
  });
  afterEach(() => clock.restore());

  /** Requests at 0, 53, 55 (past 90 %), 59 and 119 s of a 60 s token; the refusals and exchanges they cost. */
  async function run(dialect: string): Promise<{ refused: number; exchanges: number; things: number }> {
    return withSim({ now: () => Date.now(), tokenLifetimeMs: LIFETIME_MS, dialect }, async (sim, client) => {
      await client.listThings();
      clock.tick(53_000);
      await client.listThings();
      assert.equal(sim.stats.byEndpoint.token, 1, `${dialect}: no renewal before 90 %`);
      clock.tick(2_000);
      await client.listThings();
      if (dialect !== 'token-sample') await waitFor(() => sim.stats.byEndpoint.token === 2, 10_000, `${dialect}: the renewal at 90 %`);
      clock.tick(4_000);
      await client.listThings();
      // The second token is past its 95 % (and over): not sent, a fresh one waited for.
      clock.tick(60_000);
      await client.listThings();
      return {
        refused: sim.stats.requests.filter((r) => r.status === 401).length,
        exchanges: sim.stats.byEndpoint.token,
        things: sim.stats.byEndpoint.things,
      };
    });
  }

  for (const dialect of ['token-oauth2', 'token-expires-at', 'token-jwt']) {
    it(`${dialect}: renewed at 90 % of its lifetime, no request refused`, async () => {
      const r = await run(dialect);
      console.log(`      measured: ${dialect}: ${r.exchanges} exchanges, ${r.refused} refused requests for ${r.things} reads over two lifetimes`);
      assert.deepEqual(r, { refused: 0, exchanges: 3, things: 5 });
    });
  }

  it('token-sample (no lifetime): kept until refused, as before: one refused request and its replay', async () => {
    const r = await run('token-sample');
    console.log(`      measured: token-sample: ${r.exchanges} exchanges, ${r.refused} refused requests for 5 reads over two lifetimes`);
    assert.deepEqual(r, { refused: 1, exchanges: 2, things: 6 });
  });
});

describe('LeapcraftClient: wrapped telemetry', function () {
  const NOW = Date.UTC(2026, 2, 30, 12);
  const AVERAGES = { type: 'averages', resolution: 'daily', from: '2026-03-20T00:00:00Z', to: '2026-03-22T23:59:59Z' };

  it('every latestBody reading gives the point itself, nested or flat', async () => {
    await withSim({ now: () => NOW }, async (sim, client) => {
      const id = sim.devices()[2]!.physical_id;
      for (const readings of ['readings-nested', 'readings-flat']) {
        sim.set({ dialect: [readings, 'latest-point'] });
        const point = await client.getTelemetry(id, { type: 'latest' });
        assert.equal((point as { physical_id?: string }).physical_id, id);
        for (const d of DIALECTS.filter((x) => x.point === 'latestBody')) {
          sim.set({ dialect: [readings, d.name] });
          assert.deepEqual(await client.getTelemetry(id, { type: 'latest' }), point, `${d.name}, ${readings}`);
        }
      }
    });
  });

  it('every averages reading gives the buckets or the one object, unwrapped', async () => {
    await withSim({ now: () => NOW }, async (sim, client) => {
      const id = sim.devices()[0]!.physical_id;
      const buckets = await client.getTelemetry(id, AVERAGES);
      assert.ok(Array.isArray(buckets) && buckets.length === 3);
      sim.set({ dialect: 'averages-envelope' });
      assert.deepEqual(await client.getTelemetry(id, AVERAGES), buckets);
      sim.set({ dialect: 'averages-object' });
      const one = await client.getTelemetry(id, AVERAGES);
      assert.ok(!Array.isArray(one) && one.physical_id === id);
      for (const key of ['data', 'result', 'reading']) {
        sim.set({ dialect: `averages-object-under-${key}` });
        assert.deepEqual(await client.getTelemetry(id, AVERAGES), one, key);
      }
      sim.set({ dialect: 'averages-object-in-array' });
      assert.deepEqual(await client.getTelemetry(id, AVERAGES), [one]);
    });
  });

  it('an answer without a reading is LEAPCRAFT_BAD_RESPONSE naming its shape, never a value', async () => {
    await withSim({ now: () => NOW }, async (sim, client) => {
      const id = sim.devices()[0]!.physical_id;
      sim.injectFault({ kind: 'status', status: 200, endpoint: 'telemetry', body: `{"status":"ok","device":"${id}"}` });
      await assert.rejects(client.getTelemetry(id, { type: 'latest' }), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'LEAPCRAFT_BAD_RESPONSE');
        assert.equal(err.message, 'GET /telemetry/{physical_id} returned HTTP 200 without a reading (an object {status, device})');
        return true;
      });
      sim.clearFaults();
      sim.injectFault({ kind: 'status', status: 200, endpoint: 'telemetry', body: '[]' });
      await assert.rejects(client.getTelemetry(id, { type: 'latest' }), /without a reading \(an empty array\)/);
      // For averages an empty array is an answer: no data in the range.
      assert.deepEqual(await client.getTelemetry(id, AVERAGES), []);
    });
  });
});
