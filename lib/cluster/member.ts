/**
 * This process as one member of the cluster that shares a Redis: one per Redis URL, shared by
 * every account of the process that names it. It says it is alive (a heartbeat every second,
 * on Redis's clock, so members' clocks need not agree), which accounts it has, and how many of
 * them it leads; from what every member says it works out each member's fair share of the
 * leases, so that a cluster with several accounts spreads their polling over its live members
 * (none leads more than ⌈accounts / members⌉ while the others are alive) instead of one member
 * leading them all.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { RedisLink } from './redis-link';
import { parseRedisUrl } from './redis-url';

/** A member not heard of for this long is gone (its leases are left to expire). */
export const PRESENCE_TTL_MS = 3000;
const HEARTBEAT_MS = 1000;
const PREFIX = '{leapcraft}';

// KEYS: members, accounts, leads. ARGV: member id, presence ttl, leads, account hashes...
// Returns Redis's time (ms), the live members and the accounts some live member has, and every
// live member's lead count.
const PRESENCE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[3])
for i = 4, #ARGV do redis.call('ZADD', KEYS[2], now, ARGV[i]) end
local gone = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
for _, id in ipairs(gone) do redis.call('HDEL', KEYS[3], id) end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now - ttl)
return {now, redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]), redis.call('HGETALL', KEYS[3])}
`;

export interface MemberView {
  /** Live members (this one included) and accounts any of them has. */
  members: number;
  accounts: number;
  /** How many accounts each live member leads. */
  leads: Map<string, number>;
}

const shared = new Map<string, ClusterMember>();

export class ClusterMember {
  readonly id = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  readonly link: RedisLink;
  private readonly accounts = new Map<string, { leading: boolean }>();
  private readonly channels = new Map<string, (message: string) => void>();
  private refs = 0;
  private timer?: NodeJS.Timeout;
  private lastView: MemberView = { members: 1, accounts: 1, leads: new Map() };
  /** True once a heartbeat told what the other members lead (before that, no lease is taken). */
  viewed = false;
  private lastHandOver = -Infinity;

  private constructor(private readonly key: string, url: string, password: string | undefined) {
    this.link = new RedisLink(parseRedisUrl(url, password));
    this.link.on('up', () => {
      void this.heartbeat();
      // Channels subscribed while the link was down (or before it first came up).
      for (const channel of this.channels.keys()) this.link.sub.subscribe(channel).catch(() => this.link.failed());
    });
    this.link.sub.on('message', (channel: string, message: string) => this.channels.get(channel)?.(message));
    this.timer = setInterval(() => void this.heartbeat(), HEARTBEAT_MS);
    void this.heartbeat();
  }

  /** The process's member for this Redis (one per URL and password); `release` when done with it. */
  static join(url: string, password?: string): ClusterMember {
    const key = `${url}\n${password ?? ''}`;
    let member = shared.get(key);
    if (!member) {
      member = new ClusterMember(key, url, password);
      shared.set(key, member);
    }
    member.refs++;
    return member;
  }

  get view(): MemberView {
    return this.lastView;
  }

  /** The account (a digest, never its key) is one of this member's; `leading` as it changes. */
  account(hash: string, leading: boolean): void {
    this.accounts.set(hash, { leading });
  }

  leaveAccount(hash: string): void {
    this.accounts.delete(hash);
  }

  get leading(): number {
    let n = 0;
    for (const a of this.accounts.values()) if (a.leading) n++;
    return n;
  }

  /**
   * How many leases this member should hold: `floor` it takes at once, up to `ceil` it takes
   * what stays free, beyond `ceil` it hands leases back.
   */
  share(): { floor: number; ceil: number } {
    const members = Math.max(1, this.lastView.members);
    const accounts = Math.max(this.accounts.size, this.lastView.accounts);
    return { floor: Math.max(1, Math.floor(accounts / members)), ceil: Math.max(1, Math.ceil(accounts / members)) };
  }

  /**
   * True when this member should hand one of its leases over now: it leads more than its ceiling,
   * or its ceiling while another member is below its floor. One lease at a time, at most one per
   * `gapMs`, so the others take it before the next is handed over.
   */
  handOver(now: number, gapMs: number): boolean {
    const { floor, ceil } = this.share();
    const leading = this.leading;
    const over = leading > ceil || (leading === ceil && leading > floor && this.othersShort());
    if (!over || now - this.lastHandOver < gapMs) return false;
    this.lastHandOver = now;
    return true;
  }

  /** True when another live member leads fewer than its floor. */
  private othersShort(): boolean {
    const { floor } = this.share();
    const view = this.lastView;
    let counted = 0;
    for (const [id, n] of view.leads) {
      if (id === this.id) continue;
      counted++;
      if (n < floor) return true;
    }
    return counted < view.members - 1;
  }

  /** `handler` hears every message on `channel` (ioredis subscribes again after a reconnect). */
  subscribe(channel: string, handler: (message: string) => void): void {
    this.channels.set(channel, handler);
    this.link.sub.subscribe(channel).catch(() => this.link.failed());
  }

  unsubscribe(channel: string): void {
    this.channels.delete(channel);
    this.link.sub.unsubscribe(channel).catch(() => undefined);
  }

  release(): void {
    if (--this.refs > 0) return;
    shared.delete(this.key);
    clearInterval(this.timer);
    this.link.close();
  }

  private async heartbeat(): Promise<void> {
    if (!this.link.up && this.link.cmd.status !== 'ready') return;
    try {
      const hashes = [...this.accounts.keys()];
      const reply = (await this.link.cmd.eval(PRESENCE, 3, `${PREFIX}:members`, `${PREFIX}:accounts`, `${PREFIX}:leads`,
        this.id, PRESENCE_TTL_MS, this.leading, ...hashes)) as [number, number, number, string[]];
      const leads = new Map<string, number>();
      for (let i = 0; i + 1 < reply[3].length; i += 2) leads.set(reply[3][i]!, Number(reply[3][i + 1]));
      this.lastView = { members: reply[1], accounts: reply[2], leads };
      this.viewed = true;
      this.link.worked();
    } catch {
      this.link.failed();
    }
  }
}
