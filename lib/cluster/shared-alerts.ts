/**
 * Each alert emitted once by a cluster: an alerts node's memory (what was seen) lives in Redis
 * beside the alerts found but not yet emitted (pending). The member that leads the account finds
 * new alerts, records them as pending together with the memory, then emits each pending alert
 * in three steps: claim it (only the lease's holder may, and only one member at a time), emit it,
 * mark it done. A member that dies between claim and mark leaves a claim that expires with the
 * lease's time to live; the next leader then emits it. So no alert is lost, and one is emitted
 * twice only when a member dies in the instant between emitting and marking.
 */
import type { AlertState } from '../alerts/watcher';
import { readAlertState } from '../alerts/watcher';
import { alertKey } from '../alerts/seen';
import type { Alert } from '../api/types';
import type { AccountLease } from './lease';
import type { ClusterMember } from './member';

/** The node's side of it: the alerts node uses this when its account is shared (see nodes/leapcraft-notifications.ts). */
export interface AlertRelay {
  /** The memory shared by the cluster; undefined before the first check anywhere. */
  load(): Promise<AlertState | undefined>;
  /** Records the memory and the new alerts as pending, together (one MULTI). */
  record(state: AlertState, alerts: readonly Alert[]): Promise<void>;
  /** Emits the pending alerts nobody emitted yet (claim, `emit`, mark); resolves with how many were emitted here. */
  drain(emit: (alerts: Alert[]) => void): Promise<number>;
}

// KEYS: pending, claim, lease. ARGV: field, member, ttl. 1 when this member may emit the alert now.
const CLAIM = `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
if redis.call('GET', KEYS[3]) ~= ARGV[2] then return 0 end
if redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then return 1 end
return 0`;
// KEYS: pending, claim. ARGV: field, member.
const MARK = `
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return redis.call('HDEL', KEYS[1], ARGV[1])`;

interface Pending {
  /** When recorded, and its place among the alerts recorded then: the order to emit in. */
  at: number;
  i: number;
  alert: Alert;
}

export class SharedAlerts implements AlertRelay {
  private readonly prefix: string;

  constructor(private readonly member: ClusterMember, private readonly lease: AccountLease, hash: string, nodeId: string, private readonly claimTtlMs: number) {
    this.prefix = `{leapcraft:${hash}}:alerts:${nodeId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  }

  async load(): Promise<AlertState | undefined> {
    const text = await this.member.link.cmd.get(`${this.prefix}:state`);
    if (!text) return undefined;
    try {
      return readAlertState(JSON.parse(text));
    } catch {
      return undefined;
    }
  }

  async record(state: AlertState, alerts: readonly Alert[]): Promise<void> {
    const at = Date.now();
    const multi = this.member.link.cmd.multi().set(`${this.prefix}:state`, JSON.stringify(state));
    alerts.forEach((alert, i) => multi.hset(`${this.prefix}:pending`, alertKey(alert), JSON.stringify({ at, i, alert } satisfies Pending)));
    await multi.exec();
  }

  async drain(emit: (alerts: Alert[]) => void): Promise<number> {
    const cmd = this.member.link.cmd;
    const raw = await cmd.hgetall(`${this.prefix}:pending`);
    const pending: Array<{ field: string; p: Pending }> = [];
    for (const [field, text] of Object.entries(raw)) {
      const p = parsePending(text);
      if (p) pending.push({ field, p });
      else await cmd.hdel(`${this.prefix}:pending`, field);
    }
    pending.sort((a, b) => a.p.at - b.p.at || a.p.i - b.p.i);
    const claimed: typeof pending = [];
    for (const item of pending) {
      const won = Number(await cmd.eval(CLAIM, 3, `${this.prefix}:pending`, this.claimKey(item.field), this.lease.leaseKey, item.field, this.member.id, this.claimTtlMs));
      if (won === 1) claimed.push(item);
    }
    // The lease may have run out while claiming (a pause): then a claim is left to expire for the next leader.
    if (claimed.length === 0 || !this.lease.valid()) return 0;
    emit(claimed.map((c) => c.p.alert));
    // Marked once Node-RED has delivered the msgs (on a later turn of the event loop): a member
    // killed before that leaves them claimed, to be emitted by the next leader, not lost.
    await new Promise((resolve) => setImmediate(resolve));
    await new Promise((resolve) => setImmediate(resolve));
    for (const c of claimed) await cmd.eval(MARK, 2, `${this.prefix}:pending`, this.claimKey(c.field), c.field, this.member.id);
    return claimed.length;
  }

  private claimKey(field: string): string {
    return `${this.prefix}:claim:${field}`;
  }
}

function parsePending(text: string): Pending | undefined {
  try {
    const p = JSON.parse(text) as Partial<Pending>;
    if (typeof p.at !== 'number' || typeof p.i !== 'number' || !p.alert || typeof p.alert !== 'object') return undefined;
    return p as Pending;
  } catch {
    return undefined;
  }
}
