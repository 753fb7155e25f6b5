/**
 * Bearer tokens: issue, check, revoke. Several tokens are valid at once (issuing one does not
 * revoke the others), as nothing in the docs says otherwise and clients running several nodes
 * may well exchange the key more than once.
 *
 * A token's age is checked against the lifetime in force at the time of the check, so shortening
 * the lifetime at runtime expires existing tokens too (handy for out-of-process expiry tests).
 */
import { randomBytes } from 'node:crypto';

export type TokenState = 'valid' | 'expired' | 'unknown';

/** Oldest tokens are forgotten beyond this many, so a token-hungry client cannot exhaust memory. */
const MAX_TOKENS = 50_000;

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * A JWT carrying its expiry (`exp`, seconds since the epoch, rounded down) and a random id. Its
 * signature is random bytes: the simulator only ever looks tokens up, it never verifies one.
 */
function jwt(issuedAt: number, lifetimeMs: number): string {
  const claims: Record<string, unknown> = { sub: 'leapcraft-simulator', iat: Math.floor(issuedAt / 1000), jti: randomBytes(12).toString('hex') };
  if (Number.isFinite(lifetimeMs)) claims.exp = Math.floor((issuedAt + lifetimeMs) / 1000);
  return `${base64url({ alg: 'HS256', typ: 'JWT' })}.${base64url(claims)}.${randomBytes(32).toString('base64url')}`;
}

export class TokenStore {
  private readonly issuedAt = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    public lifetimeMs: number,
  ) {}

  /** A new token: 48 hex characters like the docs' long opaque sample, or a JWT. */
  issue(form: 'opaque' | 'jwt' = 'opaque'): { token: string; issuedAt: number } {
    const issuedAt = this.now();
    const token = form === 'jwt' ? jwt(issuedAt, this.lifetimeMs) : randomBytes(24).toString('hex');
    this.issuedAt.set(token, issuedAt);
    if (this.issuedAt.size > MAX_TOKENS) {
      const oldest = this.issuedAt.keys().next();
      if (!oldest.done) this.issuedAt.delete(oldest.value);
    }
    return { token, issuedAt };
  }

  check(token: string): TokenState {
    const at = this.issuedAt.get(token);
    if (at === undefined) return 'unknown';
    return this.now() - at < this.lifetimeMs ? 'valid' : 'expired';
  }

  revokeAll(): void {
    this.issuedAt.clear();
  }
}
