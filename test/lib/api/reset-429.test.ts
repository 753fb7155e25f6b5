/**
 * 429s that carry only a reset time (no Retry-After), in every header family the simulator
 * speaks: the transport waits for the reset before its own retry, holds every other request of
 * the account (those queued for a slot included) until then, and tells its listeners that
 * nothing remains until the reset. Checked on the simulator's request log against the resets it
 * announced: an order of events, not a timing.
 */
import assert from 'node:assert/strict';
import type { RateLimitInfo } from '../../../lib/api/rate-limit';
import { RESET_HEADERS, type RequestLogEntry } from '../../../simulator';
import { rejectionOf, useSimulator } from '../../support/fixtures';
import { waitFor } from '../../support/wait';

/** Requests the simulator received after a 429 announced its reset and before that reset. */
function beforeResets(log: readonly RequestLogEntry[]): RequestLogEntry[] {
  return log.filter((r) => log.some((limited) => limited.resetAt !== undefined && r.at > limited.at && r.at < limited.resetAt));
}

describe('429 with a reset time only (transport)', function () {
  this.timeout(30_000);
  const fx = useSimulator({ deviceCount: 6 });

  for (const form of RESET_HEADERS) {
    it(`${form}: the retry waits for the announced reset, and the listeners hear that nothing remains until then`, async () => {
      const heard: RateLimitInfo[] = [];
      let limited = 0;
      let pausedMs = 0;
      const client = fx.client({ onRateLimit: (info) => heard.push(info), onRateLimited: () => { limited++; pausedMs = client.rateLimitRemainingMs(); } });
      await client.authenticate();
      fx.sim.resetStats();
      fx.sim.injectFault({ kind: 'rate-limit', endpoint: 'things', times: 1, resetAfter: 1.2, resetHeaders: form });
      const things = await client.listThings();
      assert.ok(things.length > 0);
      const [first, retry] = fx.sim.stats.requests;
      assert.equal(first!.status, 429);
      assert.equal(retry!.status, 200, 'the retry was served: it came after the reset');
      assert.ok(retry!.at >= first!.resetAt!, `retried ${first!.resetAt! - retry!.at} ms before the reset`);
      assert.equal(fx.sim.stats.total, 2);
      assert.equal(limited, 1);
      assert.ok(pausedMs > 0 && pausedMs <= 3000, `paused ${pausedMs} ms`);
      const told = heard.find((h) => h.remaining === 0)!;
      assert.ok(told && told.resetMs! > 0 && told.resetMs! <= 3000, `told ${JSON.stringify(heard)}`);
    });
  }

  it('every request of the account waits for the reset: those started meanwhile and those queued for a slot', async () => {
    // One slot: no other request is on the wire when the 429 comes, so any request before its reset is one sent too early.
    const client = fx.client({ concurrency: 1 });
    await client.authenticate();
    fx.sim.resetStats();
    fx.sim.injectFault({ kind: 'rate-limit', endpoint: 'telemetry', times: 1, resetAfter: 1, resetHeaders: 'x-ratelimit-epoch-ms' });
    const ids = fx.sim.devices().map((d) => d.physical_id);
    // Six readings through one slot: the 429 comes while the others queue.
    const first = Promise.all(ids.map((id) => client.getTelemetry(id, { type: 'latest' })));
    // Two more started once the 429 is in, while the account waits for its reset.
    const later = waitFor(() => fx.sim.stats.requests.some((r) => r.status === 429), 5000, 'the 429')
      .then(() => Promise.all([client.listThings(), client.listTopologies()]));
    await Promise.all([first, later]);
    const log = fx.sim.stats.requests;
    assert.equal(log.filter((r) => r.status === 429).length, 1, 'one 429: nothing went out early to meet another');
    assert.deepEqual(beforeResets(log).map((r) => `${r.at} ${r.rawUrl}`), [], 'no request between the 429 and its reset');
    assert.equal(log.length, ids.length + 3, 'every request answered once, the limited one retried once');
  });

  it('a reset further away than the client waits fails fast with the wait, the account paused until then', async () => {
    const client = fx.client({ maxRetryAfterMs: 500 });
    await client.authenticate();
    fx.sim.resetStats();
    fx.sim.injectFault({ kind: 'rate-limit', endpoint: 'things', times: 1, resetAfter: 30, resetHeaders: 'ratelimit-reset' });
    const err = await rejectionOf(client.listThings());
    assert.equal(err.code, 'LEAPCRAFT_RATE_LIMITED');
    assert.ok(err.retryAfterMs! > 25_000 && err.retryAfterMs! <= 30_000, `${err.retryAfterMs} ms`);
    const next = await rejectionOf(client.listTopologies());
    assert.equal(next.code, 'LEAPCRAFT_RATE_LIMITED');
    assert.match(next.message, /asked to pause for 30 s \(HTTP 429\); not sent/);
    assert.equal(fx.sim.stats.total, 1, 'nothing is sent before the reset');
  });

  it('Retry-After and a reset together: the later one is waited for', async () => {
    const client = fx.client();
    await client.authenticate();
    fx.sim.resetStats();
    fx.sim.injectFault({ kind: 'rate-limit', endpoint: 'things', times: 1, retryAfter: 0, resetAfter: 1, resetHeaders: 'ratelimit' });
    await client.listThings();
    const [limited, retry] = fx.sim.stats.requests;
    assert.ok(retry!.at >= limited!.resetAt!, 'not retried at the Retry-After of 0 s');
  });
});
