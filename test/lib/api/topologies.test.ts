/**
 * listTopologiesWithDevices (lib/api/topologies.ts), the one policy behind the topology node's
 * joinDevices and the Home Assistant bridge's gateway look-up, against the simulator over HTTP:
 * which details it reads, how many, how many at a time, and what a failing gateway does.
 */
import assert from 'node:assert/strict';
import {
  deviceDirectory, joinDeviceList, LeapcraftClient, listTopologiesWithDevices, Topology, TOPOLOGY_DETAILS_MAX,
} from '../../../lib';
import { rejectionOf, useSimulator } from '../../support/fixtures';
import { waitFor } from '../../support/wait';

/** A fixed simulator clock, so `last_seen` in the details is the same in every read. */
const NOW = Date.UTC(2026, 2, 29, 12, 0, 0);

describe('listTopologiesWithDevices', function () {
  const fx = useSimulator({ deviceCount: 20, gateways: 5, now: () => NOW });

  /** The list and each gateway's details as the simulator serves them, read by a client of the test's own; stats zeroed after. */
  async function reference(): Promise<{ list: Topology[]; details: Map<string, Topology> }> {
    const ref = fx.client();
    const list = await ref.listTopologies();
    const details = new Map<string, Topology>();
    for (const t of list) details.set(t.gateway_id!, await ref.getTopology(t.gateway_id));
    fx.sim.resetStats();
    return { list, details };
  }
  const detailUrls = () => fx.sim.stats.requests.filter((r) => r.endpoint === 'topology').map((r) => r.rawUrl);
  const url = (id: string) => `/v1/topologies/${encodeURIComponent(id)}`;
  /** The simulator's list answered once with `body` instead. */
  const listAnswers = (body: unknown) => fx.sim.injectFault({ kind: 'status', status: 200, endpoint: 'topologies', times: 1, body: JSON.stringify(body) });

  it('list entries without devices: each gateway\'s details merged over its entry, list fields kept, one request each', async () => {
    const { list, details } = await reference();
    assert.equal(list.length, 5);
    assert.ok(list.every((t) => t.devices === undefined && typeof t.device_count === 'number'), 'the simulator\'s list names no devices');
    const got = await listTopologiesWithDevices(fx.client());
    assert.deepEqual(got, list.map((t) => ({ ...t, ...details.get(t.gateway_id!) })));
    for (const t of got) assert.equal(t.devices!.length, t.device_count, `${t.gateway_id}: every sensor behind it`);
    assert.equal(fx.sim.stats.byEndpoint.topologies, 1);
    assert.deepEqual(detailUrls().sort(), list.map((t) => url(t.gateway_id!)).sort());
    assert.equal(fx.sim.stats.byEndpoint.devices, 0, 'the device list is not read');
  });

  it('list entries with devices are taken as listed; only the others are read, and odd entries are kept as they are', async () => {
    const { list, details } = await reference();
    const [a, b, c] = list;
    const listed = [
      { ...a, devices: [{ physical_id: 'from-the-list' }] },
      b,
      { ...c, devices: [] },
      { name: 'no gateway id' },
      { gateway_id: '..', name: 'unusable id' },
      null,
    ];
    listAnswers(listed);
    const got = await listTopologiesWithDevices(fx.client());
    assert.deepEqual(got, [listed[0], { ...b, ...details.get(b.gateway_id!) }, listed[2], listed[3], listed[4], null]);
    assert.deepEqual(detailUrls(), [url(b.gateway_id!)], 'one details request: the entry without devices and with a usable id');
  });

  it('when every entry lists its devices, the list is the whole answer: one request', async () => {
    const { list, details } = await reference();
    const listed = list.map((t) => ({ ...t, devices: details.get(t.gateway_id!)!.devices }));
    listAnswers(listed);
    assert.deepEqual(await listTopologiesWithDevices(fx.client()), listed);
    assert.equal(fx.sim.stats.byEndpoint.topology, 0);
    assert.equal(fx.sim.stats.total, 2, 'the token exchange and GET /topologies');
  });

  it('reads at most maxDetails gateways, the first in list order; the rest stay as listed', async () => {
    const { list, details } = await reference();
    const got = await listTopologiesWithDevices(fx.client(), { maxDetails: 2 });
    assert.deepEqual(got.slice(0, 2), list.slice(0, 2).map((t) => ({ ...t, ...details.get(t.gateway_id!) })));
    assert.deepEqual(got.slice(2), list.slice(2));
    assert.deepEqual(detailUrls().sort(), list.slice(0, 2).map((t) => url(t.gateway_id!)).sort());
    fx.sim.resetStats();
    assert.deepEqual(await listTopologiesWithDevices(fx.client(), { maxDetails: 0 }), list);
    assert.equal(fx.sim.stats.byEndpoint.topology, 0);
  });

  it('by default at most 100 details per call, however long the list', async () => {
    assert.equal(TOPOLOGY_DETAILS_MAX, 100);
    // 130 gateways the simulator does not know: each details request answers 404, which keeps the entry as listed.
    const listed = Array.from({ length: 130 }, (_, i) => ({ gateway_id: `gw-${String(i).padStart(3, '0')}`, device_count: 1 }));
    listAnswers(listed);
    const got = await listTopologiesWithDevices(fx.client(), { concurrency: 8 });
    assert.deepEqual(got, listed);
    assert.equal(fx.sim.stats.byEndpoint.topology, 100);
    assert.deepEqual(detailUrls().sort(), listed.slice(0, 100).map((t) => url(t.gateway_id)).sort());
  });

  it('a gateway whose details answer 404 or 400 stays as listed; the others are still read', async () => {
    const { list, details } = await reference();
    // One at a time, so the faults (matched by endpoint, in order) hit the 2nd and 4th gateway.
    fx.sim.injectFault({ kind: 'status', status: 404, endpoint: 'topology', every: 2, times: 1 });
    fx.sim.injectFault({ kind: 'status', status: 400, endpoint: 'topology', every: 3, times: 1 });
    const got = await listTopologiesWithDevices(fx.client(), { concurrency: 1 });
    assert.deepEqual(got, list.map((t, i) => (i === 1 || i === 3 ? t : { ...t, ...details.get(t.gateway_id!) })));
    assert.equal(fx.sim.stats.byEndpoint.topology, 5);
    assert.deepEqual(fx.sim.stats.requests.filter((r) => r.endpoint === 'topology').map((r) => r.status), [200, 404, 200, 400, 200]);
  });

  it('any other failure of a gateway fails the whole call with that error, and no further details are requested', async () => {
    await reference();
    fx.sim.injectFault({ kind: 'status', status: 503, endpoint: 'topology', every: 2, times: 1 });
    const err = await rejectionOf(listTopologiesWithDevices(fx.client({ maxRetries: 0 }), { concurrency: 1 }));
    assert.equal(err.code, 'LEAPCRAFT_UNAVAILABLE');
    assert.match(err.message, /^GET \/topologies\/[^ ]+: HTTP 503/);
    assert.equal((err as { endpoint?: string }).endpoint, 'GET /topologies/{topology_id}');
    assert.deepEqual(fx.sim.stats.requests.filter((r) => r.endpoint === 'topology').map((r) => r.status), [200, 503], 'the 3rd to 5th gateway are not asked');
  });

  it('a failure cancels the details already under way instead of waiting for them', async () => {
    await reference();
    // Of the four requests sent at once, the first to arrive answers 503 (after 100 ms, so the
    // others have arrived by then) and the other three hang.
    fx.sim.set({ latencyMs: 100 });
    fx.sim.injectFault({ kind: 'status', status: 503, endpoint: 'topology', times: 1 });
    fx.sim.injectFault({ kind: 'hang', endpoint: 'topology' });
    const client = fx.client({ maxRetries: 0, timeoutMs: 20_000 });
    const started = Date.now();
    const err = await rejectionOf(listTopologiesWithDevices(client));
    assert.equal(err.code, 'LEAPCRAFT_UNAVAILABLE');
    assert.ok(Date.now() - started < 2000, `settled after ${Date.now() - started} ms, not after the hanging requests' timeout`);
    assert.equal(fx.sim.stats.byEndpoint.topology, 4, 'four at a time were sent, the fifth never');
    assert.equal(client.stats().inFlight, 0, 'nothing left running');
    await waitFor(() => fx.sim.controlStats().inFlight === 0, 3000, 'the simulator to end the hanging requests');
  });

  it('a failing list fails the call, without details requests', async () => {
    fx.sim.injectFault({ kind: 'status', status: 503, endpoint: 'topologies' });
    const err = await rejectionOf(listTopologiesWithDevices(fx.client({ maxRetries: 0 })));
    assert.equal(err.code, 'LEAPCRAFT_UNAVAILABLE');
    assert.equal(fx.sim.stats.byEndpoint.topology, 0);
  });

  it('at most 4 details requests at a time by default, one at a time with concurrency 1', async () => {
    fx.sim.set({ gateways: 10, latencyMs: 40 });
    const measure = async (options: { concurrency?: number }) => {
      const client = fx.client({ concurrency: 8 });
      await client.listTopologies();
      fx.sim.resetStats();
      const got = await listTopologiesWithDevices(client, options);
      assert.equal(got.length, 10);
      assert.ok(got.every((t) => Array.isArray(t.devices)));
      assert.equal(fx.sim.stats.byEndpoint.topology, 10);
      return fx.sim.maxConcurrent;
    };
    const byDefault = await measure({});
    assert.ok(byDefault >= 2 && byDefault <= 4, `default: ${byDefault} at once`);
    assert.equal(await measure({ concurrency: 1 }), 1);
  });

  it('cancelled through its signal: LEAPCRAFT_ABORTED at once, and nothing more is requested', async () => {
    await reference();
    fx.sim.injectFault({ kind: 'hang', endpoint: 'topology' });
    const controller = new AbortController();
    const client = fx.client({ timeoutMs: 20_000 });
    const call = listTopologiesWithDevices(client, { signal: controller.signal, concurrency: 1 });
    await waitFor(() => fx.sim.stats.byEndpoint.topology === 1, 3000, 'the first details request');
    const started = Date.now();
    controller.abort();
    const err = await rejectionOf(call);
    assert.equal(err.code, 'LEAPCRAFT_ABORTED');
    assert.ok(Date.now() - started < 1000);
    // Everything under way has ended, at the client and at the simulator: a request started after
    // the abort would be counted by then.
    await waitFor(() => client.stats().inFlight === 0 && fx.sim.controlStats().inFlight === 0, 3000, 'the aborted request to end');
    assert.equal(fx.sim.stats.byEndpoint.topology, 1, 'no further gateway asked');
  });

  it('refuses a bad maxDetails or concurrency before any request', async () => {
    const client = fx.client();
    for (const options of [{ maxDetails: -1 }, { maxDetails: 1.5 }, { concurrency: 0 }]) {
      const err = await rejectionOf(listTopologiesWithDevices(client, options));
      assert.equal(err.code, 'LEAPCRAFT_INVALID_INPUT', JSON.stringify(options));
    }
    assert.equal(fx.sim.stats.total, 0);
  });

  it('joinDeviceList: name and type where an entry lacks them, the list entry as `device`; the rest untouched', async () => {
    const client: LeapcraftClient = fx.client();
    const [t] = await listTopologiesWithDevices(client);
    const directory = deviceDirectory(await client.listDevices());
    const joined = joinDeviceList(t, directory);
    assert.equal(joined.devices!.length, t.devices!.length);
    for (const [i, entry] of joined.devices!.entries()) {
      const api = t.devices![i];
      const device = directory.get(api.physical_id as string)!;
      assert.deepEqual(entry, { ...api, name: device.name, ...(api.type === undefined ? { type: device.type } : {}), device });
    }
    const { devices: _a, ...rest } = joined;
    const { devices: _b, ...apiRest } = t;
    assert.deepEqual(rest, apiRest);
    const odd = { gateway_id: 'x', devices: [null, { physical_id: 'unknown' }, { physical_id: t.devices![0].physical_id, name: 'own', type: 'own' }] } as unknown as Topology;
    const first = directory.get(t.devices![0].physical_id as string)!;
    assert.deepEqual(joinDeviceList(odd, directory).devices, [null, { physical_id: 'unknown' }, { physical_id: first.physical_id, name: 'own', type: 'own', device: first }]);
    const without = { gateway_id: 'y', device_count: 2 };
    assert.equal(joinDeviceList(without, directory), without);
  });
});
