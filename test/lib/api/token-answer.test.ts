/** The token exchange's answer in every form a server may give it (lib/api/token-answer.ts). */
import assert from 'node:assert/strict';
import { isBearerType, jwtExpiry, readTokenAnswer } from '../../../lib/api/token-answer';

const ASKED = Date.UTC(2026, 2, 30, 9, 0, 0);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const jwt = (claims: unknown) => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(claims)}.c2lnbmF0dXJl`;

describe('readTokenAnswer', () => {
  it('the docs\' sample: the token, its type, no lifetime', () => {
    assert.deepEqual(readTokenAnswer({ type: 'bearer', token: 'abc123' }, ASKED), { token: 'abc123', field: 'token', type: 'bearer' });
  });

  it('OAuth 2: access_token with token_type and expires_in (seconds, also quoted)', () => {
    assert.deepEqual(readTokenAnswer({ access_token: 'abc', token_type: 'Bearer', expires_in: 3600 }, ASKED), {
      token: 'abc', field: 'access_token', type: 'Bearer', lifetimeMs: 3_600_000, lifetimeFrom: 'expires_in',
    });
    assert.equal(readTokenAnswer({ access_token: 'abc', expires_in: '90' }, ASKED)?.lifetimeMs, 90_000);
    assert.equal(readTokenAnswer({ accessToken: 'abc', tokenType: 'BEARER', expiresIn: 60 }, ASKED)?.lifetimeMs, 60_000);
  });

  it('finds the token under token, access_token, accessToken or jwt, trimmed; none is undefined', () => {
    assert.equal(readTokenAnswer({ accessToken: ' t1 ' }, ASKED)?.token, 't1');
    assert.equal(readTokenAnswer({ jwt: 't2' }, ASKED)?.field, 'jwt');
    assert.equal(readTokenAnswer({ token: '', access_token: 't3' }, ASKED)?.field, 'access_token');
    for (const body of [{}, { token: '   ' }, { token: 42 }, { error: 'invalid_api_key', message: 'no' }, [], null, 'token', 7]) {
      assert.equal(readTokenAnswer(body, ASKED), undefined, JSON.stringify(body));
    }
  });

  it('expires_at as a zoned date-time, epoch seconds or epoch milliseconds; a zone-less one is not read', () => {
    const at = (v: unknown) => readTokenAnswer({ token: 't', expires_at: v }, ASKED);
    assert.deepEqual(at('2026-03-30T10:00:00Z'), { token: 't', field: 'token', lifetimeMs: 3_600_000, lifetimeFrom: 'expires_at' });
    assert.equal(at('2026-03-30T12:00:00+02:00')?.lifetimeMs, 3_600_000);
    assert.equal(at((ASKED + 120_000) / 1000)?.lifetimeMs, 120_000);
    assert.equal(at(ASKED + 120_000)?.lifetimeMs, 120_000);
    assert.equal(at('2026-03-30T10:00:00')?.lifetimeMs, undefined);
    assert.equal(readTokenAnswer({ token: 't', expiresAt: '2026-03-30T09:30:00.000Z' }, ASKED)?.lifetimeMs, 1_800_000);
  });

  it('a JWT\'s exp, when nothing else tells the lifetime', () => {
    const token = jwt({ sub: 'x', exp: ASKED / 1000 + 600 });
    assert.equal(jwtExpiry(token), ASKED + 600_000);
    assert.deepEqual(readTokenAnswer({ type: 'bearer', token }, ASKED), { token, field: 'token', type: 'bearer', lifetimeMs: 600_000, lifetimeFrom: 'exp' });
    assert.equal(readTokenAnswer({ token, expires_in: 60 }, ASKED)?.lifetimeFrom, 'expires_in');
    assert.equal(readTokenAnswer({ token, expires_at: '2026-03-30T09:02:00Z' }, ASKED)?.lifetimeFrom, 'expires_at');
    for (const bad of ['a.b', 'a.!!.c', `${b64({})}.${b64({ exp: 'soon' })}.x`, `${b64({})}.${Buffer.from('not json').toString('base64url')}.x`, 'abc123']) {
      assert.equal(jwtExpiry(bad), undefined, bad);
    }
  });

  it('a lifetime that is not positive (already over, a clock far off) is left out', () => {
    assert.equal(readTokenAnswer({ token: 't', expires_in: 0 }, ASKED)?.lifetimeMs, undefined);
    assert.equal(readTokenAnswer({ token: 't', expires_in: -5 }, ASKED)?.lifetimeMs, undefined);
    assert.equal(readTokenAnswer({ token: 't', expires_in: 'soon' }, ASKED)?.lifetimeMs, undefined);
    assert.equal(readTokenAnswer({ token: 't', expires_at: '2026-03-30T08:00:00Z' }, ASKED)?.lifetimeMs, undefined);
    assert.equal(readTokenAnswer({ token: jwt({ exp: ASKED / 1000 - 1 }) }, ASKED)?.lifetimeMs, undefined);
  });

  it('isBearerType: any case of bearer, or no type', () => {
    for (const t of ['bearer', 'Bearer', 'BEARER', ' bearer ', undefined]) assert.equal(isBearerType(t), true, String(t));
    for (const t of ['mac', 'basic', '']) assert.equal(isBearerType(t), false, t);
  });
});
