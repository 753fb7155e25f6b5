/**
 * The account's bearer token. The API returns no lifetime, so a token is kept until the
 * API refuses it. However many requests need a token at once, one exchange is in flight;
 * after the key itself is refused, further exchanges wait out a growing cool-down so a
 * wrong key does not hammer the token endpoint from every poll.
 */
import { createHash } from 'node:crypto';
import { raceAbort } from './abort';
import { LeapcraftError } from './errors';

export interface TokenManagerOptions {
  /** First cool-down after the key was refused; doubles up to the maximum. */
  authRetryBaseMs: number;
  authRetryMaxMs: number;
  now?: () => number;
  /**
   * Share the token with later managers of the same account in this process (see
   * `accountTokenKey`): Node-RED restarts config nodes on every full deploy, and an unchanged
   * account should not exchange its key again each time.
   */
  sharedKey?: string;
  /** Told when the key is refused (with the error) and when it is taken again (undefined). */
  onKeyState?: (refusal: LeapcraftError | undefined) => void;
}

/**
 * Tokens by account (base URL and a digest of the key), kept in this process's memory only:
 * never written anywhere, gone with the process. A token the API refuses is removed here too.
 */
const sharedTokens = new Map<string, string>();

/**
 * Forgets every shared token. For a host that knows the server behind a base URL has changed:
 * tests, whose simulators come and go on ports the system hands out again.
 */
export function forgetSharedTokens(): void {
  sharedTokens.clear();
}

/** The key of an account's shared token: the key itself appears only as a SHA-256 digest. */
export function accountTokenKey(baseUrl: string, apiKey: string): string {
  return `${baseUrl}\n${createHash('sha256').update(apiKey).digest('hex')}`;
}

export type TokenExchange = () => Promise<string>;

export class TokenManager {
  private token?: string;
  private pending?: Promise<string>;
  private refusal?: { error: LeapcraftError; until: number; count: number };
  /** Exchanges sent, for tests and benchmarks. */
  exchanges = 0;

  constructor(private readonly exchange: TokenExchange, private readonly options: TokenManagerOptions) {
    if (options.sharedKey) this.token = sharedTokens.get(options.sharedKey);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get hasToken(): boolean {
    return this.token !== undefined;
  }

  /** The token held now, if any (none while it is being renewed). */
  get current(): string | undefined {
    return this.token;
  }

  /**
   * The cached token, or a fresh one; the exchange is shared by every caller waiting for it.
   * `retryRefusedKey` skips the cool-down after a refused key: for a person asking to try the
   * key now (Test connection after fixing it), never for polls.
   */
  get(signal?: AbortSignal, options: { retryRefusedKey?: boolean } = {}): Promise<string> {
    if (this.token !== undefined) return Promise.resolve(this.token);
    if (this.refusal && !options.retryRefusedKey && this.now() < this.refusal.until) return Promise.reject(this.refusal.error);
    if (!this.pending) {
      this.exchanges++;
      this.pending = this.exchange().then(
        (token) => {
          this.token = token;
          if (this.options.sharedKey) sharedTokens.set(this.options.sharedKey, token);
          if (this.refusal) this.options.onKeyState?.(undefined);
          this.refusal = undefined;
          this.pending = undefined;
          return token;
        },
        (err: unknown) => {
          this.pending = undefined;
          if (err instanceof LeapcraftError && err.code === 'LEAPCRAFT_AUTH') {
            const count = (this.refusal?.count ?? 0) + 1;
            const wait = Math.min(this.options.authRetryMaxMs, this.options.authRetryBaseMs * 2 ** (count - 1));
            this.refusal = { error: err, until: this.now() + wait, count };
            this.options.onKeyState?.(err);
          }
          throw err;
        },
      );
    }
    // One caller giving up must not cancel the exchange the others are waiting for.
    return raceAbort(this.pending, signal);
  }

  /**
   * Forget `token` after the API refused it. Only that token: when fifty requests fail
   * with the same expired token, the first invalidation triggers one new exchange and
   * the other forty-nine find the new token already in place.
   */
  invalidate(token: string): void {
    if (this.token === token) this.token = undefined;
    if (this.options.sharedKey && sharedTokens.get(this.options.sharedKey) === token) sharedTokens.delete(this.options.sharedKey);
  }

  /** Drop everything, e.g. when the key changes. */
  reset(): void {
    if (this.token !== undefined) this.invalidate(this.token);
    this.token = undefined;
    this.refusal = undefined;
  }
}
