/**
 * One bearer token for the whole cluster: kept in Redis, encrypted (AES-256-GCM) with a key
 * derived from the API key, so reading Redis alone does not give a usable token. A member that
 * needs a token takes the stored one unless it is the one it must avoid (the API just refused
 * it, or it is due for renewal); else one member exchanges the key while the others wait for its
 * result (a lock in Redis: single-flight across the cluster), and nobody revokes a token another
 * member just obtained. Without Redis each member exchanges for itself.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import type { IssuedToken, TokenExchange, TokenStore } from '../api/auth';
import type { ClusterMember } from './member';

/** The lock an exchanging member holds: longer than an exchange may take. */
const LOCK_TTL_MS = 15_000;
/** How often a member waiting for another's exchange looks again. */
const WAIT_STEP_MS = 100;
/** A stored token is taken until this share of its told lifetime (then it is due for renewal). */
const USABLE_SHARE = 0.9;

const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

interface Stored {
  token: string;
  issuedAt: number;
  expiresAt?: number;
}

export class SharedTokenStore implements TokenStore {
  private readonly key: Buffer;
  private readonly tokenKey: string;
  private readonly lockKey: string;

  constructor(private readonly member: ClusterMember, hash: string, apiKey: string, private readonly now: () => number = Date.now) {
    this.key = Buffer.from(hkdfSync('sha256', apiKey, hash, 'leapcraft shared token', 32));
    this.tokenKey = `{leapcraft:${hash}}:token`;
    this.lockKey = `{leapcraft:${hash}}:token-lock`;
  }

  async obtain(exchange: TokenExchange, avoid: string | undefined): Promise<IssuedToken> {
    const link = this.member.link;
    const giveUpAt = this.now() + LOCK_TTL_MS;
    for (;;) {
      if (!link.up) return exchange();
      let locked: boolean;
      try {
        const stored = this.usable(await link.cmd.get(this.tokenKey), avoid);
        if (stored) return stored;
        locked = (await link.cmd.set(this.lockKey, this.member.id, 'PX', LOCK_TTL_MS, 'NX')) === 'OK';
        link.worked();
      } catch {
        link.failed();
        return exchange();
      }
      if (locked) return this.exchangeLocked(exchange, avoid);
      if (this.now() >= giveUpAt) return exchange();
      await new Promise((resolve) => setTimeout(resolve, WAIT_STEP_MS));
    }
  }

  async peek(): Promise<IssuedToken | undefined> {
    const link = this.member.link;
    if (!link.up) return undefined;
    return this.usable(await link.cmd.get(this.tokenKey), undefined);
  }

  /** This member holds the lock: another may have stored a token between its look and the lock. */
  private async exchangeLocked(exchange: TokenExchange, avoid: string | undefined): Promise<IssuedToken> {
    const link = this.member.link;
    try {
      const stored = this.usable(await link.cmd.get(this.tokenKey).catch(() => null), avoid);
      if (stored) return stored;
      const issuedAt = this.now();
      const issued = await exchange();
      const value: Stored = { token: issued.token, issuedAt };
      const life = issued.lifetimeMs;
      if (life !== undefined && Number.isFinite(life) && life > 0) value.expiresAt = issuedAt + life;
      const text = this.encrypt(value);
      await (value.expiresAt !== undefined
        ? link.cmd.set(this.tokenKey, text, 'PX', Math.max(1, Math.round(value.expiresAt - issuedAt)))
        : link.cmd.set(this.tokenKey, text)).catch(() => link.failed());
      return issued;
    } finally {
      link.cmd.eval(UNLOCK, 1, this.lockKey, this.member.id).catch(() => undefined);
    }
  }

  private usable(text: string | null, avoid: string | undefined): IssuedToken | undefined {
    const stored = text ? this.decrypt(text) : undefined;
    if (!stored || stored.token === avoid) return undefined;
    if (stored.expiresAt === undefined) return { token: stored.token };
    const now = this.now();
    if (now >= stored.issuedAt + (stored.expiresAt - stored.issuedAt) * USABLE_SHARE) return undefined;
    return { token: stored.token, lifetimeMs: stored.expiresAt - now };
  }

  private encrypt(value: Stored): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
    return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64');
  }

  /** Undefined for anything that is not a token this account stored (another key's, or tampered with). */
  private decrypt(text: string): Stored | undefined {
    try {
      const raw = Buffer.from(text, 'base64');
      const decipher = createDecipheriv('aes-256-gcm', this.key, raw.subarray(0, 12));
      decipher.setAuthTag(raw.subarray(12, 28));
      const value = JSON.parse(Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')) as Partial<Stored>;
      if (typeof value.token !== 'string' || typeof value.issuedAt !== 'number') return undefined;
      if (value.expiresAt !== undefined && typeof value.expiresAt !== 'number') return undefined;
      return value as Stored;
    } catch {
      return undefined;
    }
  }
}
