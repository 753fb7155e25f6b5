/**
 * The editor look-ups' cache (nodes/config/lookup-cache.ts) on its own, with a clock the test
 * moves: simultaneous look-ups share one read, the answer is kept for its TTL, a refresh reads
 * again only an older answer, a failure is not kept, and the cache stays bounded. The routes
 * that use it are tested against the simulator in admin-routes.test.ts.
 */
import assert from 'node:assert/strict';
import { LookupCache } from '../../../nodes/config/lookup-cache';

describe('editor look-up cache', () => {
  let now: number;
  let reads: number;
  const options = () => ({ ttlMs: 30_000, minRefreshMs: 5_000, maxEntries: 3, now: () => now });
  /** A read the test answers when it wants. */
  function deferredRead<T>() {
    let answer!: (value: T) => void;
    let fail!: (err: Error) => void;
    const read = () => {
      reads++;
      return new Promise<T>((resolve, reject) => { answer = resolve; fail = reject; });
    };
    return { read, answer: (v: T) => answer(v), fail: (e: Error) => fail(e) };
  }
  const counted = <T>(value: T) => () => { reads++; return Promise.resolve(value); };

  beforeEach(() => {
    now = 1_000_000;
    reads = 0;
  });

  it('simultaneous look-ups of one key share one read; another key reads on its own', async () => {
    const cache = new LookupCache<string[]>(options());
    const d = deferredRead<string[]>();
    const first = cache.get('acct', false, d.read);
    const second = cache.get('acct', true, d.read);
    const other = cache.get('other', false, counted(['o']));
    assert.equal(reads, 2, 'one read for acct (shared), one for other');
    d.answer(['a', 'b']);
    assert.deepEqual(await Promise.all([first, second, other]), [['a', 'b'], ['a', 'b'], ['o']]);
  });

  it('keeps an answer for its TTL; a refresh reads again only an answer older than minRefreshMs', async () => {
    const cache = new LookupCache<number>(options());
    assert.equal(await cache.get('k', false, counted(1)), 1);
    now += 4_999;
    assert.equal(await cache.get('k', true, counted(2)), 1, 'too fresh to refresh');
    now += 1;
    assert.equal(await cache.get('k', false, counted(3)), 1, 'no refresh asked: still cached');
    assert.equal(await cache.get('k', true, counted(4)), 4, 'refreshed');
    now += 29_999;
    assert.equal(await cache.get('k', false, counted(5)), 4);
    now += 1;
    assert.equal(await cache.get('k', false, counted(6)), 6, 'expired');
    assert.equal(reads, 3);
  });

  it('a failed read is shared by those waiting for it, and not kept', async () => {
    const cache = new LookupCache<number>(options());
    const d = deferredRead<number>();
    const waiting = [cache.get('k', false, d.read), cache.get('k', false, d.read)];
    d.fail(new Error('refused'));
    for (const w of waiting) await assert.rejects(w, /refused/);
    assert.equal(await cache.get('k', false, counted(7)), 7, 'read again');
    assert.equal(reads, 2);
  });

  it('an answer read elsewhere is kept; at most maxEntries, the oldest dropped first', async () => {
    const cache = new LookupCache<string>(options());
    for (const key of ['a', 'b', 'c']) {
      cache.set(key, key.toUpperCase());
      now += 1000;
    }
    cache.set('a', 'A2');
    cache.set('d', 'D');
    assert.equal(await cache.get('a', false, counted('read')), 'A2', 'set again: the newest');
    assert.equal(await cache.get('b', false, counted('b read')), 'b read', 'the oldest went');
    assert.equal(await cache.get('c', false, counted('c read')), 'c read', 'then the next oldest, to make room for b');
    assert.equal(reads, 2);
  });
});
