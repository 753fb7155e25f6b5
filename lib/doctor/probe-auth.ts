/** The token probes: the exchange with the key (and the form of its answer), a made-up key, a made-up token. */
import { type Dialect } from '../api/dialects';
import { isBearerType, readTokenAnswer, TokenAnswer } from '../api/token-answer';
import { fieldList, isObject } from './answers';
import { DoctorSession, randomHex } from './session';

/** Fields a token answer may carry besides the token (token-answer.ts reads them). */
const TOKEN_ANSWER_FIELDS = new Set(['type', 'token_type', 'tokenType', 'expires_in', 'expiresIn', 'expires_at', 'expiresAt']);

/** The tokenBody reading of an answer, when it is one of the table's. */
function tokenBodyOf(answer: TokenAnswer): Dialect['tokenBody'] | undefined {
  if (answer.field === 'access_token' && answer.lifetimeFrom === 'expires_in') return 'oauth2';
  if (answer.field !== 'token') return undefined;
  if (answer.lifetimeFrom === undefined) return 'sample';
  return answer.lifetimeFrom === 'expires_at' ? 'expires-at' : answer.lifetimeFrom === 'exp' ? 'jwt' : undefined;
}

const LIFETIME_TEXT = { expires_in: 'expires_in', expires_at: 'expires_at', exp: "the JWT's exp" } as const;

/** tokenBody: which form the token answer takes, and whether it tells a lifetime. */
function tokenForm(s: DoctorSession, body: Record<string, unknown>, answer: TokenAnswer): void {
  const type = answer.type === undefined ? 'no type' : `a type (${answer.type.trim().toLowerCase() === 'bearer' ? 'bearer' : 'not bearer'})`;
  const lifetime = answer.lifetimeFrom ? `its lifetime told by ${LIFETIME_TEXT[answer.lifetimeFrom]}` : 'no lifetime';
  const evidence = `the token under "${answer.field}", ${type}, ${lifetime}`;
  const form = tokenBodyOf(answer);
  if (form !== undefined) s.found('tokenBody', form, evidence);
  else s.cannotTell('tokenBody', `${evidence}: not one of the table's forms (the client reads it all the same)`);
  if (!isBearerType(answer.type)) s.surprise('the token answer names a type other than bearer (the token is sent as a bearer token all the same)');
  const extra = Object.keys(body).filter((k) => k !== answer.field && !TOKEN_ANSWER_FIELDS.has(k));
  if (extra.length > 0) s.surprise(`the token answer carries further fields: ${fieldList(extra)}`);
}

/** The token exchange with the key: needed for everything after it. */
export async function tokenWithKey(s: DoctorSession): Promise<string | undefined> {
  const label = 'POST /auth/client/token';
  const askedAt = Date.now();
  const a = await s.send(label, { method: 'POST', path: '/auth/client/token', form: { api_key: s.apiKey } });
  if (!a) {
    s.outcome = 'unavailable';
    s.stopped = 'the API did not answer';
    return undefined;
  }
  const answer = readTokenAnswer(a.json, askedAt);
  if (a.status >= 200 && a.status < 300 && answer !== undefined) {
    s.secret(answer.token);
    tokenForm(s, a.json as Record<string, unknown>, answer);
    return answer.token;
  }
  if ((a.status >= 400 && a.status < 500 && a.status !== 429 && a.status !== 408) || (a.status >= 200 && a.status < 300)) {
    s.outcome = 'key-refused';
    s.surprise(`the API key was refused: HTTP ${a.status}${a.status < 300 ? ' without a token' : ''}`);
    return undefined;
  }
  s.outcome = 'unavailable';
  s.surprise(`the token exchange answered HTTP ${a.status}: no token, nothing else could be checked`);
  s.stopped = `the token exchange answered HTTP ${a.status}`;
  return undefined;
}

/** refusedKey: a made-up key, as a wrong one would be. */
export async function refusedKey(s: DoctorSession): Promise<void> {
  const label = 'POST /auth/client/token (made-up key)';
  const bogus = `leapcraft-doctor-${randomHex(16)}`;
  s.secret(bogus);
  const a = await s.send(label, { method: 'POST', path: '/auth/client/token', form: { api_key: bogus } });
  if (!a) return s.noAnswer('refusedKey', 'a made-up key');
  const body = isObject(a.json) ? ` (body fields: ${fieldList(Object.keys(a.json)) || 'none'})` : '';
  const realKey = s.statuses['POST /auth/client/token'];
  if (s.outcome === 'key-refused' && typeof realKey === 'number' && realKey !== a.status) {
    s.surprise(`the key was refused with HTTP ${realKey}, a made-up key with HTTP ${a.status}`);
  }
  if (a.status === 401 || a.status === 400 || a.status === 403) {
    return s.found('refusedKey', a.status, `a made-up key got HTTP ${a.status}${body}`);
  }
  if (a.status >= 200 && a.status < 300) {
    const given = readTokenAnswer(a.json, Date.now());
    if (given !== undefined) {
      s.secret(given.token);
      s.surprise('a made-up API key was given a token');
      return s.cannotTell('refusedKey', `a made-up key got HTTP ${a.status} with a token`);
    }
    return s.found('refusedKey', '200-no-token', `a made-up key got HTTP ${a.status} without a token${body}`);
  }
  if (a.status >= 400 && a.status < 500 && a.status !== 429) {
    s.surprise(`a made-up key got HTTP ${a.status}, none of the readings the simulator knows (401, 400, 403, 200 without a token)`);
  }
  s.cannotTell('refusedKey', `a made-up key got HTTP ${a.status}`);
}

/** expiredToken, inferred from a token that was never issued. */
export async function expiredToken(s: DoctorSession): Promise<void> {
  const label = 'GET /devices?limit=1 (made-up token)';
  const bogus = randomHex(24);
  s.secret(bogus);
  const a = await s.send(label, { path: '/devices', query: { limit: 1 }, bearer: bogus });
  if (!a) return s.noAnswer('expiredToken', 'a made-up token');
  const inferred = 'inferred from a made-up token (never issued): an expired one may still be answered differently';
  const challenge = a.headers['www-authenticate'] !== undefined ? 'with' : 'without';
  if (a.status === 401 || a.status === 403) {
    return s.found('expiredToken', a.status, `a made-up bearer token got HTTP ${a.status} ${challenge} a WWW-Authenticate challenge; ${inferred}`);
  }
  if (a.status >= 200 && a.status < 300) s.surprise('a made-up bearer token was accepted (HTTP 2xx)');
  else if (a.status !== 429) s.surprise(`a made-up bearer token got HTTP ${a.status}, neither 401 nor 403`);
  s.cannotTell('expiredToken', `a made-up bearer token got HTTP ${a.status}`);
}

/**
 * liveTokens: a second exchange with the key, then a request with the first token. A server that
 * keeps one live token per key refuses the first one now. (The check's own first exchange already
 * revoked whatever token a running flow held on such a server: this one costs nothing more.)
 */
export async function liveTokens(s: DoctorSession, first: string): Promise<void> {
  const second = await s.send('POST /auth/client/token (second exchange)', { method: 'POST', path: '/auth/client/token', form: { api_key: s.apiKey } });
  const answer = second && second.status >= 200 && second.status < 300 ? readTokenAnswer(second.json, Date.now()) : undefined;
  if (!answer) return second ? s.cannotTell('liveTokens', `a second exchange got HTTP ${second.status} without a token`) : s.noAnswer('liveTokens', 'a second exchange');
  s.secret(answer.token);
  const label = 'GET /things?limit=1 (first token)';
  const a = await s.send(label, { path: '/things', query: { limit: 1 }, bearer: first });
  if (!a) return s.noAnswer('liveTokens', 'the first token after a second exchange');
  if (a.status === 401 || a.status === 403) return s.found('liveTokens', 'one', `after a second exchange the first token got HTTP ${a.status}`);
  if (a.status >= 200 && a.status < 300) return s.found('liveTokens', 'many', `after a second exchange the first token still got HTTP ${a.status}`);
  s.cannotTell('liveTokens', `after a second exchange the first token got HTTP ${a.status}`);
}
