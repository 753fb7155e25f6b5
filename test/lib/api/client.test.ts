import assert from 'node:assert/strict';
import sinon from 'sinon';
import { rejectionOf, useSimulator } from '../../support/fixtures';
import { LeapcraftClient } from '../../../lib';
import { waitFor } from '../../support/wait';

function assertNoSecrets(text: string, secrets: string[]): void {
  for (const s of secrets) assert.ok(!text.includes(s), `a secret leaked into: ${text}`);
}

describe('LeapcraftClient against the simulator', function () {
  const fx = useSimulator({ deviceCount: 12 });

  describe('tokens', () => {
    it('50 concurrent calls with no token yet make exactly 1 token request', async () => {
      const client = fx.client();
      const ids = fx.sim.devices().map((d) => d.physical_id);
      const results = await Promise.all(Array.from({ length: 50 }, (_, i) => client.getDevice(ids[i % ids.length])));
      assert.equal(results.length, 50);
      console.log(`      measured: ${fx.sim.stats.byEndpoint.token} token request(s) for 50 concurrent calls`);
      assert.equal(fx.sim.stats.byEndpoint.token, 1);
      assert.equal(fx.sim.stats.byEndpoint.device, 50);
      assert.equal(client.stats().tokenExchanges, 1);
    });

    it('renews an expired token transparently: 1 refused request, 1 exchange, 1 replay', async () => {
      fx.sim.set({ tokenLifetimeMs: 300 });
      const client = fx.client();
      const id = fx.sim.devices()[0].physical_id;
      await client.getDevice(id);
      // The simulator's clock moves past the token's 300 ms (the client's does not: it cannot tell).
      fx.sim.set({ now: () => Date.now() + 400 });
      fx.sim.resetStats();
      const details = await client.getDevice(id);
      assert.equal(details.physical_id, id);
      console.log(`      measured: ${fx.sim.stats.total} requests around an expiry (${fx.sim.stats.byStatus['401'] ?? 0} refused, ${fx.sim.stats.byEndpoint.token} exchange, ${(fx.sim.stats.byEndpoint.device ?? 0) - 1} replay)`);
      assert.equal(fx.sim.stats.byEndpoint.token, 1);
      assert.equal(fx.sim.stats.byEndpoint.device, 2);
      assert.equal(fx.sim.stats.total, 3);
      assert.equal(fx.sim.stats.byStatus['401'], 1);
    });

    it('50 concurrent calls on an expired token share one re-exchange', async () => {
      const client = fx.client();
      const id = fx.sim.devices()[0].physical_id;
      await client.getDevice(id);
      fx.sim.revokeTokens();
      fx.sim.resetStats();
      await Promise.all(Array.from({ length: 50 }, () => client.getDevice(id)));
      assert.equal(fx.sim.stats.byEndpoint.token, 1);
      // Only the requests already on the wire (concurrency 8) meet the revoked token and are
      // replayed; the ones still queued for a slot go out with the new token.
      const refused = fx.sim.stats.byStatus['401'] ?? 0;
      assert.ok(refused >= 1 && refused <= 8, `${refused} refused`);
      assert.equal(fx.sim.stats.byEndpoint.device, 50 + refused);
    });

    it('replays a 401 once and never loops', async () => {
      const client = fx.client();
      const id = fx.sim.devices()[0].physical_id;
      await client.getDevice(id);
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'status', status: 401, endpoint: 'device' });
      const err = await rejectionOf(client.getDevice(id));
      assert.equal(err.code, 'LEAPCRAFT_AUTH');
      assert.equal(err.status, 401);
      assert.equal(fx.sim.stats.byEndpoint.device, 2, 'the request and exactly one replay');
      assert.equal(fx.sim.stats.byEndpoint.token, 1, 'exactly one re-exchange');
    });

    it('a wrong key is LEAPCRAFT_AUTH after one token request, and is not retried at once', async () => {
      const client = fx.client({ apiKey: 'not-the-key' });
      const id = fx.sim.devices()[0].physical_id;
      const errors = await Promise.all(Array.from({ length: 20 }, () => rejectionOf(client.getDevice(id))));
      for (const err of errors) assert.equal(err.code, 'LEAPCRAFT_AUTH');
      assert.equal(fx.sim.stats.byEndpoint.token, 1);
      const again = await rejectionOf(client.listDevices());
      assert.equal(again.code, 'LEAPCRAFT_AUTH');
      assert.equal(fx.sim.stats.total, 1, 'the cool-down holds further exchanges back');
      assert.equal(fx.sim.stats.byEndpoint.device ?? 0, 0);
      assertNoSecrets(errors[0].message, ['not-the-key']);
    });

    it('tries the key again after the cool-down, so a restored key recovers by itself', async () => {
      fx.sim.setKeyValid(false);
      const client = fx.client({ authRetryBaseMs: 100, authRetryMaxMs: 100 });
      // The client's clock: only Date, moved by the test (timers and the simulator run as usual).
      const clock = sinon.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
      try {
        assert.equal((await rejectionOf(client.listTopologies())).code, 'LEAPCRAFT_AUTH');
        fx.sim.setKeyValid(true);
        clock.tick(99);
        assert.equal((await rejectionOf(client.listTopologies())).code, 'LEAPCRAFT_AUTH', 'still cooling down');
        clock.tick(1);
        const topologies = await client.listTopologies();
        assert.ok(topologies.length > 0);
      } finally {
        clock.restore();
      }
      assert.equal(fx.sim.stats.byEndpoint.token, 2);
    });

    it('authenticate({retryRefusedKey}) tries a restored key within the cool-down (Test connection), and polls resume', async () => {
      fx.sim.setKeyValid(false);
      const client = fx.client();
      assert.equal((await rejectionOf(client.listTopologies())).code, 'LEAPCRAFT_AUTH');
      fx.sim.setKeyValid(true);
      assert.equal((await rejectionOf(client.authenticate())).code, 'LEAPCRAFT_AUTH', 'a plain call waits out the 30 s cool-down');
      await client.authenticate({ retryRefusedKey: true });
      assert.ok((await client.listTopologies()).length > 0);
      assert.equal(fx.sim.stats.byEndpoint.token, 2);
    });

    it('without a key fails with LEAPCRAFT_AUTH and sends nothing', async () => {
      const client = fx.client({ apiKey: '' });
      assert.equal((await rejectionOf(client.listDevices())).code, 'LEAPCRAFT_AUTH');
      assert.equal(fx.sim.stats.total, 0);
    });
  });

  describe('transient failures', () => {
    it('429 waits for Retry-After (seconds) before retrying: 2 requests in all', async () => {
      const client = fx.client();
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'rate-limit', retryAfter: 1, endpoint: 'topologies', times: 1 });
      const list = await client.listTopologies();
      assert.ok(Array.isArray(list));
      const sent = fx.sim.stats.requests.filter((r) => r.endpoint === 'topologies');
      console.log(`      measured: ${sent.length} requests for a 429 with Retry-After 1, the retry ${sent[1]?.at - sent[0]?.at} ms after the 429`);
      assert.equal(sent.length, 2);
      assert.equal(sent[0].status, 429);
      assert.ok(sent[1].at - sent[0].at >= 950, `retried after ${sent[1].at - sent[0].at} ms, expected >= 1000`);
    });

    it('429 with an HTTP-date Retry-After is honoured too', async () => {
      const client = fx.client();
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'rate-limit', retryAfter: new Date(Date.now() + 2000).toUTCString(), endpoint: 'things', times: 1 });
      await client.listThings();
      const sent = fx.sim.stats.requests.filter((r) => r.endpoint === 'things');
      assert.equal(sent.length, 2);
      assert.ok(sent[1].at - sent[0].at >= 900, `retried after ${sent[1].at - sent[0].at} ms`);
    });

    it('a Retry-After longer than the client waits fails fast with the wait, and pauses the account', async () => {
      const client = fx.client({ maxRetryAfterMs: 500 });
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'rate-limit', retryAfter: 30, endpoint: 'things', times: 1 });
      const err = await rejectionOf(client.listThings());
      assert.equal(err.code, 'LEAPCRAFT_RATE_LIMITED');
      assert.ok(err.retryAfterMs! > 25_000 && err.retryAfterMs! <= 30_000);
      const next = await rejectionOf(client.listTopologies());
      assert.equal(next.code, 'LEAPCRAFT_RATE_LIMITED');
      assert.equal(fx.sim.stats.total, 1, 'nothing is sent while the API asked us to pause');
    });

    it('5xx is retried with backoff, then succeeds', async () => {
      const client = fx.client();
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'status', status: 503, endpoint: 'topologies', times: 2 });
      const list = await client.listTopologies();
      assert.ok(list.length > 0);
      assert.equal(fx.sim.stats.byEndpoint.topologies, 3);
    });

    it('a 5xx burst longer than the retries ends in LEAPCRAFT_UNAVAILABLE after a bounded number of attempts', async () => {
      const client = fx.client({ maxRetries: 3 });
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'status', status: 502, endpoint: 'topologies' });
      const err = await rejectionOf(client.listTopologies());
      assert.equal(err.code, 'LEAPCRAFT_UNAVAILABLE');
      assert.equal(err.status, 502);
      assert.match(err.message, /GET \/topologies.*502/);
      assert.equal(fx.sim.stats.byEndpoint.topologies, 4);
    });

    it('a hung request times out with LEAPCRAFT_TIMEOUT', async () => {
      const client = fx.client({ timeoutMs: 300, maxRetries: 0 });
      await client.authenticate();
      fx.sim.injectFault({ kind: 'hang', endpoint: 'things', times: 1 });
      const err = await rejectionOf(client.listThings());
      assert.equal(err.code, 'LEAPCRAFT_TIMEOUT');
      assert.match(err.message, /GET \/things timed out after 300 ms/);
    });

    it('a hung request is retried after its timeout and then succeeds', async () => {
      const client = fx.client({ timeoutMs: 300, maxRetries: 1 });
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'hang', endpoint: 'things', times: 1 });
      const things = await client.listThings();
      assert.ok(things.length > 0);
      assert.equal(fx.sim.stats.byEndpoint.things, 2);
    });

    it('a connection reset mid-response is retried', async () => {
      const client = fx.client();
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'reset', endpoint: 'things', times: 1 });
      const things = await client.listThings();
      assert.ok(things.length > 0);
      assert.equal(fx.sim.stats.byEndpoint.things, 2);
    });

    for (const kind of ['malformed', 'html', 'empty'] as const) {
      it(`a ${kind} body is LEAPCRAFT_BAD_RESPONSE, not a crash`, async () => {
        const client = fx.client();
        fx.sim.injectFault({ kind, endpoint: 'devices', times: 1 });
        const err = await rejectionOf(client.listDevices());
        assert.equal(err.code, 'LEAPCRAFT_BAD_RESPONSE');
        assert.match(err.message, /GET \/devices/);
      });
    }
  });

  describe('concurrency and sockets', () => {
    it('never has more than `concurrency` requests on the wire, over at most that many sockets', async () => {
      fx.sim.set({ latencyMs: 30 });
      const client = fx.client({ concurrency: 4 });
      await client.authenticate();
      fx.sim.resetStats();
      const ids = fx.sim.devices().map((d) => d.physical_id);
      let maxSockets = 0;
      const probe = setInterval(() => { maxSockets = Math.max(maxSockets, fx.sim.openConnections()); }, 5);
      try {
        await Promise.all(Array.from({ length: 60 }, (_, i) => client.getTelemetry(ids[i % ids.length], { type: 'latest' })));
      } finally {
        clearInterval(probe);
      }
      assert.equal(fx.sim.stats.byEndpoint.telemetry, 60);
      assert.ok(fx.sim.maxConcurrent <= 4, `max concurrent ${fx.sim.maxConcurrent}`);
      assert.ok(fx.sim.maxConcurrent >= 2, 'the limit is used, not serialised');
      assert.ok(maxSockets <= 4, `open sockets ${maxSockets}`);
    });

    it('close() aborts in-flight requests with LEAPCRAFT_ABORTED and frees the sockets', async () => {
      const client = fx.client({ timeoutMs: 10_000 });
      await client.authenticate();
      fx.sim.injectFault({ kind: 'hang', endpoint: 'things' });
      const pending = rejectionOf(client.listThings());
      await waitFor(() => fx.sim.stats.byEndpoint.things === 1, 1000, 'the request on the wire');
      client.close();
      const err = await pending;
      assert.equal(err.code, 'LEAPCRAFT_ABORTED');
      await waitFor(() => fx.sim.openConnections() === 0, 500, 'the sockets freed');
      assert.equal((await rejectionOf(client.listThings())).code, 'LEAPCRAFT_ABORTED');
    });

    it('a caller signal cancels only that call', async () => {
      const client = fx.client({ timeoutMs: 10_000 });
      await client.authenticate();
      fx.sim.injectFault({ kind: 'hang', endpoint: 'things', times: 1 });
      const controller = new AbortController();
      const pending = rejectionOf(client.listThings({}, { signal: controller.signal }));
      await waitFor(() => fx.sim.stats.byEndpoint.things === 1, 1000, 'the request on the wire');
      controller.abort();
      assert.equal((await pending).code, 'LEAPCRAFT_ABORTED');
      assert.ok((await client.listTopologies()).length > 0);
    });
  });

  describe('path safety', () => {
    const hostile = ['../auth/client/token', 'a?b', 'a#b', '%2F', 'a/b', 'x y', 'Büro €', '..%2F..'];
    for (const id of hostile) {
      it(`keeps ${JSON.stringify(id)} inside its path segment`, async () => {
        const client = fx.client();
        const err = await rejectionOf(client.getDevice(id));
        assert.equal(err.code, 'LEAPCRAFT_NOT_FOUND');
        const sent = fx.sim.stats.requests.filter((r) => r.endpoint !== 'token');
        assert.equal(sent.length, 1);
        assert.equal(sent[0].endpoint, 'device');
        const path = sent[0].rawUrl;
        assert.ok(path.startsWith('/v1/devices/'), path);
        const segment = path.slice('/v1/devices/'.length);
        assert.ok(!/[/?#]/.test(segment), `segment ${segment}`);
        assert.equal(decodeURIComponent(segment), id);
      });
    }

    it('a MAC-like id with colons reaches its device', async () => {
      const client = fx.client();
      const mac = fx.sim.devices().find((d) => d.physical_id.includes(':'))!;
      const details = await client.getDevice(mac.physical_id);
      assert.equal(details.serial, mac.serial);
      const reading = await client.getTelemetry(mac.physical_id, { type: 'latest' });
      assert.equal((reading as { physical_id: string }).physical_id, mac.physical_id);
    });

    it('a topology id is encoded the same way', async () => {
      const client = fx.client();
      const err = await rejectionOf(client.getTopology('../devices'));
      assert.equal(err.code, 'LEAPCRAFT_NOT_FOUND');
      const sent = fx.sim.stats.requests.find((r) => r.endpoint !== 'token')!;
      assert.equal(sent.rawUrl, '/v1/topologies/..%2Fdevices');
    });
  });

  describe('validation before any request', () => {
    const cases: Array<[string, (c: LeapcraftClient) => Promise<unknown>]> = [
      ['unknown telemetry type', (c) => c.getTelemetry('testsim00004', { type: 'raw' })],
      ['unknown resolution', (c) => c.getTelemetry('testsim00004', { type: 'averages', resolution: 'hourly', from: '-1d', to: 'now' })],
      ['from after to', (c) => c.getTelemetry('testsim00004', { type: 'averages', resolution: 'daily', from: 'now', to: '-7d' })],
      ['unparseable date', (c) => c.getTelemetry('testsim00004', { type: 'averages', resolution: 'daily', from: 'last tuesday', to: 'now' })],
      ['limit 51', (c) => c.listNotifications({ limit: 51 })],
      ['limit 0', (c) => c.listNotifications({ limit: 0 })],
      ['limit -2 for things', (c) => c.listThings({ limit: -2 })],
      ['limit "abc"', (c) => c.listThings({ limit: 'abc' })],
      ['negative offset', (c) => c.listNotifications({ offset: -1 })],
      ['empty id', (c) => c.getDevice('')],
      ['10 kB id', (c) => c.getDevice('x'.repeat(10_240))],
      ['control characters', (c) => c.getDevice('a\r\nHost: evil')],
      ['object id', (c) => c.getTelemetry({ id: 1 })],
    ];
    for (const [name, call] of cases) {
      it(`refuses ${name} with LEAPCRAFT_INVALID_INPUT and sends nothing`, async () => {
        const client = fx.client();
        const err = await rejectionOf(call(client));
        assert.equal(err.code, 'LEAPCRAFT_INVALID_INPUT');
        assert.equal(fx.sim.stats.total, 0);
      });
    }
  });

  describe('endpoints', () => {
    it('asks for the whole device list with limit=-1 (one request), or walks every page of a page size', async () => {
      fx.sim.set({ deviceCount: 250 });
      const client = fx.client();
      assert.equal((await client.listDevices()).length, 250);
      assert.equal(fx.sim.stats.byEndpoint.devices, 1);
      assert.match(fx.sim.stats.requests.find((r) => r.endpoint === 'devices')!.rawUrl, /limit=-1/);
      fx.sim.resetStats();
      const devices = await client.listDevices({ pageSize: 100 });
      assert.equal(devices.length, 250);
      assert.equal(new Set(devices.map((d) => d.physical_id)).size, 250);
      assert.equal(fx.sim.stats.byEndpoint.devices, 3);
    });

    it('hands each page of the device list to onPage as it arrives, and puts pages ahead of queued requests', async () => {
      fx.sim.set({ deviceCount: 250 });
      const client = fx.client({ concurrency: 1 });
      await client.authenticate();
      const ids = fx.sim.devices().map((d) => d.physical_id);
      fx.sim.resetStats();
      const pages: string[][] = [];
      // Five readings queue for the one slot before the list is asked for.
      const readings = ids.slice(0, 5).map((id) => client.getTelemetry(id));
      const list = await client.listDevices({ pageSize: 100, onPage: (page) => pages.push(page.map((d) => d.physical_id)) });
      await Promise.all(readings);
      assert.deepEqual(pages.map((p) => p.length), [100, 100, 50]);
      assert.deepEqual(pages.flat(), list.map((d) => d.physical_id));
      const order = fx.sim.stats.requests.map((r) => r.endpoint);
      // A page asked for while readings wait goes next (at most the reading that took the slot
      // the previous page freed goes before it): the whole list is in before the readings are
      // done, where first-come-first-served would put pages 2 and 3 after all five.
      assert.equal(order.filter((e) => e === 'telemetry').length, 5);
      assert.ok(order.lastIndexOf('devices') < order.lastIndexOf('telemetry'), order.join(' '));
    });

    it('puts an alerts check ahead of queued readings', async () => {
      const client = fx.client({ concurrency: 1 });
      await client.authenticate();
      const ids = fx.sim.devices().map((d) => d.physical_id);
      fx.sim.resetStats();
      const readings = ids.map((id) => client.getTelemetry(id));
      const alerts = await client.listNotifications({ limit: 5 });
      assert.ok(Array.isArray(alerts));
      await Promise.all(readings);
      const order = fx.sim.stats.requests.map((r) => r.endpoint);
      // Only the reading that already had the slot goes before it, not the eleven queued behind.
      assert.equal(order.indexOf('notifications'), 1, order.join(' '));
    });

    it('keeps every field of a list item as it came', async () => {
      const client = fx.client();
      const devices = await client.listDevices();
      assert.deepEqual(devices, fx.sim.devices());
    });

    it('reads latest telemetry and averages', async () => {
      const client = fx.client();
      const id = fx.sim.devices()[0].physical_id;
      const latest = await client.getTelemetry(id, { type: 'latest' }) as Record<string, unknown>;
      assert.equal(latest.physical_id, id);
      assert.equal(typeof (latest.data as Record<string, unknown>).co2, 'number');
      const averages = await client.getTelemetry(id, { type: 'averages', resolution: 'daily', from: '2026-03-01T00:00:00.000', to: '2026-03-07T23:59:59.000' });
      assert.ok(Array.isArray(averages));
      assert.equal(averages.length, 7);
      const sent = fx.sim.stats.requests.filter((r) => r.endpoint === 'telemetry').map((r) => r.rawUrl);
      assert.ok(sent[1].includes('from=2026-03-01T00%3A00%3A00.000') || sent[1].includes('from=2026-03-01T00:00:00.000'), sent[1]);
    });

    it('reads topologies, one topology, notifications and things', async () => {
      fx.sim.set({});
      const client = fx.client();
      const topologies = await client.listTopologies();
      assert.ok(topologies.length >= 1);
      const one = await client.getTopology(topologies[0].gateway_id);
      assert.ok(Array.isArray(one.devices));
      fx.sim.raiseAlert();
      const alerts = await client.listNotifications({ limit: 50, offset: 0 });
      assert.equal(alerts.length, 1);
      const things = await client.listThings({ limit: -1 });
      assert.ok(things.length > 10);
      assert.equal((await client.listThings()).length, 10);
    });

    it('names the request with its id, the status and the API text in a 404, never a secret, within the 80 characters of a debug line', async () => {
      const client = fx.client();
      const err = await rejectionOf(client.getDevice('no-such-device'));
      assert.equal(err.code, 'LEAPCRAFT_NOT_FOUND');
      assert.equal(err.status, 404);
      assert.equal((err as { endpoint?: string }).endpoint, 'GET /devices/{physical_id}', 'the endpoint without its parameters, for code');
      assert.match(err.message, /^GET \/devices\/no-such-device: HTTP 404: .+/);
      // What a Catch node gets as msg.error.message (String(err)): the message alone.
      assert.equal(String(err), err.message);
      assertNoSecrets(err.message + JSON.stringify(err), [fx.sim.apiKey, ...fx.sim.stats.tokensIssued]);
      // A MAC-style id, decoded for reading (it went out encoded), still within 80 characters.
      const telemetry = await rejectionOf(client.getTelemetry('D2:C1:AA:FF:3E:99'));
      assert.match(telemetry.message, /^GET \/telemetry\/D2:C1:AA:FF:3E:99: HTTP 404: /);
      assert.ok(telemetry.message.length <= 80, `${telemetry.message.length} characters: ${telemetry.message}`);
    });

    it('names the request with its id when it times out', async () => {
      fx.sim.injectFault({ kind: 'hang', endpoint: 'device', times: 1 });
      const err = await rejectionOf(fx.client({ timeoutMs: 200, maxRetries: 0 }).getDevice('testsim00004'));
      assert.equal(err.code, 'LEAPCRAFT_TIMEOUT');
      assert.match(err.message, /^GET \/devices\/testsim00004 timed out after 200 ms$/);
    });
  });
});
