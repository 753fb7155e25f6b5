/**
 * The cluster's one token, against a real redis-server: one exchange however many members ask at
 * once, a refused token never handed out again, the token unreadable without the API key, and each
 * member on its own when Redis is gone.
 */
import assert from 'node:assert/strict';
import { IssuedToken } from '../../lib/api/auth';
import { ClusterMember } from '../../lib/cluster/member';
import { SharedTokenStore } from '../../lib/cluster/token-store';
import { RedisServer } from '../support/redis';
import { sleep, waitFor } from '../support/wait';

describe('cluster: the shared token (real Redis)', function () {
  this.timeout(30_000);
  let redis: RedisServer;
  const members: ClusterMember[] = [];
  before(async () => {
    redis = new RedisServer();
    await redis.start();
  });
  after(async () => {
    for (const m of members) m.release();
    await redis.dispose();
  });

  /** Two members of one cluster in this process: the same Redis under two spellings of its URL. */
  async function twoMembers(): Promise<[ClusterMember, ClusterMember]> {
    const a = ClusterMember.join(`redis://127.0.0.1:${redis.port}`);
    const b = ClusterMember.join(`redis://localhost:${redis.port}`);
    members.push(a, b);
    await waitFor(() => a.link.up && b.link.up, 5000, 'both links up');
    return [a, b];
  }

  it('one exchange for members asking at once; a refused token is replaced once; Redis holds no readable token', async () => {
    const [a, b] = await twoMembers();
    const hash = 'test-hash-1';
    let exchanges = 0;
    const exchange = async (): Promise<IssuedToken> => {
      exchanges++;
      // A slow exchange (a fake's latency): the three callers are all waiting on it at once.
      await sleep(200);
      return { token: `token-${exchanges}`, lifetimeMs: 60_000 };
    };
    const sa = new SharedTokenStore(a, hash, 'the-api-key');
    const sb = new SharedTokenStore(b, hash, 'the-api-key');
    const got = await Promise.all([sa.obtain(exchange, undefined), sb.obtain(exchange, undefined), sa.obtain(exchange, undefined)]);
    assert.deepEqual(got.map((t) => t.token), ['token-1', 'token-1', 'token-1']);
    assert.equal(exchanges, 1);
    const stored = await a.link.cmd.get(`{leapcraft:${hash}}:token`);
    assert.ok(stored && !stored.includes('token-1'), 'encrypted in Redis');
    // Both refused token-1: one exchange, and nobody revokes the token the other just got.
    const renewed = await Promise.all([sa.obtain(exchange, 'token-1'), sb.obtain(exchange, 'token-1')]);
    assert.deepEqual(renewed.map((t) => t.token), ['token-2', 'token-2']);
    assert.equal(exchanges, 2);
    assert.equal((await sb.peek())?.token, 'token-2');
    // Another key cannot read it: it exchanges its own.
    const other = new SharedTokenStore(a, hash, 'another-key');
    assert.equal(await other.peek(), undefined);
  });

  it('with Redis gone each member exchanges for itself', async () => {
    const [a] = await twoMembers();
    await redis.stop();
    await waitFor(() => !a.link.up, 5000, 'the link down');
    let exchanges = 0;
    const store = new SharedTokenStore(a, 'test-hash-2', 'k');
    const t = await store.obtain(async () => ({ token: `alone-${++exchanges}` }), undefined);
    assert.equal(t.token, 'alone-1');
    await redis.start();
    await waitFor(() => a.link.up, 10_000, 'the link up again');
  });
});
