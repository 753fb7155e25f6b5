/**
 * One account as part of a cluster: its lease decides whether this process's scheduler polls
 * (leader, or alone while Redis is unreachable) or only delivers what the leader shares
 * (follower). The leader publishes every answer on the account's channel, with its fencing
 * number, and keeps the last of each key for members that join later; followers hand them to
 * their scheduler's `accept`, so their nodes emit as if they had polled. Answers from a leader
 * older than one already heard (a fencing number below the highest seen) are dropped.
 */
import { createHash } from 'node:crypto';
import type { AccountState } from '../account/state';
import type { Answer } from '../poll/delivery';
import type { PollScheduler } from '../poll/scheduler';
import { decodeAnswer, encodeAnswer } from './codec';
import { AccountLease, DEFAULT_LEASE_TTL_MS, LeaseRole } from './lease';
import type { ClusterMember } from './member';
import { AlertRelay, SharedAlerts } from './shared-alerts';

/** The account's name in Redis: a digest of its base URL and key, never the key. */
export function accountHash(baseUrl: string, apiKey: string): string {
  const key = createHash('sha256').update(apiKey).digest('hex');
  return createHash('sha256').update(`${baseUrl}\n${key}`).digest('hex').slice(0, 32);
}

export interface CoordinatorOptions {
  member: ClusterMember;
  hash: string;
  state: AccountState;
  ttlMs?: number;
  onWarning?: (message: string) => void;
  /** Told when this process starts or stops leading the account (the fencing number with it). */
  onRole?: (role: LeaseRole, fence: number) => void;
  /** Told every few seconds while this process follows a live leader (it takes the cluster's token then). */
  onFollowing?: () => void;
}

export class AccountCoordinator {
  readonly lease: AccountLease;
  private scheduler?: PollScheduler;
  private highestFence = 0;
  private readonly channel: string;
  private readonly lastKey: string;
  private closed = false;

  constructor(private readonly o: CoordinatorOptions) {
    this.channel = `{leapcraft:${o.hash}}:answers`;
    this.lastKey = `{leapcraft:${o.hash}}:last`;
    this.lease = new AccountLease(o.member, o.hash, { ttlMs: o.ttlMs });
    this.lease.on('role', (role: LeaseRole) => this.roleChanged(role));
    this.lease.on('following', () => o.onFollowing?.());
    o.member.subscribe(this.channel, (message) => this.received(message));
    o.state.coordination(this.lease.role);
  }

  /** The scheduler this account polls with (created with `mayFetch` and `onAnswer` from here). */
  attach(scheduler: PollScheduler): void {
    this.scheduler = scheduler;
    scheduler.setFetching(this.lease.acting());
  }

  /** The scheduler may send a scheduled request (or deliver its answer) now. */
  mayFetch(): boolean {
    return this.lease.acting();
  }

  /** This process acts for the account alone now: it leads (surely), or Redis is unreachable. */
  acting(): boolean {
    return this.lease.acting();
  }

  /** A key this process had not polled: as a follower, its last shared answer now rather than at the leader's next round. */
  newKey(key: string, intervalMs: number): void {
    if (this.closed || this.lease.acting()) return;
    const link = this.o.member.link;
    link.cmd.hget(this.lastKey, `${intervalMs}\u0000${key}`).then((text) => {
      link.worked();
      const shared = text ? decodeAnswer(text) : undefined;
      if (!shared || shared.answer.kind !== 'value' || this.lease.acting()) return;
      this.scheduler?.accept({ ...shared.answer, meta: { round: true, news: false }, fetched: false });
    }, () => link.failed());
  }

  /** Where an alerts node keeps its memory and pending alerts, while Redis answers; undefined: it works alone. */
  alertRelay(nodeId: string): AlertRelay | undefined {
    if (this.closed || !this.o.member.link.up) return undefined;
    return new SharedAlerts(this.o.member, this.lease, this.o.hash, nodeId, this.o.ttlMs ?? DEFAULT_LEASE_TTL_MS);
  }

  /** A member that starts following hands its listeners the leader's last answers now, not at each key's next round. */
  private loadLast(): void {
    const link = this.o.member.link;
    link.cmd.hgetall(this.lastKey).then((all) => {
      link.worked();
      for (const text of Object.values(all)) {
        const shared = decodeAnswer(text);
        if (!shared || shared.answer.kind !== 'value' || this.lease.acting()) continue;
        this.scheduler?.accept({ ...shared.answer, meta: { round: true, news: false }, fetched: false });
      }
    }, () => link.failed());
  }

  /** Shares an answer the leader fetched or delivered. */
  publish(answer: Answer): void {
    if (this.closed || !this.lease.valid()) return;
    const text = encodeAnswer(this.lease.fence, answer);
    const link = this.o.member.link;
    const field = `${answer.intervalMs}\u0000${answer.key}`;
    link.cmd.multi().hset(this.lastKey, field, text).publish(this.channel, text).exec()
      .then(() => link.worked(), () => link.failed());
  }

  close(): void {
    this.closed = true;
    this.o.member.unsubscribe(this.channel);
    this.lease.close();
  }

  private received(message: string): void {
    if (this.closed || this.lease.role === 'leader') return;
    const shared = decodeAnswer(message);
    if (!shared) {
      this.o.onWarning?.('Shared through Redis: a message on the account\'s channel was not an answer; it was ignored');
      return;
    }
    // A leader that lost its lease (paused past it) may still publish what it had under way.
    if (shared.fence < this.highestFence) return;
    this.highestFence = shared.fence;
    this.scheduler?.accept(shared.answer);
  }

  private roleChanged(role: LeaseRole): void {
    this.scheduler?.setFetching(role !== 'follower');
    if (role === 'follower') this.loadLast();
    if (role === 'leader') this.highestFence = Math.max(this.highestFence, this.lease.fence);
    this.o.state.coordination(role);
    this.o.onRole?.(role, this.lease.fence);
  }
}
