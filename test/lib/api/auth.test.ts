/**
 * The account's token (lib/api/auth.ts): kept until refused when its answer tells no lifetime;
 * renewed once 90 % of a told lifetime has passed, when a request wants it, one exchange however
 * many ask, the old token handed out meanwhile until 95 %. On a clock the test moves.
 */
import assert from 'node:assert/strict';
import { forgetSharedTokens, IssuedToken, TokenManager } from '../../../lib/api/auth';
import { LeapcraftAuthError, LeapcraftUnavailableError } from '../../../lib/api/errors';

const T0 = Date.UTC(2026, 2, 30, 9);

/** A token exchange the test answers by hand, one call at a time. */
class Exchange {
  calls: Array<{ resolve: (t: IssuedToken) => void; reject: (e: unknown) => void }> = [];
  fn = (): Promise<IssuedToken> => new Promise((resolve, reject) => this.calls.push({ resolve, reject }));
  answer(token: string, lifetimeMs?: number): void {
    this.calls.shift()!.resolve({ token, lifetimeMs });
  }
  fail(err: unknown): void {
    this.calls.shift()!.reject(err);
  }
}

/** Lets promise callbacks run. */
const settle = () => new Promise((r) => setImmediate(r));

function manager(ex: Exchange, clock: { t: number }, sharedKey?: string): TokenManager {
  return new TokenManager(ex.fn, { authRetryBaseMs: 30_000, authRetryMaxMs: 300_000, now: () => clock.t, sharedKey });
}

async function first(m: TokenManager, ex: Exchange, lifetimeMs?: number): Promise<void> {
  const got = m.get();
  ex.answer('tok-1', lifetimeMs);
  assert.equal(await got, 'tok-1');
}

describe('TokenManager: told lifetimes', () => {
  let clock: { t: number };
  let ex: Exchange;
  beforeEach(() => {
    clock = { t: T0 };
    ex = new Exchange();
  });
  afterEach(() => forgetSharedTokens());

  it('without a lifetime the token is kept however long (renewed only when refused, as before)', async () => {
    const m = manager(ex, clock);
    await first(m, ex);
    clock.t += 365 * 86_400_000;
    assert.equal(await m.get(), 'tok-1');
    assert.equal(m.exchanges, 1);
    m.invalidate('tok-1');
    const next = m.get();
    ex.answer('tok-2');
    assert.equal(await next, 'tok-2');
  });

  it('renews once 90 % has passed: the old token meanwhile, one exchange for every caller, then the new one', async () => {
    const m = manager(ex, clock);
    await first(m, ex, 100_000);
    clock.t = T0 + 89_999;
    assert.equal(await m.get(), 'tok-1');
    assert.equal(m.exchanges, 1);
    clock.t = T0 + 90_000;
    const during = await Promise.all(Array.from({ length: 10 }, () => m.get()));
    assert.deepEqual(new Set(during), new Set(['tok-1']));
    assert.equal(m.exchanges, 2, 'one renewal for ten callers');
    assert.equal(ex.calls.length, 1);
    ex.answer('tok-2', 100_000);
    await settle();
    assert.equal(m.current, 'tok-2');
    assert.equal(await m.get(), 'tok-2');
    // The new token's lifetime counts from its own exchange.
    clock.t = T0 + 90_000 + 89_999;
    assert.equal(await m.get(), 'tok-2');
    assert.equal(m.exchanges, 2);
  });

  it('after 95 % the old token is no longer handed out: callers wait for the renewal', async () => {
    const m = manager(ex, clock);
    await first(m, ex, 100_000);
    clock.t = T0 + 96_000;
    const waiting = m.get();
    assert.equal(m.current, undefined);
    ex.answer('tok-2', 100_000);
    assert.equal(await waiting, 'tok-2');
    assert.equal(m.exchanges, 2);
  });

  it('a renewal that fails: the old token serves until 95 % without a second try, then a new exchange is waited for', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const m = manager(ex, clock);
      await first(m, ex, 100_000);
      clock.t = T0 + 91_000;
      assert.equal(await m.get(), 'tok-1');
      ex.fail(new LeapcraftUnavailableError('POST /auth/client/token failed with HTTP 503'));
      await settle();
      clock.t = T0 + 94_000;
      assert.equal(await m.get(), 'tok-1');
      assert.equal(m.exchanges, 2, 'no second background try');
      clock.t = T0 + 95_000;
      const waiting = m.get();
      ex.answer('tok-2', 100_000);
      assert.equal(await waiting, 'tok-2');
      assert.equal(m.exchanges, 3);
      await settle();
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a renewal refused (the key revoked): after 95 % the refusal and its cool-down, no exchange per request', async () => {
    const m = manager(ex, clock);
    await first(m, ex, 100_000);
    clock.t = T0 + 92_000;
    assert.equal(await m.get(), 'tok-1');
    ex.fail(new LeapcraftAuthError('POST /auth/client/token refused the API key (HTTP 401)'));
    await settle();
    clock.t = T0 + 96_000;
    await assert.rejects(m.get(), { code: 'LEAPCRAFT_AUTH' });
    await assert.rejects(m.get(), { code: 'LEAPCRAFT_AUTH' });
    assert.equal(m.exchanges, 2);
  });

  it('a shared token brings its renewal time to the next manager of the account (a redeploy)', async () => {
    const before = manager(ex, clock, 'account');
    await first(before, ex, 100_000);
    const after = manager(ex, clock, 'account');
    assert.equal(await after.get(), 'tok-1');
    assert.equal(after.exchanges, 0);
    clock.t = T0 + 97_000;
    const waiting = after.get();
    ex.answer('tok-2', 100_000);
    assert.equal(await waiting, 'tok-2');
    assert.equal(manager(ex, clock, 'account').current, 'tok-2');
  });
});
