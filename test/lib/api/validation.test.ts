import assert from 'node:assert/strict';
import {
  formatApiDateTime, integerInRange, limitOrAll, parseDateTime, requireId, telemetryQuery, validateBaseUrl,
  parseRetryAfter, backoffDelay, LeapcraftError,
} from '../../../lib';

function invalid(fn: () => unknown, field?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof LeapcraftError);
    assert.equal(err.code, 'LEAPCRAFT_INVALID_INPUT');
    if (field) assert.equal(err.field, field);
    return true;
  });
}

describe('validation', () => {
  describe('requireId', () => {
    it('accepts MAC-like, free-form, numeric and unicode ids', () => {
      assert.equal(requireId('D2:C1:AA:FF:3E:09', 'id'), 'D2:C1:AA:FF:3E:09');
      assert.equal(requireId(' testsim00004 ', 'id'), 'testsim00004');
      assert.equal(requireId(42, 'id'), '42');
      assert.equal(requireId('Büro-Sensor €', 'id'), 'Büro-Sensor €');
    });
    it('refuses empty, non-string, huge, control-character and dot-segment ids', () => {
      for (const bad of ['', '   ', null, undefined, {}, [], true, NaN, 'x'.repeat(10_000), 'a\nb', 'a\u0000b', '.', '..']) {
        invalid(() => requireId(bad, 'physical_id'), 'physical_id');
      }
    });
  });

  describe('numbers', () => {
    it('accepts integers and integer strings in range', () => {
      assert.equal(integerInRange(50, 'limit', 1, 50), 50);
      assert.equal(integerInRange('7', 'limit', 1, 50), 7);
      assert.equal(limitOrAll(-1, 'limit'), -1);
      assert.equal(limitOrAll('25', 'limit'), 25);
    });
    it('refuses 0, 51, -2, "abc", 1.5 and objects', () => {
      for (const bad of [0, 51, -2, 'abc', 1.5, {}, null, '']) invalid(() => integerInRange(bad, 'limit', 1, 50), 'limit');
      for (const bad of [0, -2, 'abc', 2.5, Infinity]) invalid(() => limitOrAll(bad, 'limit'), 'limit');
    });
  });

  describe('parseDateTime', () => {
    const now = Date.UTC(2026, 2, 29, 12, 0, 0);
    it('reads the docs form without zone as UTC', () => {
      assert.equal(parseDateTime('2021-05-26T00:00:00.000', 'from').toISOString(), '2021-05-26T00:00:00.000Z');
      assert.equal(parseDateTime('2021-05-27T11:42:58.721', 'to').toISOString(), '2021-05-27T11:42:58.721Z');
    });
    it('honours Z and offsets, dates, epoch ms and Date objects', () => {
      assert.equal(parseDateTime('2026-03-29T15:24:05Z', 'x').toISOString(), '2026-03-29T15:24:05.000Z');
      assert.equal(parseDateTime('2026-03-29T17:24:05+02:00', 'x').toISOString(), '2026-03-29T15:24:05.000Z');
      assert.equal(parseDateTime('2026-03-29', 'x').toISOString(), '2026-03-29T00:00:00.000Z');
      assert.equal(parseDateTime(0, 'x').getTime(), 0);
      assert.equal(parseDateTime(new Date(now), 'x').getTime(), now);
    });
    it('reads -3M as three calendar months and -3m as three minutes; other units and cases are refused', () => {
      const now = Date.UTC(2026, 4, 31, 12, 0, 0); // 31 May 2026
      assert.equal(parseDateTime('-3m', 'x', now).getTime(), now - 3 * 60e3);
      assert.equal(parseDateTime('-3M', 'x', now).toISOString(), '2026-02-28T12:00:00.000Z');
      assert.equal(parseDateTime('-12M', 'x', now).toISOString(), '2025-05-31T12:00:00.000Z');
      for (const bad of ['-3H', '-3D', '-3W', '-3S', '-1.5M', '-3y', '-3']) {
        assert.throws(() => parseDateTime(bad, 'x', now), /Invalid x/, bad);
      }
    });

    it('understands now and relative times', () => {
      assert.equal(parseDateTime('now', 'x', now).getTime(), now);
      assert.equal(parseDateTime('-24h', 'x', now).getTime(), now - 24 * 3600e3);
      assert.equal(parseDateTime('-7d', 'x', now).getTime(), now - 7 * 86400e3);
      assert.equal(parseDateTime('-15m', 'x', now).getTime(), now - 15 * 60e3);
    });
    it('refuses unparseable and impossible dates', () => {
      for (const bad of ['yesterday', '2026-02-30T00:00:00', '2026-13-01', '2026-01-01T25:00:00', '', '12/03/2026', -5, {}, null, new Date(NaN), '10000-01-01', '+7d']) {
        invalid(() => parseDateTime(bad, 'from'), 'from');
      }
    });
    it('formats in the docs shape, UTC without zone', () => {
      assert.equal(formatApiDateTime(new Date('2021-05-26T00:00:00Z')), '2021-05-26T00:00:00.000');
    });
  });

  describe('telemetryQuery', () => {
    it('defaults to latest', () => {
      assert.deepEqual(telemetryQuery({}), { type: 'latest' });
    });
    it('requires resolution, from and to for averages, with from <= to', () => {
      const q = telemetryQuery({ type: 'averages', resolution: 'daily', from: '-7d', to: 'now' });
      assert.equal(q.type, 'averages');
      invalid(() => telemetryQuery({ type: 'averages', from: '-7d', to: 'now' }), 'resolution');
      invalid(() => telemetryQuery({ type: 'averages', resolution: 'hourly', from: '-7d', to: 'now' }), 'resolution');
      invalid(() => telemetryQuery({ type: 'averages', resolution: 'daily', to: 'now' }), 'from');
      invalid(() => telemetryQuery({ type: 'averages', resolution: 'daily', from: '-1d' }), 'to');
      invalid(() => telemetryQuery({ type: 'averages', resolution: 'daily', from: 'now', to: '-1d' }), 'from');
      invalid(() => telemetryQuery({ type: 'raw' }), 'type');
    });
  });

  describe('validateBaseUrl', () => {
    it('accepts https anywhere and http on loopback only', () => {
      assert.equal(validateBaseUrl('https://api.leapcraft.com/v1/'), 'https://api.leapcraft.com/v1');
      assert.equal(validateBaseUrl('http://127.0.0.1:8787/v1'), 'http://127.0.0.1:8787/v1');
      assert.equal(validateBaseUrl('http://localhost:8787/v1'), 'http://localhost:8787/v1');
      assert.equal(validateBaseUrl('http://[::1]:8787/v1'), 'http://[::1]:8787/v1');
    });
    it('refuses plain http elsewhere, other schemes, credentials and queries', () => {
      for (const bad of ['http://api.leapcraft.com/v1', 'http://192.168.1.10/v1', 'ftp://x/v1', 'https://u:p@x/v1', 'https://x/v1?a=1', 'not a url', '', 42]) {
        invalid(() => validateBaseUrl(bad), 'baseUrl');
      }
    });
  });

  describe('retry timing', () => {
    it('reads Retry-After as seconds or an HTTP date', () => {
      const now = Date.UTC(2026, 0, 1, 0, 0, 0);
      assert.equal(parseRetryAfter('1', now), 1000);
      assert.equal(parseRetryAfter('0.5', now), 500);
      assert.equal(parseRetryAfter(new Date(now + 3000).toUTCString(), now), 3000);
      assert.equal(parseRetryAfter(new Date(now - 3000).toUTCString(), now), 0);
      assert.equal(parseRetryAfter('soon', now), undefined);
      assert.equal(parseRetryAfter(undefined, now), undefined);
    });
    it('backs off exponentially with jitter, capped', () => {
      assert.equal(backoffDelay(0, 100, 10_000, () => 0), 50);
      assert.equal(backoffDelay(0, 100, 10_000, () => 1), 100);
      assert.equal(backoffDelay(3, 100, 10_000, () => 0), 400);
      assert.equal(backoffDelay(20, 100, 10_000, () => 1), 10_000);
    });
  });
});
