/**
 * The account's bearer token. The docs give no lifetime, so a token is kept until the API
 * refuses it; when the answer does tell one (`expires_in`, `expires_at`, a JWT's `exp`:
 * token-answer.ts), the token is renewed once 90 % of it has passed, when a request wants it
 * (no timer to clear), so no request pays for a refusal. However many requests need a token at
 * once, one exchange is in flight; after the key itself is refused, further exchanges wait out
 * a growing cool-down so a wrong key does not hammer the token endpoint from every poll.
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
  /** Where a cluster keeps the account's one token (lib/cluster/token-store.ts); none: this process exchanges its own. */
  store?: TokenStore;
}

/** A token held, with when to renew it and when it ends (epoch ms), when its answer said. */
interface HeldToken {
  token: string;
  renewAt?: number;
  /** Handed out no later than this: a request given it must still reach the API before it ends. */
  useUntil?: number;
  /** A renewal was started for this token: if it failed, the token serves until useUntil. */
  renewing?: boolean;
}

/** Share of a told lifetime after which the token is renewed. */
export const RENEW_AT_SHARE = 0.9;
/** Share after which it is no longer handed out (the renewal is waited for instead). */
const USE_UNTIL_SHARE = 0.95;

/**
 * Tokens by account (base URL and a digest of the key), kept in this process's memory only:
 * never written anywhere, gone with the process. A token the API refuses is removed here too.
 */
const sharedTokens = new Map<string, HeldToken>();

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

/**
 * A fresh token and, when its answer told one, its lifetime, counted from when the exchange was
 * sent (the API's clock cannot have started it earlier).
 */
export interface IssuedToken {
  token: string;
  lifetimeMs?: number;
}

export type TokenExchange = () => Promise<IssuedToken>;

/** The account's token shared by the processes of a cluster. */
export interface TokenStore {
  /**
   * A token the cluster holds that is still good and is not `avoid` (refused, or due for renewal);
   * else one that `exchange` gets, run by one process of the cluster at a time.
   */
  obtain(exchange: TokenExchange, avoid: string | undefined): Promise<IssuedToken>;
  /** The token the cluster holds now, if any, without exchanging. */
  peek(): Promise<IssuedToken | undefined>;
}

export class TokenManager {
  private held?: HeldToken;
  private pending?: Promise<string>;
  private refusal?: { error: LeapcraftError; until: number; count: number };
  /** The token last refused or due for renewal: the cluster's store must hand out another. */
  private avoid?: string;
  /** Exchanges sent, for tests and benchmarks. */
  exchanges = 0;

  constructor(private readonly exchange: TokenExchange, private readonly options: TokenManagerOptions) {
    if (options.sharedKey) this.held = sharedTokens.get(options.sharedKey);
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  get hasToken(): boolean {
    return this.held !== undefined;
  }

  /** The token held now, if any (none while it is being renewed after it can no longer be used). */
  get current(): string | undefined {
    return this.held?.token;
  }

  /**
   * The cached token, or a fresh one; the exchange is shared by every caller waiting for it.
   * A token past 90 % of a told lifetime is still handed out (until 95 %) while its renewal runs.
   * `retryRefusedKey` skips the cool-down after a refused key: for a person asking to try the
   * key now (Test connection after fixing it), never for polls.
   */
  get(signal?: AbortSignal, options: { retryRefusedKey?: boolean } = {}): Promise<string> {
    const held = this.held;
    if (held !== undefined) {
      const now = this.now();
      if (held.renewAt === undefined || now < held.renewAt) return Promise.resolve(held.token);
      if (now < (held.useUntil ?? Infinity)) {
        if (!held.renewing && !this.pending) {
          held.renewing = true;
          // Nobody waits for this renewal: its failure is kept for the next caller, never unhandled.
          this.exchangeOnce().catch(() => undefined);
        }
        return Promise.resolve(held.token);
      }
      this.drop(held.token);
    }
    if (this.refusal && !options.retryRefusedKey && this.now() < this.refusal.until) return Promise.reject(this.refusal.error);
    // One caller giving up must not cancel the exchange the others are waiting for.
    return raceAbort(this.exchangeOnce(), signal);
  }

  /** The exchange under way, or a new one. */
  private exchangeOnce(): Promise<string> {
    if (this.pending) return this.pending;
    const askedAt = this.now();
    const exchange: TokenExchange = () => {
      this.exchanges++;
      return this.exchange();
    };
    const store = this.options.store;
    this.pending = (store ? store.obtain(exchange, this.held?.token ?? this.avoid) : exchange()).then(
      (issued) => {
        this.hold(issued, askedAt);
        if (this.refusal) this.options.onKeyState?.(undefined);
        this.refusal = undefined;
        this.pending = undefined;
        return issued.token;
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
    return this.pending;
  }

  private hold(issued: IssuedToken, askedAt: number): void {
    const life = issued.lifetimeMs;
    const held: HeldToken = life !== undefined && Number.isFinite(life) && life > 0
      ? { token: issued.token, renewAt: askedAt + life * RENEW_AT_SHARE, useUntil: askedAt + life * USE_UNTIL_SHARE }
      : { token: issued.token };
    this.held = held;
    if (this.options.sharedKey) sharedTokens.set(this.options.sharedKey, held);
  }

  private drop(token: string): void {
    if (this.held?.token === token) this.held = undefined;
    if (this.options.sharedKey && sharedTokens.get(this.options.sharedKey)?.token === token) sharedTokens.delete(this.options.sharedKey);
  }

  /**
   * Takes the token the cluster's store holds now, when it is another than this manager's: a
   * member that follows keeps the cluster's token at hand, so that working alone (Redis gone)
   * starts with it rather than with an exchange that would revoke the others' on a server keeping
   * one live token per key.
   */
  async adopt(): Promise<void> {
    const issued = await this.options.store?.peek().catch(() => undefined);
    if (issued && issued.token !== this.held?.token && !this.pending) this.hold(issued, this.now());
  }

  /**
   * Forget `token` after the API refused it. Only that token: when fifty requests fail
   * with the same expired token, the first invalidation triggers one new exchange and
   * the other forty-nine find the new token already in place.
   */
  invalidate(token: string): void {
    this.avoid = token;
    this.drop(token);
  }

  /** Drop everything, e.g. when the key changes. */
  reset(): void {
    if (this.held !== undefined) this.drop(this.held.token);
    this.held = undefined;
    this.refusal = undefined;
  }
}
