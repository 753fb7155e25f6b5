/**
 * Reading the token exchange's answer. The docs show `{"type": "bearer", "token": "…"}` and no
 * lifetime; servers that keep to every word of them may still answer in OAuth 2's form
 * (`{"access_token", "token_type": "Bearer", "expires_in"}`), tell an `expires_at`, or hand out
 * a JWT whose `exp` says when it ends (docs/API.md). A lifetime, when told, lets the account
 * renew shortly before the token ends instead of paying a refused request.
 */

/** Where a token may be found, in the order looked at. */
export const TOKEN_FIELDS = ['token', 'access_token', 'accessToken', 'jwt'] as const;
export type TokenField = (typeof TOKEN_FIELDS)[number];

export type LifetimeSource = 'expires_in' | 'expires_at' | 'exp';

export interface TokenAnswer {
  token: string;
  /** The field it came from. */
  field: TokenField;
  /** The answer's type (`type` or `token_type`), as sent; any case of "bearer" is a bearer token. */
  type?: string;
  /** How long the token lives from when it was asked for, in ms; undefined when the answer does not say. */
  lifetimeMs?: number;
  /** What told the lifetime (`expires_in` also stands for `expiresIn`, `expires_at` for `expiresAt`). */
  lifetimeFrom?: LifetimeSource;
}

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A number, or a string holding one (some servers quote every value). */
function numeric(value: unknown): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** Epoch seconds or milliseconds (told apart by size: seconds stay below 1e11 until the year 5138). */
const epochMs = (n: number): number => (Math.abs(n) < 1e11 ? n * 1000 : n);

/** An absolute time: epoch seconds or milliseconds, or a date-time string with its zone. */
function timeMs(value: unknown): number | undefined {
  const n = numeric(value);
  if (n !== undefined) return epochMs(n);
  if (typeof value !== 'string' || !/(?:Z|[+-]\d\d:?\d\d)$/i.test(value.trim())) return undefined;
  const t = Date.parse(value.trim());
  return Number.isNaN(t) ? undefined : t;
}

/** The `exp` claim of a JWT (three base64url parts, the middle one JSON); undefined for any other token. */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3 || !/^[A-Za-z0-9_-]+$/.test(parts[1] ?? '')) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1] as string, 'base64url').toString('utf8')) as unknown;
    const exp = isObject(claims) ? numeric(claims.exp) : undefined;
    return exp === undefined ? undefined : exp * 1000;
  } catch {
    return undefined;
  }
}

/**
 * The token and what the answer says of its lifetime; undefined when the answer holds no token.
 * `askedAt`: when the exchange was sent (the clock an `expires_at` or `exp` is measured
 * against). A lifetime that is not positive (a clock far off, a token already over) or not a
 * number is left out: the token is then kept until the API refuses it, as without one.
 */
export function readTokenAnswer(body: unknown, askedAt: number): TokenAnswer | undefined {
  if (!isObject(body)) return undefined;
  const field = TOKEN_FIELDS.find((f) => typeof body[f] === 'string' && (body[f] as string).trim() !== '');
  if (field === undefined) return undefined;
  const token = (body[field] as string).trim();
  const typeValue = body.token_type ?? body.tokenType ?? body.type;
  const answer: TokenAnswer = { token, field, ...(typeof typeValue === 'string' ? { type: typeValue } : {}) };

  const expiresIn = numeric(body.expires_in ?? body.expiresIn);
  const expiresAt = timeMs(body.expires_at ?? body.expiresAt);
  const exp = jwtExpiry(token);
  let lifetime: { ms: number; from: LifetimeSource } | undefined;
  if (expiresIn !== undefined) lifetime = { ms: expiresIn * 1000, from: 'expires_in' };
  else if (expiresAt !== undefined) lifetime = { ms: expiresAt - askedAt, from: 'expires_at' };
  else if (exp !== undefined) lifetime = { ms: exp - askedAt, from: 'exp' };
  if (lifetime && lifetime.ms > 0) {
    answer.lifetimeMs = lifetime.ms;
    answer.lifetimeFrom = lifetime.from;
  }
  return answer;
}

/** Whether a type names a bearer token (any case); an answer without a type is taken as one. */
export function isBearerType(type: string | undefined): boolean {
  return type === undefined || type.trim().toLowerCase() === 'bearer';
}
