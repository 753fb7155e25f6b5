/**
 * Tests of the Leapcraft API simulator, over real HTTP with plain fetch. Most tests share one
 * simulator with a fake clock (Monday 2026-03-30 03:00 UTC) and tokens that never expire, so
 * moving the clock does not log the tests out; the tests of expiry, alerts and stop() use their own.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import sinon from 'sinon';

import {
  LeapcraftSimulator,
  MAX_AVERAGE_BUCKETS,
  type Alert,
  type AverageBucket,
  type DeviceDetails,
  type DeviceListItem,
  type LatestTelemetry,
  type SimulatorOptions,
  type Thing,
  type TopologyDetails,
  type TopologyListItem,
} from '../../simulator';
import { parseCliArgs } from '../../simulator/cli-args';
import { MAX_LOGGED_REQUESTS, StatsRecorder } from '../../simulator/stats';
import { waitFor } from '../support/wait';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** Monday 2026-03-30 00:00 UTC. */
const MONDAY = Date.UTC(2026, 2, 30);
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const MAC = /^([0-9A-F]{2}:){5}[0-9A-F]{2}$/;
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;

interface Res {
  status: number;
  headers: Headers;
  text: string;
  json<T = unknown>(): T;
}

async function call(url: string, init: RequestInit = {}): Promise<Res> {
  const r = await fetch(url, init);
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, json: <T>() => JSON.parse(text) as T };
}

async function getToken(base: string, key = 'demo-key'): Promise<string> {
  const r = await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: `api_key=${encodeURIComponent(key)}` });
  assert.equal(r.status, 200, r.text);
  return r.json<{ token: string }>().token;
}

function bearer(token: string): RequestInit {
  return { headers: { Authorization: `Bearer ${token}` } };
}

/** Asserts the simulator's error body format and returns the error code. */
function assertError(r: Res, status: number, code?: string): string {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const body = r.json<{ error: unknown; message: unknown }>();
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.message, 'string');
  assert.ok((body.message as string).length > 0);
  if (code !== undefined) assert.equal(body.error, code);
  return body.error as string;
}

function oneDecimal(x: unknown): void {
  assert.equal(typeof x, 'number');
  assert.equal(Math.round((x as number) * 10) / 10, x);
}

/** Runs `body` against a simulator of its own, stopped afterwards whatever happens. */
async function withSim(opts: SimulatorOptions, body: (sim: LeapcraftSimulator, base: string) => Promise<void>): Promise<void> {
  const sim = new LeapcraftSimulator(opts);
  const base = await sim.start();
  try {
    await body(sim, base);
  } finally {
    await sim.stop();
  }
}

describe('Leapcraft API simulator', function () {
  const clock = { t: MONDAY + 3 * HOUR };
  let sim: LeapcraftSimulator;
  let base: string;
  let root: string;
  let tok: string;
  let devices: DeviceListItem[];

  const get = (path: string, token = tok): Promise<Res> => call(`${base}${path}`, bearer(token));

  before(async function () {
    assert.equal(new Date(MONDAY).getUTCDay(), 1);
    sim = new LeapcraftSimulator({ now: () => clock.t, tokenLifetimeMs: Infinity });
    base = await sim.start();
    root = base.slice(0, -3);
    devices = sim.devices();
  });

  after(async function () {
    await sim.stop();
  });

  beforeEach(async function () {
    clock.t = MONDAY + 3 * HOUR;
    tok = await getToken(base);
  });

  afterEach(function () {
    sim.clearFaults();
    sim.setKeyValid(true);
    sim.set({ latencyMs: 0, alertOrder: 'newest', alertIds: true });
  });

  describe('lifecycle', function () {
    it('resolves start() with the loopback base URL and exposes port and key', function () {
      assert.match(base, /^http:\/\/127\.0\.0\.1:\d+\/v1$/);
      assert.ok(sim.port > 0);
      assert.equal(base, `http://127.0.0.1:${sim.port}/v1`);
      assert.equal(sim.baseUrl, base);
      assert.equal(sim.apiKey, 'demo-key');
    });

    it('refuses baseUrl before start, and stop() without start or twice is harmless', async function () {
      const idle = new LeapcraftSimulator();
      assert.throws(() => idle.baseUrl, /not started/);
      await idle.stop();
      const url = await idle.start();
      await Promise.all([idle.stop(), idle.stop()]);
      await assert.rejects(fetch(`${url}/devices`));
    });

    it('start() after stop() serves again on the same port, its tokens still valid (an outage and back)', async function () {
      const first = new LeapcraftSimulator({ tokenLifetimeMs: Infinity });
      const url = await first.start();
      try {
        const token = await getToken(url);
        first.set({ port: first.port });
        await first.stop();
        await assert.rejects(fetch(`${url}/things`, bearer(token)), 'refused while down');
        assert.equal(await first.start(), url);
        assert.equal((await call(`${url}/things`, bearer(token))).status, 200);
      } finally {
        await first.stop();
      }
    });

    it('rejects invalid options', function () {
      assert.throws(() => new LeapcraftSimulator({ deviceCount: -1 }), /deviceCount/);
      assert.throws(() => new LeapcraftSimulator({ gateways: 0 }), /gateways/);
      assert.throws(() => sim.set({ latencyMs: -5 }), /latencyMs/);
      assert.throws(() => sim.set({ alertOrder: 'sideways' as 'newest' }), /alertOrder/);
    });
  });

  describe('POST /auth/client/token', function () {
    it('exchanges the key for a bearer token', async function () {
      const r = await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=demo-key' });
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      const body = r.json<{ type: string; token: string }>();
      assert.deepEqual(Object.keys(body).sort(), ['token', 'type']);
      assert.equal(body.type, 'bearer');
      assert.match(body.token, /^[0-9a-f]{40,}$/);
      assert.ok(sim.stats.tokensIssued.includes(body.token));
    });

    it('accepts a charset parameter and extra keys', async function () {
      const r = await call(`${base}/auth/client/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams({ api_key: 'demo-key' }).toString(),
      });
      assert.equal(r.status, 200);
      await withSim({ apiKey: 'main', apiKeys: ['second key'] }, async (_s, b) => {
        assert.match(await getToken(b, 'second key'), /^[0-9a-f]{40,}$/);
        assert.match(await getToken(b, 'main'), /^[0-9a-f]{40,}$/);
      });
    });

    it('refuses a JSON body with 415', async function () {
      const r = await call(`${base}/auth/client/token`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ api_key: 'demo-key' }),
      });
      assertError(r, 415, 'unsupported_media_type');
    });

    it('refuses a missing or unknown key with 401', async function () {
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: '' }), 401, 'invalid_api_key');
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=nope' }), 401, 'invalid_api_key');
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'key=demo-key' }), 401);
    });

    it('refuses GET with 405 and bodies over 64 kB with 413', async function () {
      const r = await call(`${base}/auth/client/token`);
      assertError(r, 405, 'method_not_allowed');
      assert.equal(r.headers.get('allow'), 'POST');
      const big = `api_key=demo-key&pad=${'x'.repeat(70 * 1024)}`;
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: big }), 413, 'payload_too_large');
    });

    it('keeps several tokens valid at once', async function () {
      const a = await getToken(base);
      const b = await getToken(base);
      assert.notEqual(a, b);
      assert.equal((await get('/topologies', a)).status, 200);
      assert.equal((await get('/topologies', b)).status, 200);
    });
  });

  describe('bearer tokens', function () {
    it('refuses a missing, malformed or unknown token with 401', async function () {
      const none = await call(`${base}/devices`);
      assertError(none, 401, 'missing_token');
      assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
      assertError(await call(`${base}/devices`, { headers: { Authorization: `Basic ${tok}` } }), 401);
      assertError(await get('/devices', 'f'.repeat(48)), 401, 'invalid_token');
    });

    it('accepts the scheme in any case', async function () {
      assert.equal((await call(`${base}/things`, { headers: { Authorization: `bearer ${tok}` } })).status, 200);
    });

    it('expires tokens after tokenLifetimeMs', async function () {
      const c = { t: MONDAY };
      await withSim({ now: () => c.t, tokenLifetimeMs: 1000 }, async (s, b) => {
        const t = await getToken(b);
        c.t += 999;
        assert.equal((await call(`${b}/things`, bearer(t))).status, 200);
        c.t += 1;
        const r = await call(`${b}/things`, bearer(t));
        assertError(r, 401, 'invalid_token');
        assert.match(r.json<{ message: string }>().message, /expired/);
        const fresh = await getToken(b);
        assert.equal((await call(`${b}/things`, bearer(fresh))).status, 200);
        // Shortening the lifetime at runtime applies to tokens already issued.
        c.t += 500;
        s.set({ tokenLifetimeMs: 400 });
        assertError(await call(`${b}/things`, bearer(fresh)), 401, 'invalid_token');
      });
    });

    it('revokeTokens() invalidates every token but not the key', async function () {
      const other = await getToken(base);
      sim.revokeTokens();
      assertError(await get('/devices'), 401, 'invalid_token');
      assertError(await get('/devices', other), 401, 'invalid_token');
      assert.equal((await get('/devices', await getToken(base))).status, 200);
    });

    it('setKeyValid(false) refuses the exchange and revokes tokens; true restores it', async function () {
      sim.setKeyValid(false);
      assertError(await get('/devices'), 401);
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=demo-key' }), 401, 'invalid_api_key');
      sim.setKeyValid(true);
      assert.equal((await get('/devices', await getToken(base))).status, 200);
    });
  });

  describe('GET /devices', function () {
    it('lists 12 devices by default, as devices() does', async function () {
      const r = await get('/devices');
      assert.equal(r.status, 200);
      const list = r.json<DeviceListItem[]>();
      assert.equal(list.length, 12);
      assert.deepEqual(list, devices);
      for (const d of list) {
        assert.deepEqual(Object.keys(d).sort(), ['meta', 'name', 'physical_id', 'serial', 'topology_id', 'type']);
        assert.equal(typeof d.meta, 'object');
        assert.match(d.serial, /^LC-\d{4}-[A-Z]\d{2}/);
      }
    });

    it('mixes device types and physical id styles, with unique realistic names', function () {
      const airbirds = devices.filter((d) => d.type === 'airbird').length;
      const ambinodes = devices.filter((d) => d.type === 'ambinode').length;
      assert.equal(airbirds + ambinodes, devices.length);
      assert.ok(airbirds > ambinodes && ambinodes >= 3, `${airbirds} airbird, ${ambinodes} ambinode`);
      const macs = devices.filter((d) => MAC.test(d.physical_id));
      assert.ok(macs.length >= devices.length / 2);
      assert.ok(devices.some((d) => d.physical_id === 'testsim00004'));
      assert.equal(new Set(devices.map((d) => d.physical_id)).size, devices.length);
      assert.equal(new Set(devices.map((d) => d.name)).size, devices.length);
      for (const d of devices) assert.match(d.name, /^[A-Z][A-Za-z0-9 #]+$/);
    });

    it('is deterministic per seed and keeps names unique in a large estate', function () {
      assert.deepEqual(new LeapcraftSimulator({ seed: 1 }).devices(), devices);
      assert.notDeepEqual(new LeapcraftSimulator({ seed: 2 }).devices(), devices);
      const big = new LeapcraftSimulator({ deviceCount: 60 }).devices();
      assert.equal(big.length, 60);
      assert.equal(new Set(big.map((d) => d.name)).size, 60);
      assert.ok(big.some((d) => / #2$/.test(d.name)));
      // Growing the estate keeps the existing devices as they were.
      assert.deepEqual(big.slice(0, 12), devices);
    });

    it('pages: page N holds items (N-1)*limit … N*limit-1; past the end is []', async function () {
      const ids = devices.map((d) => d.physical_id);
      const page = async (q: string): Promise<string[]> => {
        const r = await get(`/devices?${q}`);
        assert.equal(r.status, 200, r.text);
        return r.json<DeviceListItem[]>().map((d) => d.physical_id);
      };
      assert.deepEqual(await page('limit=5'), ids.slice(0, 5));
      assert.deepEqual(await page('limit=5&page=2'), ids.slice(5, 10));
      assert.deepEqual(await page('limit=5&page=3'), ids.slice(10, 12));
      assert.deepEqual(await page('limit=5&page=4'), []);
      assert.deepEqual(await page('limit=-1'), ids);
      assert.deepEqual(await page('limit=-1&page=2'), []);
      assert.deepEqual(await page('page=1&limit=100&colour=blue'), ids);
    });

    it('refuses bad limit and page values with 400', async function () {
      for (const q of ['limit=0', 'limit=-2', 'limit=abc', 'limit=1.5', 'limit=%ZZ', 'page=0', 'page=-1', 'page=x', 'page=2.0']) {
        assertError(await get(`/devices?${q}`), 400, 'invalid_parameter');
      }
    });

    it('follows a runtime device count change', async function () {
      sim.set({ deviceCount: 3 });
      try {
        assert.equal((await get('/devices')).json<unknown[]>().length, 3);
      } finally {
        sim.set({ deviceCount: 12 });
      }
      assert.deepEqual(sim.devices(), devices);
    });
  });

  describe('GET /devices/{physical_id}', function () {
    const mac = (): DeviceListItem => devices.find((d) => MAC.test(d.physical_id)) as DeviceListItem;

    it('answers details for a raw, an encoded and a lowercase-encoded id', async function () {
      const d = mac();
      const raw = await get(`/devices/${d.physical_id}`);
      assert.equal(raw.status, 200, raw.text);
      const details = raw.json<DeviceDetails>();
      assert.equal(details.physical_id, d.physical_id);
      assert.equal(details.serial, d.serial);
      assert.equal(details.name, d.name);
      assert.equal(details.topology_id, d.topology_id);
      assert.deepEqual(details.meta, d.meta);
      assert.match(details.firmware, /^\d+\.\d+\.\d+$/);
      const encoded = await get(`/devices/${encodeURIComponent(d.physical_id)}`);
      assert.ok(encoded.text.length > 0 && encodeURIComponent(d.physical_id).includes('%3A'));
      assert.deepEqual(encoded.json(), details);
      assert.deepEqual((await get(`/devices/${d.physical_id.replace(/:/g, '%3a')}`)).json(), details);
      assert.equal((await get('/devices/testsim00004')).json<DeviceDetails>().physical_id, 'testsim00004');
    });

    it('answers 404 for unknown ids, an encoded slash and huge ids; 400 for a bad escape', async function () {
      assertError(await get('/devices/00:00:00:00:00:00'), 404, 'not_found');
      assertError(await get(`/devices/testsim%2F00004`), 404, 'not_found');
      assertError(await get(`/devices/${'A'.repeat(6000)}`), 404, 'not_found');
      assertError(await get('/devices/D2%ZZC1'), 400, 'invalid_path');
      assertError(await get('/devices/%E0%A4%A'), 400, 'invalid_path');
      assert.equal((await get('/devices/a/b')).status, 404);
    });
  });

  describe('GET /telemetry/{physical_id}?type=latest', function () {
    const latest = async (id: string): Promise<LatestTelemetry> => {
      const r = await get(`/telemetry/${encodeURIComponent(id)}?type=latest`);
      assert.equal(r.status, 200, r.text);
      return r.json<LatestTelemetry>();
    };

    it('returns the documented shape with per-model keys and data.meta', async function () {
      clock.t = MONDAY + 14 * HOUR + 24 * 60_000 + 5_000;
      for (const d of devices) {
        const t = await latest(d.physical_id);
        assert.equal(t.physical_id, d.physical_id);
        assert.match(t.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        assert.equal(Date.parse(t.created_at) - Date.parse(t.timestamp), 2000);
        const ts = Date.parse(t.timestamp);
        assert.ok(ts <= clock.t && ts > clock.t - 60_000, t.timestamp);
        const keys = d.type === 'airbird' ? ['battery', 'co2', 'humidity', 'meta', 'temperature'] : ['co2', 'humidity', 'meta', 'noise', 'pm2_5', 'temperature'];
        assert.deepEqual(Object.keys(t.data).sort(), keys);
        assert.equal(typeof t.data.meta, 'object');
        assert.equal(typeof t.data.meta.firmware, 'string');
        assert.ok(Number.isInteger(t.data.co2));
        oneDecimal(t.data.temperature);
        oneDecimal(t.data.humidity);
        assert.ok(t.data.temperature >= 20 && t.data.temperature <= 24, `${t.data.temperature}`);
        assert.ok(t.data.humidity >= 35 && t.data.humidity <= 55, `${t.data.humidity}`);
        if (d.type === 'ambinode') {
          oneDecimal(t.data.pm2_5);
          oneDecimal(t.data.noise);
          assert.ok((t.data.pm2_5 as number) >= 2 && (t.data.pm2_5 as number) <= 15);
          assert.ok((t.data.noise as number) >= 30 && (t.data.noise as number) <= 60);
        } else {
          assert.ok(Number.isInteger(t.data.battery) && (t.data.battery as number) >= 0 && (t.data.battery as number) <= 100);
        }
      }
    });

    it('repeats the same reading within a report period and moves on after it', async function () {
      const id = devices[1]!.physical_id;
      clock.t = MONDAY + 10 * HOUR;
      const first = await latest(id);
      const period = Date.parse(first.timestamp);
      clock.t = period + 59_999;
      assert.deepEqual(await latest(id), first);
      clock.t = period + 60_000;
      const next = await latest(id);
      assert.equal(Date.parse(next.timestamp), period + 60_000);
    });

    it('models CO2: about 420 ppm at night, over 1000 in busy rooms in office hours, low at weekends', async function () {
      const co2At = async (t: number): Promise<number[]> => {
        clock.t = t;
        const out: number[] = [];
        for (const d of devices) out.push((await latest(d.physical_id)).data.co2);
        return out;
      };
      for (const v of await co2At(MONDAY + 3 * HOUR)) assert.ok(v >= 395 && v <= 445, `night ${v}`);
      const afternoon = await co2At(MONDAY + 15 * HOUR);
      assert.ok(Math.max(...afternoon) > 1000, `afternoon max ${Math.max(...afternoon)}`);
      assert.ok(Math.min(...afternoon) < 800, `afternoon min ${Math.min(...afternoon)}`);
      for (const v of await co2At(MONDAY - DAY + 15 * HOUR)) assert.ok(v <= 445, `sunday ${v}`);
      for (const v of await co2At(MONDAY + 23 * HOUR)) assert.ok(v <= 470, `late evening ${v}`);
    });

    it('refuses a missing or unknown type with 400 and unknown devices with 404', async function () {
      const id = encodeURIComponent(devices[0]!.physical_id);
      assertError(await get(`/telemetry/${id}`), 400, 'invalid_parameter');
      assertError(await get(`/telemetry/${id}?type=raw`), 400, 'invalid_parameter');
      assertError(await get('/telemetry/nope?type=latest'), 404, 'not_found');
      assertError(await get('/telemetry'), 404);
    });
  });

  describe('GET /telemetry/{physical_id}?type=averages', function () {
    const airbird = (): DeviceListItem => devices.find((d) => d.type === 'airbird') as DeviceListItem;
    const ambinode = (): DeviceListItem => devices.find((d) => d.type === 'ambinode') as DeviceListItem;
    const avg = async (id: string, query: string): Promise<Res> => get(`/telemetry/${encodeURIComponent(id)}?type=averages&${query}`);

    beforeEach(function () {
      clock.t = MONDAY + 30 * DAY;
    });

    it('returns one bucket per day with averaged readings', async function () {
      const r = await avg(ambinode().physical_id, 'resolution=daily&from=2026-03-02T00:00:00.000&to=2026-03-04T23:59:59.999');
      assert.equal(r.status, 200, r.text);
      const buckets = r.json<AverageBucket[]>();
      assert.deepEqual(
        buckets.map((b) => b.timestamp),
        ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z'],
      );
      for (const b of buckets) {
        assert.equal(b.physical_id, ambinode().physical_id);
        assert.equal(b.resolution, 'daily');
        assert.match(b.from, ISO_Z);
        assert.match(b.to, ISO_Z);
        assert.equal(b.samples, 24);
        assert.deepEqual(Object.keys(b.data).sort(), ['co2', 'humidity', 'meta', 'noise', 'pm2_5', 'temperature']);
        assert.ok(Number.isInteger(b.data.co2));
        oneDecimal(b.data.temperature);
        oneDecimal(b.data.pm2_5);
      }
      const single = (await avg(airbird().physical_id, 'resolution=daily&from=2026-03-02T06:00:00Z&to=2026-03-02T06:00:00Z')).json<AverageBucket[]>();
      assert.equal(single.length, 1);
      assert.ok('battery' in single[0]!.data && !('noise' in single[0]!.data));
      assert.equal(single[0]!.samples, 1);
    });

    it('starts weekly buckets on Monday and monthly ones on the 1st', async function () {
      const id = airbird().physical_id;
      const weeks = (await avg(id, 'resolution=weekly&from=2026-03-04T12:00:00Z&to=2026-03-20T00:00:00Z')).json<AverageBucket[]>();
      assert.deepEqual(
        weeks.map((b) => b.timestamp),
        ['2026-03-02T00:00:00Z', '2026-03-09T00:00:00Z', '2026-03-16T00:00:00Z'],
      );
      assert.equal(weeks[0]!.from, '2026-03-04T12:00:00Z');
      assert.equal(weeks[1]!.samples, 42);
      const months = (await avg(id, 'resolution=monthly&from=2025-11-15T00:00:00Z&to=2026-02-01T00:00:00Z')).json<AverageBucket[]>();
      assert.deepEqual(
        months.map((b) => b.timestamp),
        ['2025-11-01T00:00:00Z', '2025-12-01T00:00:00Z', '2026-01-01T00:00:00Z', '2026-02-01T00:00:00Z'],
      );
    });

    it('accepts zone-less, Z, offset (also with "+" unencoded) and millisecond-less date-times', async function () {
      const id = airbird().physical_id;
      const stamps = async (from: string, to: string): Promise<string[]> => {
        const r = await avg(id, `resolution=daily&from=${from}&to=${to}`);
        assert.equal(r.status, 200, `${from} ${to}: ${r.text}`);
        return r.json<AverageBucket[]>().map((b) => b.timestamp);
      };
      const want = ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'];
      assert.deepEqual(await stamps('2026-03-02T00:00:00.000', '2026-03-03T11:42:58.721'), want);
      assert.deepEqual(await stamps('2026-03-02T00:00:00Z', '2026-03-03T11:42:58Z'), want);
      assert.deepEqual(await stamps('2026-03-02T02:00:00%2B02:00', '2026-03-03T13:00:00%2B02:00'), want);
      assert.deepEqual(await stamps('2026-03-02T02:00:00+02:00', '2026-03-03T13:00:00+0200'), want);
      assert.deepEqual(await stamps('2026-03-01T20:00:00-05:00', '2026-03-03T00:00'), want);
      assert.deepEqual(await stamps('2026-03-02', '2026-03-03'), want);
    });

    it('averages follow the model: weekday CO2 above weekend CO2', async function () {
      const busiest = devices.find((d) => /Conference|Meeting|Training|Open Office|Classroom|Board/.test(d.name)) as DeviceListItem;
      const days = (await avg(busiest.physical_id, 'resolution=daily&from=2026-03-28T00:00:00Z&to=2026-03-30T23:59:59Z')).json<AverageBucket[]>();
      const [sat, sun, mon] = days.map((b) => b.data.co2) as [number, number, number];
      assert.ok(sat < 440 && sun < 440, `${sat} ${sun}`);
      assert.ok(mon > sun + 100, `${busiest.name}: monday ${mon}, sunday ${sun}`);
    });

    it('leaves out buckets in the future and clips the current one at now', async function () {
      clock.t = Date.UTC(2026, 2, 3, 12);
      const r = (await avg(airbird().physical_id, 'resolution=daily&from=2026-03-02T00:00:00Z&to=2026-03-10T00:00:00Z')).json<AverageBucket[]>();
      assert.deepEqual(r.map((b) => b.timestamp), ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z']);
      assert.equal(r[1]!.to, '2026-03-03T12:00:00Z');
      assert.equal(r[1]!.samples, 12);
    });

    it('refuses missing or bad resolution, from and to with 400', async function () {
      const id = airbird().physical_id;
      const ok = 'from=2026-03-02T00:00:00Z&to=2026-03-03T00:00:00Z';
      const bad = [
        ok,
        `resolution=hourly&${ok}`,
        'resolution=daily&to=2026-03-03T00:00:00Z',
        'resolution=daily&from=2026-03-02T00:00:00Z',
        'resolution=daily&from=yesterday&to=2026-03-03T00:00:00Z',
        'resolution=daily&from=2026-02-30T00:00:00Z&to=2026-03-03T00:00:00Z',
        'resolution=daily&from=2026-03-02T25:00:00Z&to=2026-03-03T00:00:00Z',
        'resolution=daily&from=2026-03-04T00:00:00Z&to=2026-03-03T00:00:00Z',
      ];
      for (const q of bad) assertError(await avg(id, q), 400, 'invalid_parameter');
    });

    it(`refuses a range of more than ${MAX_AVERAGE_BUCKETS} buckets with 400`, async function () {
      const started = Date.now();
      const r = await avg(airbird().physical_id, 'resolution=daily&from=1000-01-01T00:00:00Z&to=9999-12-31T00:00:00Z');
      assertError(r, 400, 'range_too_large');
      assert.ok(Date.now() - started < 1000);
      const yearly = await avg(airbird().physical_id, 'resolution=monthly&from=2000-01-01T00:00:00Z&to=2026-03-01T00:00:00Z');
      assert.equal(yearly.status, 200);
      assert.equal(yearly.json<unknown[]>().length, 26 * 12 + 3);
    });
  });

  describe('GET /topologies', function () {
    it('lists three gateways, one unnamed, devices spread over them', async function () {
      const r = await get('/topologies');
      assert.equal(r.status, 200);
      const list = r.json<TopologyListItem[]>();
      assert.equal(list.length, 3);
      for (const g of list) {
        assert.match(g.gateway_id, /^[0-9a-f]{18}$/);
        assert.match(g.created_at, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
        assert.equal(g.device_count, devices.filter((d) => d.topology_id === g.gateway_id).length);
        assert.ok(g.device_count > 0);
      }
      assert.equal(list.filter((g) => g.name === null).length, 1);
      assert.ok(list.some((g) => typeof g.name === 'string'));
      assert.equal(list.reduce((n, g) => n + g.device_count, 0), devices.length);
    });

    it('describes one gateway with its devices; unknown ids are 404', async function () {
      clock.t = MONDAY + 9 * HOUR;
      const list = (await get('/topologies')).json<TopologyListItem[]>();
      for (const g of list) {
        const r = await get(`/topologies/${g.gateway_id}`);
        assert.equal(r.status, 200);
        const t = r.json<TopologyDetails>();
        assert.equal(t.gateway_id, g.gateway_id);
        assert.equal(t.name, g.name);
        assert.equal(t.created_at, g.created_at);
        const expected = devices.filter((d) => d.topology_id === g.gateway_id);
        assert.deepEqual(t.devices.map((d) => d.physical_id), expected.map((d) => d.physical_id));
        for (const d of t.devices) {
          assert.deepEqual(Object.keys(d).sort(), ['last_seen', 'physical_id', 'rssi', 'serial', 'type']);
          assert.ok(Number.isInteger(d.rssi) && d.rssi < 0);
          assert.ok(Date.parse(d.last_seen) <= clock.t && Date.parse(d.last_seen) > clock.t - 60_000);
        }
      }
      assertError(await get('/topologies/0123245cf74c60d7ee'), 404, 'not_found');
    });
  });

  describe('GET /notifications', function () {
    const opts = { now: () => MONDAY + 12 * HOUR, initialAlerts: 30 };

    it('serves a backlog newest first, 20 by default, within the past days', async function () {
      await withSim(opts, async (_s, b) => {
        const t = await getToken(b);
        const page = (await call(`${b}/notifications`, bearer(t))).json<Alert[]>();
        assert.equal(page.length, 20);
        const all = (await call(`${b}/notifications?limit=50`, bearer(t))).json<Alert[]>();
        assert.equal(all.length, 30);
        assert.deepEqual(page, all.slice(0, 20));
        const times = all.map((a) => Date.parse(a.created_at));
        assert.deepEqual(times, [...times].sort((x, y) => y - x));
        for (const a of all) {
          assert.match(a.created_at, ISO_Z);
          assert.ok(Date.parse(a.created_at) <= opts.now() && Date.parse(a.created_at) >= opts.now() - 7 * DAY);
          assert.equal(typeof a.id, 'string');
          assert.equal(typeof a.message, 'string');
          assert.ok(['co2_high', 'co2_normal', 'battery_low', 'temperature_high', 'device_offline'].includes(a.type));
        }
        assert.equal(new Set(all.map((a) => a.id)).size, 30);
        const offset = (await call(`${b}/notifications?limit=50&offset=25`, bearer(t))).json<Alert[]>();
        assert.deepEqual(offset, all.slice(25));
        assert.deepEqual((await call(`${b}/notifications?offset=30`, bearer(t))).json(), []);
      });
    });

    it('filters by physical_id (unknown → [])', async function () {
      await withSim(opts, async (s, b) => {
        const t = await getToken(b);
        const id = s.devices()[4]!.physical_id;
        s.raiseAlert({ physical_id: id });
        const mine = (await call(`${b}/notifications?limit=50&physical_id=${encodeURIComponent(id)}`, bearer(t))).json<Alert[]>();
        assert.ok(mine.length >= 1);
        for (const a of mine) assert.equal(a.physical_id, id);
        const r = await call(`${b}/notifications?physical_id=nope`, bearer(t));
        assert.equal(r.status, 200);
        assert.deepEqual(r.json(), []);
      });
    });

    it('refuses bad limit and offset with 400', async function () {
      for (const q of ['limit=51', 'limit=0', 'limit=-1', 'limit=2.5', 'limit=x', 'offset=-1', 'offset=1.5', 'offset=x']) {
        assertError(await get(`/notifications?${q}`), 400, 'invalid_parameter');
      }
      assert.equal((await get('/notifications?limit=50&offset=0')).status, 200);
    });

    it('raiseAlert() fills in a device, a message, value and threshold', async function () {
      const d = devices[2]!;
      const alert = sim.raiseAlert({ physical_id: d.physical_id, value: 1043 });
      assert.equal(alert.type, 'co2_high');
      assert.equal(alert.message, `CO2 above 1000 ppm in ${d.name}`);
      assert.equal(alert.value, 1043);
      assert.equal(alert.threshold, 1000);
      assert.equal(alert.created_at, new Date(clock.t).toISOString().replace('.000Z', 'Z'));
      const random = sim.raiseAlert();
      assert.ok(devices.some((x) => x.physical_id === random.physical_id));
      const offline = sim.raiseAlert({ type: 'device_offline', physical_id: d.physical_id });
      assert.equal(offline.value, undefined);
      const newest = (await get('/notifications?limit=3')).json<Alert[]>();
      assert.deepEqual(newest.map((a) => a.id), [offline.id, random.id, alert.id]);
      assert.deepEqual(newest[2], alert);
      assert.throws(() => sim.raiseAlert({ created_at: 'soon' }), /created_at/);
    });

    it('honours alertOrder, alertIds and maxAlerts', async function () {
      await withSim({ now: () => MONDAY, maxAlerts: 5, alertIds: false, alertOrder: 'oldest' }, async (s, b) => {
        const t = await getToken(b);
        const raised = [1, 2, 3, 4, 5, 6, 7].map((n) => s.raiseAlert({ created_at: new Date(MONDAY - (10 - n) * HOUR).toISOString(), value: 1000 + n }));
        const list = (await call(`${b}/notifications`, bearer(t))).json<Alert[]>();
        assert.deepEqual(list.map((a) => a.value), [1003, 1004, 1005, 1006, 1007]);
        for (const a of list) assert.equal('id' in a, false);
        s.set({ alertIds: true, alertOrder: 'newest' });
        const again = (await call(`${b}/notifications`, bearer(t))).json<Alert[]>();
        assert.deepEqual(again.map((a) => a.id), raised.slice(2).reverse().map((a) => a.id));
      });
    });

    it('raises co2_high and co2_normal automatically when CO2 crosses the threshold', async function () {
      const c = { t: MONDAY + 3 * HOUR };
      // The simulator looks at the readings on an interval timer (every report, 10 ms here): a fake
      // one, moved by the test, so each look is counted; requests and their answers are real.
      const timers = sinon.useFakeTimers({ now: Date.now(), toFake: ['setInterval', 'clearInterval'] });
      try {
        await withSim({ now: () => c.t, autoAlerts: true, reportIntervalMs: 10, co2Threshold: 600, tokenLifetimeMs: Infinity }, async (s, b) => {
          const t = await getToken(b);
          const list = async (): Promise<Alert[]> => (await call(`${b}/notifications?limit=50`, bearer(t))).json<Alert[]>();
          timers.tick(40);
          assert.deepEqual(await list(), [], 'four looks at low CO2: nothing raised');
          c.t = MONDAY + 15 * HOUR;
          const high: string[] = [];
          for (const d of s.devices()) {
            const r = (await call(`${b}/telemetry/${encodeURIComponent(d.physical_id)}?type=latest`, bearer(t))).json<LatestTelemetry>();
            if (r.data.co2 > 600) high.push(d.physical_id);
          }
          assert.ok(high.length >= 2 && high.length < s.devices().length, `${high.length} devices above 600`);
          // Two looks in a row above the threshold raise it: the first is not enough.
          timers.tick(10);
          assert.deepEqual(await list(), [], 'one look above the threshold');
          timers.tick(10);
          const raised = await list();
          assert.deepEqual(raised.map((a) => a.physical_id).sort(), [...high].sort(), 'the second look: a co2_high alert per device above the threshold');
          for (const a of raised) {
            assert.equal(a.type, 'co2_high');
            assert.equal(a.threshold, 600);
            assert.ok((a.value as number) > 600);
            assert.match(a.message, /^CO2 above 600 ppm in /);
          }
          timers.tick(30);
          assert.equal((await list()).length, high.length, 'no repeat while CO2 stays high (three more looks)');
          c.t = MONDAY + 23.5 * HOUR;
          timers.tick(10);
          assert.equal((await list()).length, high.length, 'one look below the threshold');
          timers.tick(10);
          const normal = (await list()).filter((a) => a.type === 'co2_normal');
          assert.deepEqual(normal.map((a) => a.physical_id).sort(), [...high].sort(), 'the second look: a co2_normal alert per device');
        });
      } finally {
        timers.restore();
      }
    });
  });

  describe('GET /things', function () {
    it('lists 10 things by default and all 15 with limit=-1', async function () {
      const ten = (await get('/things')).json<Thing[]>();
      assert.equal(ten.length, 10);
      const all = (await get('/things?limit=-1')).json<Thing[]>();
      assert.equal(all.length, 15);
      assert.deepEqual(all.slice(0, 10), ten);
      assert.deepEqual((await get('/things?limit=3')).json(), all.slice(0, 3));
      assert.equal(new Set(all.map((t) => t.id)).size, 15);
      const ids = new Set(devices.map((d) => d.physical_id));
      for (const t of all) {
        assert.match(t.id, /^thing-\d{3}$/);
        assert.equal(typeof t.name, 'string');
        assert.equal(typeof t.kind, 'string');
        assert.ok(Object.keys(t.parameters).length > 0);
        for (const id of t.devices) assert.ok(ids.has(id));
      }
      assert.ok(all.some((t) => t.kind === 'ventilation' && typeof t.parameters.setpoint_co2 === 'number'));
    });

    it('refuses bad limits with 400', async function () {
      for (const q of ['limit=0', 'limit=-2', 'limit=1.5', 'limit=ten']) assertError(await get(`/things?${q}`), 400, 'invalid_parameter');
    });
  });

  describe('routing', function () {
    it('answers unknown paths with a 404 JSON error, wrong methods with 405', async function () {
      for (const p of ['/nope', '', '/devices/x/y', '/thing']) assertError(await get(p), 404, 'not_found');
      assertError(await call(`${root}/`), 404, 'not_found');
      assertError(await call(`${root}/v2/devices`), 404, 'not_found');
      const del = await call(`${base}/devices`, { method: 'DELETE', headers: { Authorization: `Bearer ${tok}` } });
      assertError(del, 405, 'method_not_allowed');
      assert.equal(del.headers.get('allow'), 'GET, HEAD');
      assertError(await call(`${base}/things`, { method: 'POST', headers: { Authorization: `Bearer ${tok}` } }), 405);
    });

    it('accepts a trailing slash, HEAD, and an absolute-form request target', async function () {
      assert.equal((await get('/devices/')).status, 200);
      const head = await call(`${base}/things`, { method: 'HEAD', headers: { Authorization: `Bearer ${tok}` } });
      assert.equal(head.status, 200);
      assert.equal(head.text, '');
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: sim.port, path: `${base}/topologies`, headers: { Authorization: `Bearer ${tok}` } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      assert.equal(status, 200);
    });
  });

  describe('latency', function () {
    it('delays every response by latencyMs, changeable at runtime', async function () {
      sim.set({ latencyMs: 120 });
      let started = Date.now();
      assert.equal((await get('/things')).status, 200);
      assert.ok(Date.now() - started >= 110, `took ${Date.now() - started} ms`);
      started = Date.now();
      assertError(await get('/things', 'bad'), 401);
      assert.ok(Date.now() - started >= 110);
      sim.set({ latencyMs: 0 });
      started = Date.now();
      await get('/things');
      assert.ok(Date.now() - started < 100);
    });
  });

  describe('faults', function () {
    it('status: 503 by default on every endpoint, the token exchange included', async function () {
      sim.injectFault({ kind: 'status', times: 2 });
      assertError(await get('/things'), 503, 'service_unavailable');
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=demo-key' }), 503);
      assert.equal((await get('/things')).status, 200);
    });

    it('status: a chosen code and body on one endpoint only', async function () {
      sim.injectFault({ kind: 'status', status: 502, endpoint: 'devices' });
      sim.injectFault({ kind: 'status', status: 500, endpoint: 'token', body: 'upstream exploded' });
      assertError(await get('/devices'), 502, 'bad_gateway');
      assert.equal((await get('/devices/testsim00004')).status, 200);
      const r = await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=demo-key' });
      assert.equal(r.status, 500);
      assert.equal(r.text, 'upstream exploded');
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      sim.clearFaults();
      assert.equal((await get('/devices')).status, 200);
    });

    it('rate-limit: 429 with Retry-After in seconds, as an HTTP-date, or none', async function () {
      const date = 'Wed, 21 Oct 2026 07:28:00 GMT';
      sim.injectFault({ kind: 'rate-limit', times: 1, retryAfter: 7 });
      sim.injectFault({ kind: 'rate-limit', times: 1, retryAfter: date });
      sim.injectFault({ kind: 'rate-limit', times: 1 });
      const a = await get('/things');
      assertError(a, 429, 'rate_limited');
      assert.equal(a.headers.get('retry-after'), '7');
      const b = await get('/things');
      assert.equal(b.status, 429);
      assert.equal(b.headers.get('retry-after'), date);
      const c = await get('/things');
      assert.equal(c.status, 429);
      assert.equal(c.headers.get('retry-after'), null);
      assert.equal((await get('/things')).status, 200);
    });

    it('hang: never answers, recorded with status 0', async function () {
      sim.injectFault({ kind: 'hang', endpoint: 'things', times: 1 });
      sim.resetStats();
      await assert.rejects(fetch(`${base}/things`, { ...bearer(tok), signal: AbortSignal.timeout(150) }), /abort|timeout/i);
      assert.equal((await get('/things')).status, 200);
      assert.deepEqual(
        sim.stats.requests.map((r) => r.status),
        [0, 200],
      );
    });

    it('reset: sends headers and part of the body, then resets the connection', async function () {
      sim.injectFault({ kind: 'reset', endpoint: 'devices', times: 1 });
      sim.resetStats();
      await assert.rejects(async () => {
        const r = await fetch(`${base}/devices`, bearer(tok));
        await r.text();
      });
      assert.equal(sim.stats.byStatus['0'], 1);
      assert.equal((await get('/devices')).status, 200);
    });

    it('malformed: 200 application/json with a truncated JSON body', async function () {
      sim.injectFault({ kind: 'malformed', times: 1 });
      const r = await get('/devices');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.ok(r.text.length > 10);
      assert.ok(r.text.startsWith('[{"name":'));
      assert.throws(() => JSON.parse(r.text), SyntaxError);
    });

    it('html: 200 text/html, like a proxy error page', async function () {
      sim.injectFault({ kind: 'html', times: 1 });
      const r = await get('/things');
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
      assert.match(r.text, /<html>/);
      assert.throws(() => JSON.parse(r.text), SyntaxError);
    });

    it('empty: 200 with an empty body', async function () {
      sim.injectFault({ kind: 'empty', endpoint: 'telemetry', times: 1 });
      const r = await get('/telemetry/testsim00004?type=latest');
      assert.equal(r.status, 200);
      assert.equal(r.text, '');
      assert.equal(r.headers.get('content-length'), '0');
    });

    it('every: hits only every Nth matching request', async function () {
      sim.injectFault({ kind: 'status', status: 500, every: 3, endpoint: 'things' });
      const statuses: number[] = [];
      for (let i = 0; i < 7; i++) {
        statuses.push((await get('/things')).status);
        await get('/topologies'); // other endpoints do not advance the counter
      }
      assert.deepEqual(statuses, [200, 200, 500, 200, 200, 500, 200]);
    });

    it('applies faults in injection order and retires them after `times` hits', async function () {
      const a = sim.injectFault({ kind: 'status', status: 500, endpoint: 'devices', times: 1 });
      const b = sim.injectFault({ kind: 'status', status: 502, times: 2 });
      assert.notEqual(a, b);
      assert.equal((await get('/devices')).status, 500);
      assert.equal((await get('/devices')).status, 502);
      assert.equal((await get('/things')).status, 502);
      assert.equal((await get('/devices')).status, 200);
    });

    it('refuses invalid faults', function () {
      assert.throws(() => sim.injectFault({ kind: 'explode' } as never), TypeError);
      assert.throws(() => sim.injectFault({ kind: 'status', status: 99 }), TypeError);
      assert.throws(() => sim.injectFault({ kind: 'status', endpoint: 'nowhere' as never }), TypeError);
      assert.throws(() => sim.injectFault({ kind: 'status', every: 0 }), TypeError);
    });

    it('stop() resolves promptly while a request hangs', async function () {
      await withSim({}, async (s, b) => {
        s.injectFault({ kind: 'hang' });
        const pending = fetch(`${b}/things`).then(
          () => 'answered',
          () => 'failed',
        );
        await waitFor(() => s.stats.total === 1, 2000, 'the hanging request');
        assert.equal(s.openConnections(), 1);
        const started = Date.now();
        await s.stop();
        assert.ok(Date.now() - started < 500);
        assert.equal(await pending, 'failed');
        assert.equal(s.openConnections(), 0);
      });
    });
  });

  describe('stats', function () {
    it('counts API requests by endpoint and status, with a request log', async function () {
      sim.resetStats();
      await get('/devices');
      await get('/devices?limit=2');
      await get('/devices/testsim00004');
      await get('/telemetry/testsim00004?type=latest');
      await get('/topologies');
      await get('/notifications');
      await get('/things');
      await get('/nope');
      await get('/devices', 'bad-token');
      await call(`${root}/__sim/stats`);
      const s = sim.stats;
      assert.equal(s.total, 9);
      assert.deepEqual(s.byEndpoint, { token: 0, devices: 3, device: 1, telemetry: 1, topologies: 1, topology: 0, notifications: 1, things: 1, other: 1 });
      assert.deepEqual(s.byStatus, { '200': 7, '401': 1, '404': 1 });
      assert.deepEqual(s.requests[1], { method: 'GET', rawUrl: '/v1/devices?limit=2', endpoint: 'devices', status: 200, at: clock.t });
      assert.ok(s.tokensIssued.includes(tok), 'tokens survive resetStats');
      s.requests.length = 0;
      assert.equal(sim.stats.requests.length, 9, 'stats is a snapshot');
    });

    it('tracks peak concurrency and open connections', async function () {
      sim.set({ latencyMs: 80 });
      sim.resetStats();
      assert.equal(sim.maxConcurrent, 0);
      const results = await Promise.all([1, 2, 3, 4, 5].map(() => get('/things')));
      assert.deepEqual(results.map((r) => r.status), [200, 200, 200, 200, 200]);
      assert.equal(sim.maxConcurrent, 5);
      assert.ok(sim.openConnections() >= 1);
      sim.resetStats();
      assert.equal(sim.maxConcurrent, 0);
    });

    it('logs the reading of each latest-telemetry 200 it served, none for faults, errors or averages', async function () {
      const id = devices[0]!.physical_id;
      const path = `/telemetry/${encodeURIComponent(id)}?type=latest`;
      sim.resetStats();
      const served = (await get(path)).json<LatestTelemetry>();
      sim.injectFault({ kind: 'malformed', endpoint: 'telemetry', times: 1 });
      assert.equal((await get(path)).status, 200);
      await get('/telemetry/unknown-device?type=latest');
      await get(`/telemetry/${encodeURIComponent(id)}?type=averages&resolution=daily&from=2026-03-28T00:00:00&to=2026-03-30T00:00:00`);
      const log = sim.stats.requests;
      assert.deepEqual(log.map((r) => r.status), [200, 200, 404, 200]);
      assert.deepEqual(log[0]!.reading, { physical_id: id, timestamp: served.timestamp });
      assert.deepEqual(log.slice(1).map((r) => r.reading), [undefined, undefined, undefined]);
    });
  });

  describe('robustness', function () {
    it('answers garbage on the socket with 400 and keeps serving', async function () {
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = connect(sim.port, '127.0.0.1', () => socket.write('GARBAGE \u0001\r\n\r\n'));
        let data = '';
        socket.on('data', (chunk) => (data += chunk.toString()));
        socket.on('close', () => resolve(data));
        socket.on('error', reject);
      });
      assert.match(reply, /^HTTP\/1\.1 400/);
      assert.equal((await get('/things')).status, 200);
    });

    it('caps the request log at the most recent entries', function () {
      const recorder = new StatsRecorder();
      for (let i = 0; i < MAX_LOGGED_REQUESTS + 1500; i++) {
        recorder.record({ method: 'GET', rawUrl: `/v1/things?i=${i}`, endpoint: 'things', status: 200, at: i });
      }
      const snap = recorder.snapshot();
      assert.equal(snap.total, MAX_LOGGED_REQUESTS + 1500);
      assert.equal(snap.requests.length, MAX_LOGGED_REQUESTS);
      assert.equal(snap.requests[snap.requests.length - 1]!.at, MAX_LOGGED_REQUESTS + 1499);
    });
  });

  describe('control interface /__sim/', function () {
    const post = (path: string, body?: unknown): Promise<Res> =>
      call(`${root}/__sim/${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    it('reads and resets stats', async function () {
      await get('/things');
      const s = (await call(`${root}/__sim/stats`)).json<Record<string, unknown>>();
      for (const k of ['total', 'byEndpoint', 'byStatus', 'tokensIssued', 'requests', 'maxConcurrent', 'inFlight', 'openConnections', 'activeFaults']) {
        assert.ok(k in s, k);
      }
      assert.ok((s.tokensIssued as string[]).includes(tok));
      assert.equal(s.inFlight, 0);
      assert.equal(s.activeFaults, 0);
      assert.deepEqual((await post('reset-stats')).json(), { ok: true });
      assert.equal(sim.stats.total, 0);
    });

    it('injects and clears faults', async function () {
      const r = await post('faults', { kind: 'status', status: 504, endpoint: 'things', times: null });
      assert.match(r.json<{ id: string }>().id, /\S/);
      assert.equal((await get('/things')).status, 504);
      assert.equal((await get('/things')).status, 504);
      assert.deepEqual((await call(`${root}/__sim/faults`, { method: 'DELETE' })).json(), { ok: true });
      assert.equal((await get('/things')).status, 200);
      assertError(await post('faults', { kind: 'nope' }), 400, 'invalid_request');
    });

    it('revokes tokens, toggles the key and raises alerts', async function () {
      await post('revoke-tokens');
      assertError(await get('/things'), 401);
      assert.equal((await post('key', { valid: false })).status, 200);
      assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: 'api_key=demo-key' }), 401);
      await post('key', { valid: true });
      tok = await getToken(base);
      assertError(await post('key', { valid: 'yes' }), 400);
      const alert = (await post('alerts', { physical_id: 'testsim00004', type: 'battery_low', severity: 'high' })).json<Alert & { severity: string }>();
      assert.equal(alert.type, 'battery_low');
      assert.equal(alert.severity, 'high');
      assert.deepEqual((await get('/notifications?limit=1')).json<Alert[]>()[0], alert);
      assertError(await post('alerts', { value: 'high' }), 400);
    });

    it('sets serialisable options and refuses the rest', async function () {
      await post('set', { latencyMs: 60 });
      const started = Date.now();
      await get('/things');
      assert.ok(Date.now() - started >= 50);
      await post('set', { latencyMs: 0 });
      assertError(await post('set', { port: 1 }), 400);
      assertError(await post('set', { tokenLifetimeMs: 'long' }), 400);
      assertError(await post('set', { colour: 'blue' }), 400);
    });

    it('does not count its own requests, and answers 404/405/400 for bad calls', async function () {
      sim.resetStats();
      assertError(await call(`${root}/__sim/nothing`), 404);
      assertError(await call(`${root}/__sim/stats`, { method: 'POST' }), 405);
      assertError(await call(`${root}/__sim/faults`, { method: 'POST', body: '{oops' }), 400, 'invalid_json');
      assert.equal(sim.stats.total, 0);
    });
  });

  describe('CLI arguments', function () {
    it('defaults to port 8787 with automatic alerts, honouring PORT_SIMULATOR', function () {
      assert.deepEqual(parseCliArgs([], {}), { kind: 'run', options: { port: 8787, autoAlerts: true, initialAlerts: 20 } });
      const env = parseCliArgs([], { PORT_SIMULATOR: '9000' });
      assert.equal(env.kind === 'run' && env.options.port, 9000);
      const flag = parseCliArgs(['--port', '0'], { PORT_SIMULATOR: '9000' });
      assert.equal(flag.kind === 'run' && flag.options.port, 0);
    });

    it('maps every flag to an option', function () {
      const r = parseCliArgs(
        ['--host=0.0.0.0', '--devices', '40', '--token-lifetime', '60', '--latency', '25', '--api-key', 'k1', '--seed', '7', '--gateways', '2', '--no-auto-alerts'],
        {},
      );
      assert.deepEqual(r, {
        kind: 'run',
        options: { port: 8787, autoAlerts: false, initialAlerts: 20, host: '0.0.0.0', deviceCount: 40, tokenLifetimeMs: 60_000, latencyMs: 25, apiKey: 'k1', seed: 7, gateways: 2 },
      });
    });

    it('reports bad input and help', function () {
      assert.equal(parseCliArgs(['--help'], {}).kind, 'help');
      for (const argv of [['--port', 'x'], ['--devices', '-1'], ['--latency'], ['--frobnicate']]) {
        assert.equal(parseCliArgs(argv, {}).kind, 'error', argv.join(' '));
      }
      assert.equal(parseCliArgs([], { PORT_SIMULATOR: 'abc' }).kind, 'error');
    });
  });
});
