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

export class TokenStore {
  private readonly issuedAt = new Map<string, number>();

  constructor(
    private readonly now: () => number,
    public lifetimeMs: number,
  ) {}

  issue(): string {
    // 24 random bytes → 48 hex chars, like the docs' long opaque sample.
    const token = randomBytes(24).toString('hex');
    this.issuedAt.set(token, this.now());
    if (this.issuedAt.size > MAX_TOKENS) {
      const oldest = this.issuedAt.keys().next();
      if (!oldest.done) this.issuedAt.delete(oldest.value);
    }
    return token;
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
