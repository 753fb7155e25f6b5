/**
 * The connections a process keeps to the cluster's Redis: one for commands, one subscribed to
 * the accounts' answer channels (a subscribed connection takes no other command). ioredis
 * reconnects by itself, forever, backing off; a command fails fast while the link is down
 * (no offline queue) and times out after `commandTimeoutMs`, so a slow Redis counts as
 * unreachable and the accounts work alone instead of waiting on it. `up` says which it is.
 *
 * ioredis: it speaks a single Redis, Sentinel and Cluster with one API, pipelines and Lua
 * scripts, and is what node-red-contrib-cluster-leader and most Node-RED Redis nodes use.
 */
import { EventEmitter } from 'node:events';
import type { Cluster, Redis, RedisOptions } from 'ioredis';
import type { RedisTarget } from './redis-url';

/**
 * ioredis, loaded when the first link is made: it adds some 2 MB to the live heap, which every
 * major garbage collection marks again, and only an account shared through Redis needs it.
 */
function ioredis(): typeof import('ioredis') {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require('ioredis') as typeof import('ioredis');
}

export type RedisClient = Redis | Cluster;

export interface RedisLinkOptions {
  /** A command unanswered this long fails (the link counts as down until one succeeds). */
  commandTimeoutMs?: number;
  connectTimeoutMs?: number;
}

function clientOf(target: RedisTarget, o: Required<RedisLinkOptions>): RedisClient {
  const common: RedisOptions = {
    lazyConnect: false,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.commandTimeoutMs,
    connectTimeout: o.connectTimeoutMs,
    // Reconnect forever, at most every 2 s: Redis coming back must be noticed without a redeploy.
    retryStrategy: (times: number) => Math.min(2000, 100 * times),
    username: target.username,
    password: target.password,
    tls: target.tls ? {} : undefined,
  };
  const { Cluster, Redis } = ioredis();
  if (target.kind === 'cluster') {
    return new Cluster(target.endpoints, {
      redisOptions: common,
      enableOfflineQueue: false,
      clusterRetryStrategy: (times: number) => Math.min(2000, 100 * times),
    });
  }
  if (target.kind === 'sentinel') {
    return new Redis({ ...common, sentinels: target.endpoints, name: target.masterName, db: target.db, sentinelPassword: target.password, sentinelUsername: target.username });
  }
  return new Redis({ ...common, host: target.endpoints[0]!.host, port: target.endpoints[0]!.port, db: target.db });
}

export class RedisLink extends EventEmitter {
  readonly cmd: RedisClient;
  readonly sub: RedisClient;
  private isUp = false;
  private closed = false;

  constructor(target: RedisTarget, options: RedisLinkOptions = {}) {
    super();
    // Every account of the process shared through this Redis listens for up and down: one each, not a leak.
    this.setMaxListeners(0);
    const o: Required<RedisLinkOptions> = { commandTimeoutMs: options.commandTimeoutMs ?? 1500, connectTimeoutMs: options.connectTimeoutMs ?? 2000 };
    this.cmd = clientOf(target, o);
    this.sub = clientOf(target, o);
    for (const client of [this.cmd, this.sub]) {
      // Errors are the link going down (reported through `down`), never an unhandled 'error' event.
      client.on('error', () => this.update());
      client.on('ready', () => this.update());
      client.on('close', () => this.update());
      client.on('end', () => this.update());
    }
  }

  get up(): boolean {
    return this.isUp;
  }

  /** A command failed or timed out: down until the next one succeeds (or the connections say ready again). */
  failed(): void {
    this.set(false);
  }

  /** A command answered: the link works. */
  worked(): void {
    this.update();
  }

  close(): void {
    this.closed = true;
    this.set(false);
    this.cmd.disconnect();
    this.sub.disconnect();
    this.removeAllListeners();
  }

  private update(): void {
    this.set(this.cmd.status === 'ready' && this.sub.status === 'ready');
  }

  private set(up: boolean): void {
    if (up === this.isUp || (this.closed && up)) return;
    this.isUp = up;
    this.emit(up ? 'up' : 'down');
  }
}
