/** The Redis URL setting: the three forms, a password from the credential, errors that never show the password. */
import assert from 'node:assert/strict';
import { parseRedisUrl, redactRedisUrl } from '../../../lib/cluster/redis-url';
import { redisUrlSetting } from '../../../lib/cluster/share';
import { decodeAnswer, encodeAnswer } from '../../../lib/cluster/codec';
import { LeapcraftRateLimitError } from '../../../lib/api/errors';

describe('cluster: the Redis URL setting', () => {
  it('reads a single Redis, TLS, a database, user and password', () => {
    assert.deepEqual(parseRedisUrl('redis://127.0.0.1'), { kind: 'single', tls: false, endpoints: [{ host: '127.0.0.1', port: 6379 }] });
    assert.deepEqual(parseRedisUrl('rediss://app:p%40ss@redis.example:6380/2'), {
      kind: 'single', tls: true, endpoints: [{ host: 'redis.example', port: 6380 }], username: 'app', password: 'p@ss', db: 2,
    });
    assert.equal(parseRedisUrl('redis://:secret@h').password, 'secret');
    assert.equal(parseRedisUrl('redis://:inurl@h', 'credential').password, 'credential', 'the credential wins');
    assert.deepEqual(parseRedisUrl('redis://[::1]:7000').endpoints, [{ host: '::1', port: 7000 }]);
  });

  it('reads Sentinel and Cluster forms', () => {
    assert.deepEqual(parseRedisUrl('redis+sentinel://s1:26379,s2/mymaster/1'), {
      kind: 'sentinel', tls: false, endpoints: [{ host: 's1', port: 26379 }, { host: 's2', port: 26379 }], masterName: 'mymaster', db: 1,
    });
    assert.deepEqual(parseRedisUrl('rediss+cluster://c1:7000,c2:7001'), {
      kind: 'cluster', tls: true, endpoints: [{ host: 'c1', port: 7000 }, { host: 'c2', port: 7001 }],
    });
  });

  it('refuses what it cannot use with LEAPCRAFT_INVALID_INPUT, never quoting the password', () => {
    for (const bad of ['http://u:topsecret@h', 'redis://u:topsecret@h1,h2', 'redis+sentinel://u:topsecret@s1', 'redis+cluster://u:topsecret@c1/3', 'redis://u:topsecret@h:99999', 'redis://u:topsecret@h/abc']) {
      assert.throws(() => parseRedisUrl(bad), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'LEAPCRAFT_INVALID_INPUT', bad);
        assert.doesNotMatch(err.message, /topsecret/, err.message);
        return true;
      });
    }
    assert.equal(redactRedisUrl('redis://u:topsecret@h:6379/0'), 'redis://***@h:6379/0');
  });

  it('the setting, else LEAPCRAFT_REDIS_URL, else not shared', () => {
    assert.equal(redisUrlSetting('  redis://a  ', { LEAPCRAFT_REDIS_URL: 'redis://b' }), 'redis://a');
    assert.equal(redisUrlSetting('', { LEAPCRAFT_REDIS_URL: 'redis://b' }), 'redis://b');
    assert.equal(redisUrlSetting(undefined, {}), undefined);
    assert.throws(() => redisUrlSetting('', { LEAPCRAFT_REDIS_URL: 'mysql://x' }), /not a redis/);
  });
});

describe('cluster: answers as they travel through Redis', () => {
  it('a value and a failure arrive as they left; anything else is dropped, never thrown', () => {
    const value = { kind: 'value' as const, key: 'k', intervalMs: 60_000, value: { a: [1, 2] }, at: 5, meta: { round: true, news: false }, fetched: true };
    assert.deepEqual(decodeAnswer(encodeAnswer(3, value)), { fence: 3, answer: value });
    const failure = decodeAnswer(encodeAnswer(4, { kind: 'failure', key: 'k', intervalMs: 1000, at: 9, error: new LeapcraftRateLimitError('GET /devices: 429', { status: 429, retryAfterMs: 2000, endpoint: 'GET /devices' }) }));
    assert.equal(failure?.fence, 4);
    const err = failure?.answer.kind === 'failure' ? failure.answer.error as LeapcraftRateLimitError : undefined;
    assert.deepEqual([err?.code, err?.message, err?.status, err?.retryAfterMs, err?.endpoint], ['LEAPCRAFT_RATE_LIMITED', 'GET /devices: 429', 429, 2000, 'GET /devices']);
    for (const junk of ['', 'null', '{}', '[]', '{"fence":"1"}', '{"fence":1,"answer":{"kind":"value","key":1}}',
      '{"fence":1,"answer":{"kind":"failure","key":"k","intervalMs":1,"at":1,"error":{"code":"EVIL","message":"x"}}}',
      '{"fence":1,"answer":{"kind":"value","key":"k","intervalMs":1,"at":1,"meta":{"round":"yes","news":false}}}']) {
      assert.equal(decodeAnswer(junk), undefined, junk);
    }
  });
});
