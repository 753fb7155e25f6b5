/**
 * The simulator's dialects: one option per point the API docs leave open, each reading shown
 * over real HTTP against a started simulator, plus the CLI's `--dialect a,b` and per-point flags.
 * The simulator runs on a fake clock (Monday 2026-03-30 03:00 UTC) with tokens that never expire
 * unless a test says otherwise.
 */
import assert from 'node:assert/strict';

import {
  DEFAULT_DIALECT,
  DIALECT_POINTS,
  DIALECTS,
  LeapcraftSimulator,
  type AverageBucket,
  type Dialect,
  type DialectPoint,
  type DeviceListItem,
  type SimulatorOptions,
} from '../../simulator';
import { parseCliArgs, USAGE } from '../../simulator/cli-args';

const HOUR = 3_600_000;
/** Monday 2026-03-30 00:00 UTC. */
const MONDAY = Date.UTC(2026, 2, 30);
const NOW = MONDAY + 3 * HOUR;
const FORM = { 'Content-Type': 'application/x-www-form-urlencoded' };
const ISO_Z = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/;
const AVG_QUERY = 'type=averages&resolution=daily&from=2026-03-02T00:00:00Z&to=2026-03-04T23:59:59Z';
const AVG_ZONELESS = 'type=averages&resolution=daily&from=2026-03-02T00:00:00.000&to=2026-03-04T23:59:59.999';

type Json = Record<string, unknown>;

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

const tokenRequest = (base: string, key: string | undefined): Promise<Res> =>
  call(`${base}/auth/client/token`, { method: 'POST', headers: FORM, body: key === undefined ? '' : `api_key=${encodeURIComponent(key)}` });

async function getToken(base: string): Promise<string> {
  const r = await tokenRequest(base, 'demo-key');
  assert.equal(r.status, 200, r.text);
  const body = r.json<{ token?: string; access_token?: string }>();
  return (body.token ?? body.access_token) as string;
}

/** A telemetry point as served: itself, the only item of an array, or under data/result/reading. */
function servedPoint(body: unknown): { via: string; point: Json } {
  if (Array.isArray(body)) {
    assert.equal(body.length, 1, 'an array of one point');
    return { via: 'in-array', point: body[0] as Json };
  }
  const o = body as Json;
  if ('physical_id' in o) return { via: 'point', point: o };
  const keys = Object.keys(o);
  assert.equal(keys.length, 1, `one wrapper key: ${keys.join(', ')}`);
  return { via: `under-${keys[0]}`, point: o[keys[0]!] as Json };
}

const bearer = (token: string): RequestInit => ({ headers: { Authorization: `Bearer ${token}` } });

/** The simulator's error body, with the status. */
function assertError(r: Res, status: number, code?: string): Json {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  const body = r.json<Json>();
  assert.equal(typeof body.error, 'string');
  assert.equal(typeof body.message, 'string');
  if (code !== undefined) assert.equal(body.error, code);
  return body;
}

/** The items of a list body, bare or enveloped. */
function items<T = Json>(body: unknown): T[] {
  if (Array.isArray(body)) return body as T[];
  return (body as { data: T[] }).data;
}

interface Env {
  sim: LeapcraftSimulator;
  base: string;
  root: string;
  token: string;
  get(path: string, token?: string): Promise<Res>;
}

/** Runs `body` against a simulator of its own on the fake clock, stopped afterwards. */
async function withSim(opts: SimulatorOptions, body: (env: Env) => Promise<void>): Promise<void> {
  const sim = new LeapcraftSimulator({ now: () => NOW, tokenLifetimeMs: Infinity, ...opts });
  const base = await sim.start();
  try {
    const env = { sim, base, root: base.slice(0, -3), token: await getToken(base) } as Env;
    env.get = (path: string, t = env.token): Promise<Res> => call(`${base}${path}`, bearer(t));
    await body(env);
  } finally {
    await sim.stop();
  }
}

/** Raises three alerts at known times on the first device: 10:00, 11:00, 12:00 on the Sunday before. */
function raiseThree(sim: LeapcraftSimulator): string[] {
  const id = sim.devices()[0]!.physical_id;
  return [10, 11, 12].map((h) => sim.raiseAlert({ physical_id: id, created_at: new Date(MONDAY - 24 * HOUR + h * HOUR).toISOString(), value: 1000 + h }).id as string);
}

/**
 * Observes, over HTTP only, which reading of `point` a started simulator speaks. Works whatever
 * the other points are set to, so a test can check that a reading changes its point and no other.
 */
async function observe(point: DialectPoint, env: Env): Promise<unknown> {
  const { sim, base, get } = env;
  const device = sim.devices()[0]!;
  const deviceId = encodeURIComponent(device.physical_id);
  switch (point) {
    case 'expiredToken':
      return (await get('/things', 'f'.repeat(48))).status;
    case 'liveTokens': {
      const first = await getToken(base);
      // The newest token from here on: with one live token per key, the earlier ones are revoked now.
      env.token = await getToken(base);
      return (await get('/things', first)).status === 200 ? 'many' : 'one';
    }
    case 'refusedKey': {
      const r = await tokenRequest(base, 'wrong-key');
      if (r.status !== 200) return r.status;
      assert.equal('token' in r.json<Json>(), false, r.text);
      return '200-no-token';
    }
    case 'devicePaging': {
      const all = sim.devices().map((d) => d.physical_id);
      const page = items<DeviceListItem>((await get('/devices?limit=3&page=2')).json()).map((d) => d.physical_id);
      if (page.length === 6) return 'cumulative';
      if (page[0] === all[3]) return 'offset';
      if (page[0] === all[0] && page.length === 3) return 'ignored';
      return page;
    }
    case 'allDevices': {
      const r = await get('/devices?limit=-1');
      if (r.status === 400) return 'refused';
      return items(r.json()).length === sim.devices().length ? 'accepted' : r.status;
    }
    case 'lists':
      return Array.isArray((await get('/things')).json()) ? 'bare' : 'envelope';
    case 'alertOrder':
    case 'alertTime':
    case 'alertIds': {
      const ids = raiseThree(sim);
      const alerts = items((await get(`/notifications?physical_id=${deviceId}&limit=3`)).json());
      assert.equal(alerts.length, 3);
      if (point === 'alertOrder') return alerts[0]!.value === 1012 ? 'newest' : 'oldest';
      if (point === 'alertIds') {
        if (!('id' in alerts[0]!)) return false;
        // The newest one is among those just raised (earlier probes may have raised more).
        const newest = alerts[0]!.value === 1012 ? alerts[0]! : alerts[2]!;
        assert.equal(typeof newest.id, 'string');
        if (newest === alerts[0]) assert.ok(ids.includes(newest.id as string));
        return true;
      }
      const known = new Set(['id', 'physical_id', 'type', 'message', 'value', 'threshold']);
      const timeFields = Object.keys(alerts[0]!).filter((k) => !known.has(k));
      return timeFields.length === 0 ? 'none' : timeFields.join(',');
    }
    case 'tokenBody': {
      // A token living for ever tells no lifetime: for this one request, tokens live an hour.
      sim.set({ tokenLifetimeMs: HOUR });
      const body = (await tokenRequest(base, 'demo-key')).json<Json>();
      sim.set({ tokenLifetimeMs: Infinity });
      if ('access_token' in body) {
        assert.equal(body.token_type, 'Bearer');
        assert.equal(typeof body.expires_in, 'number');
        return 'oauth2';
      }
      assert.equal(body.type, 'bearer');
      if ('expires_at' in body) return 'expires-at';
      return (body.token as string).split('.').length === 3 ? 'jwt' : 'sample';
    }
    case 'latestBody':
      return servedPoint((await get(`/telemetry/${deviceId}?type=latest`)).json()).via;
    case 'averages': {
      const body = (await get(`/telemetry/${deviceId}?${AVG_QUERY}`)).json<unknown>();
      // Buckets carry their resolution; the whole range as one object does not.
      if (Array.isArray(body)) return body.length === 1 && !('resolution' in body[0]) ? 'object-in-array' : 'array';
      if (Array.isArray((body as Json).data)) return 'envelope';
      const { via } = servedPoint(body);
      return via === 'point' ? 'object' : `object-${via}`;
    }
    case 'pointReadings':
      return 'data' in servedPoint((await get(`/telemetry/${deviceId}?type=latest`)).json()).point ? 'nested' : 'flat';
    case 'dateTimes': {
      const r = await get(`/telemetry/${deviceId}?${AVG_ZONELESS}`);
      return r.status === 200 ? 'zoneless' : r.status === 400 ? 'zone-required' : r.status;
    }
  }
}

describe('Leapcraft API simulator dialects', function () {
  describe('the dialect list', function () {
    it('names every reading once, with exactly one default per point matching DEFAULT_DIALECT', function () {
      const names = DIALECTS.map((d) => d.name);
      assert.equal(new Set(names).size, names.length);
      assert.deepEqual([...new Set(DIALECTS.map((d) => d.point))], [...DIALECT_POINTS]);
      for (const point of DIALECT_POINTS) {
        const defaults = DIALECTS.filter((d) => d.point === point && d.isDefault);
        assert.equal(defaults.length, 1, point);
        assert.equal(defaults[0]!.value, DEFAULT_DIALECT[point], point);
        assert.ok(DIALECTS.filter((d) => d.point === point).length >= 2, point);
      }
      for (const d of DIALECTS) {
        assert.match(d.name, /^[a-z0-9-]+$/);
        assert.ok(d.description.length > 0);
      }
    });

    it('covers every reading the brief asks for', function () {
      const values = (point: DialectPoint): unknown[] => DIALECTS.filter((d) => d.point === point).map((d) => d.value);
      assert.deepEqual(values('expiredToken'), [401, 403]);
      assert.deepEqual(values('refusedKey'), [401, 400, 403, '200-no-token']);
      assert.deepEqual(values('tokenBody'), ['sample', 'oauth2', 'expires-at', 'jwt']);
      assert.deepEqual(values('devicePaging'), ['offset', 'cumulative', 'ignored']);
      assert.deepEqual(values('lists'), ['bare', 'envelope']);
      assert.deepEqual(values('alertOrder'), ['newest', 'oldest']);
      assert.deepEqual(values('alertTime'), ['created_at', 'raised', 'none']);
      assert.deepEqual(values('alertIds'), [true, false]);
      assert.deepEqual(values('latestBody'), ['point', 'in-array', 'under-data', 'under-result', 'under-reading']);
      assert.deepEqual(values('averages'), ['array', 'object', 'envelope', 'object-in-array', 'object-under-data', 'object-under-result', 'object-under-reading']);
      assert.deepEqual(values('pointReadings'), ['nested', 'flat']);
      assert.deepEqual(values('dateTimes'), ['zoneless', 'zone-required']);
    });

    it('defaults to the original behaviour when no dialect is set', function () {
      const sim = new LeapcraftSimulator();
      assert.deepEqual(sim.dialect, { ...DEFAULT_DIALECT });
      assert.deepEqual(DEFAULT_DIALECT, {
        expiredToken: 401,
        refusedKey: 401,
        tokenBody: 'sample',
        liveTokens: 'many',
        devicePaging: 'offset',
        allDevices: 'accepted',
        lists: 'bare',
        alertOrder: 'newest',
        alertTime: 'created_at',
        alertIds: true,
        latestBody: 'point',
        averages: 'array',
        pointReadings: 'nested',
        dateTimes: 'zoneless',
      });
    });
  });

  describe('each reading over HTTP changes its point and no other', function () {
    for (const reading of DIALECTS) {
      it(`${reading.name}: ${reading.point} = ${JSON.stringify(reading.value)}`, async function () {
        await withSim({ dialect: [reading.name] }, async (env) => {
          const want: Dialect = { ...DEFAULT_DIALECT, [reading.point]: reading.value };
          assert.deepEqual(env.sim.dialect, want);
          for (const point of DIALECT_POINTS) {
            assert.deepEqual(await observe(point, env), want[point], `${reading.name}: ${point}`);
          }
        });
      });
    }

    it('all non-default readings at once', async function () {
      // The last non-default reading of each point, all at once.
      const names = DIALECT_POINTS.map((p) => DIALECTS.filter((d) => d.point === p && !d.isDefault).at(-1)!);
      await withSim({ dialect: names.map((d) => d.name).join(',') }, async (env) => {
        for (const d of names) assert.deepEqual(await observe(d.point, env), d.value, d.name);
      });
    });
  });

  describe('expired token', function () {
    for (const status of [401, 403] as const) {
      it(`${status}: expired, revoked and unknown tokens get ${status}; a missing header stays 401`, async function () {
        const clock = { t: NOW };
        await withSim({ now: () => clock.t, tokenLifetimeMs: 1000, dialect: { expiredToken: status } }, async ({ sim, get, base }) => {
          const t = await getToken(base);
          assert.equal((await get('/devices', t)).status, 200);
          clock.t += 1000;
          const expired = await get('/devices', t);
          assertError(expired, status, 'invalid_token');
          assert.match(expired.json<{ message: string }>().message, /expired/);
          assert.equal(expired.headers.has('www-authenticate'), status === 401);
          const fresh = await getToken(base);
          sim.revokeTokens();
          assertError(await get('/devices', fresh), status, 'invalid_token');
          assertError(await get('/devices', 'f'.repeat(48)), status, 'invalid_token');
          assertError(await call(`${base}/devices`), 401, 'missing_token');
          assertError(await call(`${base}/devices`, { headers: { Authorization: 'Basic abc' } }), 401, 'missing_token');
        });
      });
    }
  });

  describe('refused key', function () {
    for (const refused of [401, 400, 403, '200-no-token'] as const) {
      it(`${refused}: a wrong, missing or disabled key is refused so; the right key still gets a token`, async function () {
        await withSim({ dialect: { refusedKey: refused } }, async ({ sim, base }) => {
          const status = refused === '200-no-token' ? 200 : refused;
          for (const key of ['wrong-key', undefined, '']) {
            const body = assertError(await tokenRequest(base, key), status, 'invalid_api_key');
            assert.equal('token' in body, false);
            assert.equal('type' in body, false);
          }
          assert.match(await getToken(base), /^[0-9a-f]{40,}$/);
          sim.setKeyValid(false);
          assertError(await tokenRequest(base, 'demo-key'), status, 'invalid_api_key');
          sim.setKeyValid(true);
          const ok = await tokenRequest(base, 'demo-key');
          assert.deepEqual(Object.keys(ok.json<Json>()).sort(), ['token', 'type']);
          assert.equal(sim.stats.byEndpoint.token, 7);
          assertError(await call(`${base}/auth/client/token`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' }), 415);
        });
      });
    }
  });

  describe('devices paging', function () {
    const ids = (r: Res): string[] => items<DeviceListItem>(r.json()).map((d) => d.physical_id);

    it('offset (default): page N holds items (N-1)·limit … N·limit-1; limit=-1 is all on page 1', async function () {
      await withSim({ deviceCount: 12 }, async ({ sim, get }) => {
        const all = sim.devices().map((d) => d.physical_id);
        assert.deepEqual(ids(await get('/devices?limit=5')), all.slice(0, 5));
        assert.deepEqual(ids(await get('/devices?limit=5&page=2')), all.slice(5, 10));
        assert.deepEqual(ids(await get('/devices?limit=5&page=3')), all.slice(10));
        assert.deepEqual(ids(await get('/devices?limit=5&page=4')), []);
        assert.deepEqual(ids(await get('/devices?limit=-1')), all);
        assert.deepEqual(ids(await get('/devices?limit=-1&page=2')), []);
      });
    });

    it('cumulative: page N holds the first N·limit items; limit=-1 is all on any page', async function () {
      await withSim({ deviceCount: 12, dialect: 'paging-cumulative' }, async ({ sim, get }) => {
        const all = sim.devices().map((d) => d.physical_id);
        assert.deepEqual(ids(await get('/devices?limit=5')), all.slice(0, 5));
        assert.deepEqual(ids(await get('/devices?limit=5&page=2')), all.slice(0, 10));
        assert.deepEqual(ids(await get('/devices?limit=5&page=3')), all);
        assert.deepEqual(ids(await get('/devices?limit=5&page=9')), all);
        assert.deepEqual(ids(await get('/devices?limit=-1')), all);
        assert.deepEqual(ids(await get('/devices?limit=-1&page=3')), all);
      });
    });

    it('page ignored: always the first limit items; limit=-1 is all', async function () {
      await withSim({ deviceCount: 12, dialect: { devicePaging: 'ignored' } }, async ({ sim, get }) => {
        const all = sim.devices().map((d) => d.physical_id);
        for (const page of [1, 2, 3, 50]) assert.deepEqual(ids(await get(`/devices?limit=5&page=${page}`)), all.slice(0, 5), `page ${page}`);
        assert.deepEqual(ids(await get('/devices')), all);
        assert.deepEqual(ids(await get('/devices?limit=-1&page=2')), all);
      });
    });

    it('still validates limit and page in every reading', async function () {
      for (const devicePaging of ['offset', 'cumulative', 'ignored'] as const) {
        await withSim({ dialect: { devicePaging } }, async ({ get }) => {
          assertError(await get('/devices?limit=0'), 400, 'invalid_parameter');
          assertError(await get('/devices?page=0'), 400, 'invalid_parameter');
        });
      }
    });
  });

  describe('list bodies', function () {
    it('bare (default): every list endpoint answers an array', async function () {
      await withSim({ initialAlerts: 5 }, async ({ get }) => {
        for (const path of ['/devices', '/topologies', '/notifications', '/things']) {
          assert.ok(Array.isArray((await get(path)).json()), path);
        }
      });
    });

    it('envelope: every list endpoint answers {data: [...], total} with the full count', async function () {
      await withSim({ deviceCount: 12, gateways: 3, thingCount: 15, initialAlerts: 30, dialect: 'lists-envelope' }, async ({ sim, get }) => {
        const envelope = async (path: string): Promise<{ data: Json[]; total: number }> => {
          const body = (await get(path)).json<{ data: Json[]; total: number }>();
          assert.deepEqual(Object.keys(body).sort(), ['data', 'total'], path);
          assert.ok(Array.isArray(body.data), path);
          return body;
        };
        const devices = await envelope('/devices?limit=5&page=2');
        assert.equal(devices.data.length, 5);
        assert.equal(devices.total, 12);
        assert.equal((await envelope('/devices?limit=-1')).data.length, 12);
        const topologies = await envelope('/topologies');
        assert.equal(topologies.data.length, 3);
        assert.equal(topologies.total, 3);
        const things = await envelope('/things?limit=4');
        assert.equal(things.data.length, 4);
        assert.equal(things.total, 15);
        const alerts = await envelope('/notifications?limit=10&offset=5');
        assert.equal(alerts.data.length, 10);
        assert.equal(alerts.total, 30);
        const id = sim.devices()[0]!.physical_id;
        const mine = await envelope(`/notifications?physical_id=${encodeURIComponent(id)}&limit=50`);
        assert.equal(mine.total, mine.data.length);
        assert.ok(mine.data.every((a) => a.physical_id === id));
        // Single resources are not lists.
        assert.equal((await get(`/devices/${encodeURIComponent(id)}`)).json<Json>().physical_id, id);
      });
    });
  });

  describe('alerts', function () {
    it('order: newest first (default) or oldest first, the old alertOrder option as an alias', async function () {
      await withSim({}, async ({ sim, get }) => {
        raiseThree(sim);
        const values = async (): Promise<unknown[]> => items((await get('/notifications')).json()).map((a) => a.value);
        assert.deepEqual(await values(), [1012, 1011, 1010]);
        sim.set({ dialect: 'alerts-oldest' });
        assert.deepEqual(await values(), [1010, 1011, 1012]);
        assert.equal(sim.dialect.alertOrder, 'oldest');
        sim.set({ alertOrder: 'newest' });
        assert.equal(sim.dialect.alertOrder, 'newest');
        assert.deepEqual(await values(), [1012, 1011, 1010]);
      });
    });

    it('time field: created_at (default), raised, none, or any other name; same value and format', async function () {
      await withSim({}, async ({ sim, get }) => {
        raiseThree(sim);
        const first = async (): Promise<Json> => items((await get('/notifications?limit=1')).json())[0]!;
        const original = await first();
        assert.match(original.created_at as string, ISO_Z);
        assert.equal(original.created_at, '2026-03-29T12:00:00Z');

        sim.set({ dialect: 'alert-time-raised' });
        const raised = await first();
        assert.equal(raised.raised, original.created_at);
        assert.equal('created_at' in raised, false);
        assert.deepEqual(Object.keys(raised), Object.keys(original).map((k) => (k === 'created_at' ? 'raised' : k)));

        sim.set({ dialect: { alertTime: 'timestamp' } });
        assert.equal((await first()).timestamp, original.created_at);

        sim.set({ dialect: 'alert-time-none' });
        const none = await first();
        assert.deepEqual(Object.keys(none), Object.keys(original).filter((k) => k !== 'created_at'));
        // raiseAlert still hands back the alert under its canonical names.
        assert.match(sim.raiseAlert().created_at, ISO_Z);
      });
    });

    it('ids: present (default) or absent, the old alertIds option as an alias', async function () {
      await withSim({ alertIds: false }, async ({ sim, get }) => {
        const raised = raiseThree(sim);
        assert.equal(sim.dialect.alertIds, false);
        const list = items((await get('/notifications')).json());
        assert.ok(list.every((a) => !('id' in a)));
        sim.set({ dialect: { alertIds: true } });
        assert.deepEqual(items((await get('/notifications')).json()).map((a) => a.id), [...raised].reverse());
      });
    });

    it('refuses contradicting alias and dialect values, and bad time field names', function () {
      assert.throws(() => new LeapcraftSimulator({ alertOrder: 'oldest', dialect: { alertOrder: 'newest' } }), /alertOrder contradicts/);
      assert.throws(() => new LeapcraftSimulator({ alertIds: true, dialect: 'alert-ids-absent' }), /alertIds contradicts/);
      const sim = new LeapcraftSimulator({ alertOrder: 'oldest', dialect: { alertOrder: 'oldest' } });
      assert.equal(sim.dialect.alertOrder, 'oldest');
      for (const bad of ['', 'id', 'value', 'has space', 7]) {
        assert.throws(() => sim.set({ dialect: { alertTime: bad as string } }), /dialect\.alertTime/, String(bad));
      }
    });
  });

  describe('averages and point readings', function () {
    const ambinodeOf = (sim: LeapcraftSimulator): DeviceListItem => sim.devices().find((d) => d.type === 'ambinode')!;
    const clock = { t: MONDAY + 30 * 24 * HOUR };

    it('array (default): the buckets; envelope: {data: the same buckets}', async function () {
      await withSim({ now: () => clock.t }, async ({ sim, get }) => {
        const path = `/telemetry/${encodeURIComponent(ambinodeOf(sim).physical_id)}?${AVG_QUERY}`;
        const array = (await get(path)).json<AverageBucket[]>();
        assert.deepEqual(array.map((b) => b.timestamp), ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z', '2026-03-04T00:00:00Z']);
        sim.set({ dialect: 'averages-envelope' });
        const envelope = (await get(path)).json<{ data: AverageBucket[] }>();
        assert.deepEqual(Object.keys(envelope), ['data']);
        assert.deepEqual(envelope.data, array);
      });
    });

    it('object: one point for the whole range, shaped like the latest sample', async function () {
      await withSim({ now: () => clock.t }, async ({ sim, get }) => {
        const device = ambinodeOf(sim);
        const path = `/telemetry/${encodeURIComponent(device.physical_id)}?${AVG_QUERY}`;
        const buckets = (await get(path)).json<AverageBucket[]>();
        sim.set({ dialect: 'averages-object' });
        const one = (await get(path)).json<{ physical_id: string; timestamp: string; data: Record<string, number>; created_at: string }>();
        assert.deepEqual(Object.keys(one), ['physical_id', 'timestamp', 'data', 'created_at']);
        assert.equal(one.physical_id, device.physical_id);
        assert.equal(one.timestamp, '2026-03-02T00:00:00Z');
        assert.match(one.created_at, ISO_Z);
        assert.deepEqual(Object.keys(one.data).sort(), ['co2', 'humidity', 'meta', 'noise', 'pm2_5', 'temperature']);
        const co2s = buckets.map((b) => b.data.co2);
        assert.ok(one.data.co2! >= Math.min(...co2s) && one.data.co2! <= Math.max(...co2s));
        assert.ok(Number.isInteger(one.data.co2));
        // A range wholly in the future holds no data: no readings.
        const future = (await get(`/telemetry/${encodeURIComponent(device.physical_id)}?type=averages&resolution=daily&from=2027-01-01T00:00:00Z&to=2027-01-02T00:00:00Z`)).json<Json>();
        assert.deepEqual(future.data, { meta: {} });
        // No reading is logged for averages, whatever their shape.
        sim.resetStats();
        await get(path);
        assert.equal(sim.stats.requests[0]!.reading, undefined);
      });
    });

    it('flat: readings beside timestamp for latest and every averages shape, meta kept as an object', async function () {
      await withSim({ now: () => clock.t, dialect: 'readings-flat' }, async ({ sim, get }) => {
        const device = ambinodeOf(sim);
        const id = encodeURIComponent(device.physical_id);
        sim.resetStats();
        const latest = (await get(`/telemetry/${id}?type=latest`)).json<Json>();
        assert.deepEqual(Object.keys(latest), ['physical_id', 'timestamp', 'temperature', 'humidity', 'co2', 'pm2_5', 'noise', 'meta', 'created_at']);
        assert.equal(typeof latest.meta, 'object');
        assert.equal(typeof latest.co2, 'number');
        assert.deepEqual(sim.stats.requests[0]!.reading, { physical_id: device.physical_id, timestamp: latest.timestamp });

        sim.set({ dialect: { pointReadings: 'nested' } });
        const nested = (await get(`/telemetry/${id}?type=latest`)).json<{ data: Json }>();
        assert.equal(nested.data.co2, latest.co2);
        sim.set({ dialect: { pointReadings: 'flat' } });

        const array = (await get(`/telemetry/${id}?${AVG_QUERY}`)).json<Json[]>();
        assert.equal(array.length, 3);
        for (const b of array) {
          assert.equal('data' in b, false);
          assert.deepEqual(Object.keys(b), ['physical_id', 'resolution', 'timestamp', 'from', 'to', 'temperature', 'humidity', 'co2', 'pm2_5', 'noise', 'meta', 'samples']);
        }
        sim.set({ dialect: 'averages-envelope' });
        assert.deepEqual((await get(`/telemetry/${id}?${AVG_QUERY}`)).json<{ data: Json[] }>().data, array);
        sim.set({ dialect: 'averages-object' });
        const one = (await get(`/telemetry/${id}?${AVG_QUERY}`)).json<Json>();
        assert.deepEqual(Object.keys(one), ['physical_id', 'timestamp', 'temperature', 'humidity', 'co2', 'pm2_5', 'noise', 'meta', 'created_at']);
      });
    });
  });

  describe('token answers', function () {
    const jwtClaims = (token: string): Json => JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Json;

    it('sample (default) tells no lifetime; oauth2, expires-at and jwt tell the lifetime in force, in whole seconds', async function () {
      await withSim({ tokenLifetimeMs: 90_500 }, async ({ sim, base, get }) => {
        const answer = async (): Promise<Json> => (await tokenRequest(base, 'demo-key')).json<Json>();
        assert.deepEqual(Object.keys(await answer()).sort(), ['token', 'type']);

        sim.set({ dialect: 'token-oauth2' });
        const oauth = await answer();
        assert.deepEqual(oauth, { access_token: oauth.access_token, token_type: 'Bearer', expires_in: 90 });
        assert.equal((await get('/things', oauth.access_token as string)).status, 200);

        sim.set({ dialect: 'token-expires-at' });
        const at = await answer();
        assert.deepEqual(Object.keys(at), ['type', 'token', 'expires_at']);
        assert.equal(at.expires_at, new Date(NOW + 90_000).toISOString());

        sim.set({ dialect: 'token-jwt' });
        const jwt = await answer();
        assert.deepEqual(Object.keys(jwt), ['type', 'token']);
        const claims = jwtClaims(jwt.token as string);
        assert.equal(claims.exp, Math.floor((NOW + 90_500) / 1000));
        assert.equal(claims.iat, NOW / 1000);
        assert.equal((await get('/things', jwt.token as string)).status, 200);
        assert.ok(sim.stats.tokensIssued.includes(jwt.token as string));
      });
    });

    it('the JWT and the told times end when the token does: refused once the lifetime is over', async function () {
      const clock = { t: NOW };
      await withSim({ now: () => clock.t, tokenLifetimeMs: 10_000, dialect: 'token-jwt' }, async ({ base, get }) => {
        const token = (await tokenRequest(base, 'demo-key')).json<Json>().token as string;
        clock.t = jwtClaims(token).exp as number * 1000 - 1;
        assert.equal((await get('/things', token)).status, 200);
        clock.t = NOW + 10_000;
        assertError(await get('/things', token), 401, 'invalid_token');
      });
    });

    it('a token living for ever tells no lifetime in any form', async function () {
      await withSim({ dialect: 'token-oauth2' }, async ({ sim, base }) => {
        assert.deepEqual(Object.keys((await tokenRequest(base, 'demo-key')).json<Json>()).sort(), ['access_token', 'token_type']);
        sim.set({ dialect: 'token-expires-at' });
        assert.deepEqual(Object.keys((await tokenRequest(base, 'demo-key')).json<Json>()).sort(), ['token', 'type']);
        sim.set({ dialect: 'token-jwt' });
        assert.equal('exp' in jwtClaims((await tokenRequest(base, 'demo-key')).json<Json>().token as string), false);
      });
    });
  });

  describe('wrapped telemetry', function () {
    const clock = { t: MONDAY + 30 * 24 * HOUR };

    it('latest: the point in an array of one or under data, result or reading, the same point; its reading logged', async function () {
      await withSim({ now: () => clock.t }, async ({ sim, get }) => {
        const device = sim.devices()[1]!;
        const path = `/telemetry/${encodeURIComponent(device.physical_id)}?type=latest`;
        const point = (await get(path)).json<Json>();
        assert.equal(point.physical_id, device.physical_id);
        sim.set({ dialect: 'latest-in-array' });
        assert.deepEqual((await get(path)).json(), [point]);
        for (const key of ['data', 'result', 'reading']) {
          sim.set({ dialect: `latest-under-${key}` });
          sim.resetStats();
          assert.deepEqual((await get(path)).json(), { [key]: point });
          assert.deepEqual(sim.stats.requests[0]!.reading, { physical_id: device.physical_id, timestamp: point.timestamp });
        }
        // Under data, with the readings flat or nested: the wrapper's data holds a point, the point's data readings.
        sim.set({ dialect: 'latest-under-data,readings-flat' });
        const flat = (await get(path)).json<{ data: Json }>();
        assert.equal(flat.data.physical_id, device.physical_id);
        assert.equal(typeof flat.data.co2, 'number');
      });
    });

    it('averages: the whole range as one object, in an array of one or under data, result or reading', async function () {
      await withSim({ now: () => clock.t, dialect: 'averages-object' }, async ({ sim, get }) => {
        const path = `/telemetry/${encodeURIComponent(sim.devices()[0]!.physical_id)}?${AVG_QUERY}`;
        const one = (await get(path)).json<Json>();
        assert.deepEqual(Object.keys(one), ['physical_id', 'timestamp', 'data', 'created_at']);
        sim.set({ dialect: 'averages-object-in-array' });
        assert.deepEqual((await get(path)).json(), [one]);
        for (const key of ['data', 'result', 'reading']) {
          sim.set({ dialect: `averages-object-under-${key}` });
          sim.resetStats();
          assert.deepEqual((await get(path)).json(), { [key]: one });
          assert.equal(sim.stats.requests[0]!.reading, undefined);
        }
      });
    });
  });

  describe('date-times', function () {
    const clock = { t: MONDAY + 30 * 24 * HOUR };
    const stamps = (r: Res): string[] => {
      assert.equal(r.status, 200, r.text);
      return r.json<AverageBucket[]>().map((b) => b.timestamp);
    };
    const want = ['2026-03-02T00:00:00Z', '2026-03-03T00:00:00Z'];

    it('zone-less (default): accepts zone-less and zoned values', async function () {
      await withSim({ now: () => clock.t }, async ({ sim, get }) => {
        const avg = (from: string, to: string): Promise<Res> =>
          get(`/telemetry/${encodeURIComponent(sim.devices()[0]!.physical_id)}?type=averages&resolution=daily&from=${from}&to=${to}`);
        assert.deepEqual(stamps(await avg('2026-03-02T00:00:00.000', '2026-03-03T11:42:58.721')), want);
        assert.deepEqual(stamps(await avg('2026-03-02T00:00:00Z', '2026-03-03T11:42:58Z')), want);
        assert.deepEqual(stamps(await avg('2026-03-02T02:00:00%2B02:00', '2026-03-03T13:00:00%2B02:00')), want);
      });
    });

    it('zone required: a zone-less from or to gets 400 naming it; Z and offsets work', async function () {
      await withSim({ now: () => clock.t, dialect: 'dates-zone-required' }, async ({ sim, get }) => {
        const avg = (from: string, to: string): Promise<Res> =>
          get(`/telemetry/${encodeURIComponent(sim.devices()[0]!.physical_id)}?type=averages&resolution=daily&from=${from}&to=${to}`);
        const fromBad = assertError(await avg('2026-03-02T00:00:00.000', '2026-03-03T11:42:58Z'), 400, 'invalid_parameter');
        assert.match(fromBad.message as string, /^from .*zone/);
        const toBad = assertError(await avg('2026-03-02T00:00:00Z', '2026-03-03T11:42:58.721'), 400, 'invalid_parameter');
        assert.match(toBad.message as string, /^to .*zone/);
        assertError(await avg('2026-03-02', '2026-03-03'), 400, 'invalid_parameter');
        assertError(await avg('2026-03-02T00:00', '2026-03-03T00:00Z'), 400, 'invalid_parameter');
        assert.deepEqual(stamps(await avg('2026-03-02T00:00:00.000Z', '2026-03-03T11:42:58.721Z')), want);
        assert.deepEqual(stamps(await avg('2026-03-02T02:00:00%2B02:00', '2026-03-03T13:00:00%2B02:00')), want);
        assert.deepEqual(stamps(await avg('2026-03-01T19:00:00-05:00', '2026-03-03T00:00:00-00:00')), want);
        // Garbage is still refused with the usual message.
        assertError(await avg('soon', '2026-03-03T00:00:00Z'), 400, 'invalid_parameter');
        // latest takes no dates: unaffected.
        assert.equal((await get(`/telemetry/${encodeURIComponent(sim.devices()[0]!.physical_id)}?type=latest`)).status, 200);
      });
    });
  });

  describe('setting dialects', function () {
    it('set() merges: only the points named change; DEFAULT_DIALECT goes back', async function () {
      await withSim({ dialect: { expiredToken: 403 } }, async ({ sim }) => {
        sim.set({ dialect: ['lists-envelope', 'readings-flat'] });
        assert.deepEqual(sim.dialect, { ...DEFAULT_DIALECT, expiredToken: 403, lists: 'envelope', pointReadings: 'flat' });
        sim.set({ latencyMs: 0 });
        assert.equal(sim.dialect.lists, 'envelope');
        sim.set({ dialect: DEFAULT_DIALECT });
        assert.deepEqual(sim.dialect, { ...DEFAULT_DIALECT });
      });
    });

    it('validates like the other options', function () {
      const sim = new LeapcraftSimulator();
      assert.throws(() => sim.set({ dialect: { expiredToken: 404 as 401 } }), /dialect\.expiredToken must be 401 or 403/);
      assert.throws(() => sim.set({ dialect: { colour: 'blue' } as unknown as Partial<Dialect> }), /unknown option dialect\.colour/);
      assert.throws(() => sim.set({ dialect: 'expired403,bogus' }), /unknown dialect "bogus" \(known: expired401, /);
      assert.throws(() => sim.set({ dialect: 'expired401,expired403' }), /two readings of expiredToken/);
      assert.throws(() => new LeapcraftSimulator({ dialect: 42 as unknown as string }), /option dialect/);
      assert.deepEqual(sim.dialect, { ...DEFAULT_DIALECT });
    });

    it('over the control interface POST /__sim/set, as names or an object', async function () {
      await withSim({ deviceCount: 4 }, async ({ root, sim, get }) => {
        const post = (body: unknown): Promise<Res> => call(`${root}/__sim/set`, { method: 'POST', body: JSON.stringify(body) });
        assert.equal((await post({ dialect: 'lists-envelope,alerts-oldest' })).status, 200);
        assert.equal((await get('/devices')).json<{ total: number }>().total, 4);
        assert.equal((await post({ dialect: { devicePaging: 'cumulative' } })).status, 200);
        assert.deepEqual(sim.dialect, { ...DEFAULT_DIALECT, lists: 'envelope', alertOrder: 'oldest', devicePaging: 'cumulative' });
        assert.match(assertError(await post({ dialect: 'bogus' }), 400).message as string, /unknown dialect "bogus"/);
        assert.match(assertError(await post({ dialect: { averages: 'table' } }), 400).message as string, /dialect\.averages/);
        assert.equal(sim.dialect.averages, 'array');
      });
    });

    it('keeps the request accounting by endpoint under any dialect', async function () {
      const all = DIALECTS.filter((d) => !d.isDefault).map((d) => d.name);
      const onePerPoint = DIALECT_POINTS.map((p) => all.find((n) => DIALECTS.find((d) => d.name === n)!.point === p)!);
      await withSim({ dialect: onePerPoint }, async ({ sim, get, base }) => {
        sim.resetStats();
        await tokenRequest(base, 'wrong');
        await get('/devices');
        await get('/topologies');
        await get('/notifications');
        await get('/things');
        await get(`/telemetry/${encodeURIComponent(sim.devices()[0]!.physical_id)}?type=latest`);
        await get('/things', 'f'.repeat(48));
        const stats = sim.stats;
        assert.equal(stats.total, 7);
        assert.equal(stats.byEndpoint.token, 1);
        assert.equal(stats.byEndpoint.things, 2);
        assert.equal(stats.byEndpoint.telemetry, 1);
        assert.deepEqual(stats.byStatus, { '400': 1, '200': 5, '403': 1 });
        assert.ok(stats.requests[5]!.reading);
      });
    });
  });

  describe('CLI', function () {
    it('parses --dialect a,b into the dialect option, with the other defaults untouched', function () {
      assert.deepEqual(parseCliArgs(['--dialect', 'expired403,refused400,paging-cumulative,lists-envelope,alerts-oldest'], {}), {
        kind: 'run',
        options: {
          port: 8787,
          autoAlerts: true,
          initialAlerts: 20,
          dialect: { expiredToken: 403, refusedKey: 400, devicePaging: 'cumulative', lists: 'envelope', alertOrder: 'oldest' },
        },
      });
      assert.deepEqual(parseCliArgs([], {}), { kind: 'run', options: { port: 8787, autoAlerts: true, initialAlerts: 20 } });
    });

    it('knows every name in DIALECTS', function () {
      for (const d of DIALECTS) {
        const r = parseCliArgs([`--dialect=${d.name}`], {});
        assert.ok(r.kind === 'run', d.name);
        assert.deepEqual(r.options.dialect, { [d.point]: d.value }, d.name);
        assert.ok(USAGE.includes(d.name), `USAGE lists ${d.name}`);
      }
    });

    it('takes one flag per point, adding up with --dialect (later wins)', function () {
      const r = parseCliArgs(
        [
          '--dialect', 'expired403,readings-flat',
          '--expired-token', '401',
          '--refused-key', '200',
          '--device-paging', 'ignored',
          '--lists=envelope',
          '--alert-order', 'oldest',
          '--alert-time', 'raised',
          '--alert-ids', 'absent',
          '--averages', 'object',
          '--date-times', 'zone-required',
          '--devices', '3',
        ],
        {},
      );
      assert.deepEqual(r, {
        kind: 'run',
        options: {
          port: 8787,
          autoAlerts: true,
          initialAlerts: 20,
          deviceCount: 3,
          dialect: {
            expiredToken: 401,
            pointReadings: 'flat',
            refusedKey: '200-no-token',
            devicePaging: 'ignored',
            lists: 'envelope',
            alertOrder: 'oldest',
            alertTime: 'raised',
            alertIds: false,
            averages: 'object',
            dateTimes: 'zone-required',
          },
        },
      });
      const refused = parseCliArgs(['--refused-key', '403', '--point-readings', 'nested', '--alert-ids', 'present', '--alert-time', 'none'], {});
      assert.deepEqual(refused.kind === 'run' && refused.options.dialect, { refusedKey: 403, pointReadings: 'nested', alertIds: true, alertTime: 'none' });
      const wrapped = parseCliArgs(['--token-body', 'oauth2', '--latest-body', 'under-result', '--averages=object-under-data'], {});
      assert.deepEqual(wrapped.kind === 'run' && wrapped.options.dialect, { tokenBody: 'oauth2', latestBody: 'under-result', averages: 'object-under-data' });
    });

    it('refuses an unknown name, an empty list, two readings of one point and bad flag values, clearly', function () {
      const unknown = parseCliArgs(['--dialect', 'expired403,expired999'], {});
      assert.equal(unknown.kind, 'error');
      assert.match(unknown.kind === 'error' ? unknown.message : '', /^--dialect: unknown dialect "expired999" \(known: expired401, expired403, refused401/);
      for (const argv of [
        ['--dialect'],
        ['--dialect', ''],
        ['--dialect', 'expired401,expired403'],
        ['--expired-token', '404'],
        ['--refused-key', '418'],
        ['--device-paging', 'sideways'],
        ['--lists', 'table'],
        ['--alert-ids', 'maybe'],
        ['--alert-time', 'has space'],
        ['--averages', 'sum'],
        ['--token-body', 'saml'],
        ['--latest-body', 'under-payload'],
        ['--point-readings', 'deep'],
        ['--date-times', 'local'],
      ]) {
        const r = parseCliArgs(argv, {});
        assert.equal(r.kind, 'error', argv.join(' '));
        if (r.kind === 'error' && argv[0] !== '--dialect') assert.ok(r.message.startsWith(argv[0]!), r.message);
      }
    });

    it('a parsed command line starts a simulator that speaks it', async function () {
      const r = parseCliArgs(['--port', '0', '--dialect', 'lists-envelope', '--expired-token', '403', '--no-auto-alerts', '--initial-alerts', '0'], {});
      assert.ok(r.kind === 'run');
      await withSim(r.options, async ({ get }) => {
        assert.ok(Array.isArray((await get('/things')).json<{ data: unknown[] }>().data));
        assert.equal((await get('/things', 'f'.repeat(48))).status, 403);
      });
    });
  });
});
