/**
 * One account's lease in Redis: the member holding it leads (runs the account's scheduled polls);
 * the others follow. Acquired atomically (SET NX with a time to live, default 10 s) with a new
 * fencing number from a counter, renewed by a compare-and-set that only the holder passes,
 * released the same way on close. The holder leads only while its lease is surely still its own:
 * until the time its last renewal was sent plus the time to live, less a margin (`valid`). A
 * process paused past that (SIGSTOP, a long GC) wakes up as a follower, whatever its timers say.
 *
 * Followers look again when the lease's remaining time runs out (PTTL), so a dead leader's lease
 * is taken a moment after it expires. Leases are spread over the members by their fair share
 * (member.ts). With Redis unreachable the lease cannot be held: the account works alone
 * (`unshared`) until Redis answers again.
 */
import { EventEmitter } from 'node:events';
import type { ClusterMember } from './member';

export type LeaseRole = 'leader' | 'follower' | 'unshared';

export const DEFAULT_LEASE_TTL_MS = 10_000;
/** How long a free lease waits for a member below its floor before one at its floor takes it. */
const FREE_GRACE_MS = 500;

// KEYS: lease, fence. ARGV: member, ttl. The fencing number when acquired, else 0.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
return 0`;
// The fencing number when still held (and renewed), else 0.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return tonumber(redis.call('GET', KEYS[2]) or '0')
end
return 0`;
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export interface LeaseOptions {
  ttlMs?: number;
  now?: () => number;
}

/** A member that cannot reach Redis this long after it starts works alone. */
const START_GRACE_MS = 3000;

export class AccountLease extends EventEmitter {
  /** A member starts as a follower: it polls nothing until the lease (or Redis being unreachable) says so. */
  private current: LeaseRole = 'follower';
  private readonly startedAt: number;
  private fenceNumber = 0;
  private validUntil = 0;
  /** A lease handed back is not taken again before then (another member's turn). */
  private yieldUntil = 0;
  /** Since when this member has seen the lease free. */
  private freeFrom?: number;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private busy = false;
  private readonly ttlMs: number;
  private readonly now: () => number;
  readonly leaseKey: string;
  private readonly fenceKey: string;
  private readonly releasedChannel: string;

  constructor(private readonly member: ClusterMember, readonly accountHash: string, options: LeaseOptions = {}) {
    super();
    this.ttlMs = options.ttlMs ?? DEFAULT_LEASE_TTL_MS;
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
    this.leaseKey = `{leapcraft:${accountHash}}:lease`;
    this.fenceKey = `{leapcraft:${accountHash}}:fence`;
    this.releasedChannel = `{leapcraft:${accountHash}}:released`;
    // A lease handed back is taken at once by the member whose turn it is, not at its next look.
    member.subscribe(this.releasedChannel, () => this.schedule(0));
    member.account(accountHash, false);
    member.link.on('up', this.onUp);
    member.link.on('down', this.onDown);
    this.schedule(0);
  }

  get role(): LeaseRole {
    return this.current;
  }

  get fence(): number {
    return this.fenceNumber;
  }

  /** True while this member surely holds the lease: checked before every scheduled request and alert. */
  valid(now = this.now()): boolean {
    return this.current === 'leader' && now < this.validUntil;
  }

  /** True when this process should act as the account's only one: it leads, or works alone. */
  acting(now = this.now()): boolean {
    return this.current === 'unshared' || this.valid(now);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.member.link.off('up', this.onUp);
    this.member.link.off('down', this.onDown);
    this.member.unsubscribe(this.releasedChannel);
    this.member.leaveAccount(this.accountHash);
    if (this.current === 'leader') this.release().catch(() => undefined);
    this.removeAllListeners();
  }

  private readonly onUp = () => this.schedule(0);
  private readonly onDown = () => {
    // A follower hears nothing more: it works alone at once. A leader keeps its lease while it is valid.
    if (this.current === 'follower') this.become('unshared');
    this.schedule(this.current === 'leader' ? Math.max(0, this.validUntil - this.now()) : 1000);
  };

  private schedule(delayMs: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), Math.max(0, delayMs));
  }

  private async tick(): Promise<void> {
    if (this.closed || this.busy) return;
    this.busy = true;
    try {
      const next = await this.step();
      this.schedule(next);
    } finally {
      this.busy = false;
    }
  }

  /** One look at the lease; returns when to look again. */
  private async step(): Promise<number> {
    const renewEvery = this.ttlMs / 3;
    const link = this.member.link;
    const sentAt = this.now();
    if (this.current === 'leader' && !this.valid(sentAt)) this.become(link.up ? 'follower' : 'unshared');
    if (!link.up) {
      if (this.current === 'follower' && sentAt - this.startedAt >= START_GRACE_MS) this.become('unshared');
      if (this.current === 'leader') return Math.min(renewEvery, this.validUntil - sentAt);
      return this.current === 'follower' ? Math.max(0, this.startedAt + START_GRACE_MS - sentAt) : 1000;
    }
    try {
      if (this.current === 'leader') {
        if (this.member.handOver(sentAt, renewEvery)) {
          // More than a fair share while another member has room: hand this one over (one at a time,
          // counted at once, so that the member's other leases deciding now see it).
          this.member.account(this.accountHash, false);
          await this.release();
          this.yieldUntil = this.now() + 2 * this.ttlMs;
          this.become('follower');
          return renewEvery;
        }
        const fence = Number(await link.cmd.eval(RENEW, 2, this.leaseKey, this.fenceKey, this.member.id, this.ttlMs));
        link.worked();
        if (fence > 0) {
          this.fenceNumber = fence;
          this.validUntil = sentAt + this.ttlMs - this.margin();
          return renewEvery;
        }
        this.become('follower');
      }
      // Not leading: take the lease if it is free and this member's turn, else look again when it could be.
      // What the other members lead is known after the member's first heartbeat.
      if (!this.member.viewed) return 200;
      const pttl = Number(await link.cmd.pttl(this.leaseKey));
      link.worked();
      if (pttl > 0) {
        this.freeFrom = undefined;
        this.become('follower');
        this.emit('following');
        return Math.min(renewEvery, pttl + 5);
      }
      // A free lease: a member below its floor takes it at once, one below its ceiling once it stayed free a moment.
      this.freeFrom ??= sentAt;
      const { floor, ceil } = this.member.share();
      const leading = this.member.leading;
      const mine = this.now() >= this.yieldUntil && (leading < floor || (leading < ceil && sentAt - this.freeFrom >= FREE_GRACE_MS));
      if (!mine) {
        this.become('follower');
        return 250;
      }
      // Counted as led while the attempt is under way: the member's other leases deciding now see it.
      this.member.account(this.accountHash, true);
      const fence = Number(await link.cmd.eval(ACQUIRE, 2, this.leaseKey, this.fenceKey, this.member.id, this.ttlMs));
      link.worked();
      if (fence > 0) {
        this.fenceNumber = fence;
        this.validUntil = sentAt + this.ttlMs - this.margin();
        this.become('leader');
        return renewEvery;
      }
      this.member.account(this.accountHash, false);
      this.become('follower');
      return 250;
    } catch {
      if (this.current !== 'leader') this.member.account(this.accountHash, false);
      link.failed();
      if (this.current === 'follower') this.become('unshared');
      return this.current === 'leader' ? Math.min(renewEvery, Math.max(0, this.validUntil - this.now())) : 1000;
    }
  }

  /** Hands the lease back and tells the other members, so that the next one takes it now. */
  private async release(): Promise<void> {
    await this.member.link.cmd.eval(RELEASE, 1, this.leaseKey, this.member.id);
    await this.member.link.cmd.publish(this.releasedChannel, this.member.id);
  }

  private margin(): number {
    return Math.max(250, this.ttlMs * 0.05);
  }

  /** The role as first confirmed is told too (a member starts as a follower before it knows it is one). */
  private confirmed = false;

  private become(role: LeaseRole): void {
    if (role === this.current && this.confirmed) return;
    this.confirmed = true;
    this.freeFrom = undefined;
    this.current = role;
    this.member.account(this.accountHash, role === 'leader');
    this.emit('role', role);
  }
}
