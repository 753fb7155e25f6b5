/**
 * The account's *Shared through Redis* setting: one URL for a single Redis (or Valkey), a Sentinel
 * group or a Redis Cluster. Node-RED users type URLs, so the three are told apart by scheme:
 *
 *     redis://[user:password@]host[:6379][/db]            rediss:// for TLS
 *     redis+sentinel://[user:password@]host:26379[,host:26379…]/masterName[/db]   (rediss+sentinel://)
 *     redis+cluster://[user:password@]host:6379[,host:6379…]                       (rediss+cluster://)
 *
 * A password may also come from the account's credential (it wins over one in the URL). Nothing
 * here ever puts the URL's credentials into a text: `redactRedisUrl` is what logs and status show.
 */
import { LeapcraftInvalidInputError } from '../api/errors';

export interface RedisEndpoint {
  host: string;
  port: number;
}

export interface RedisTarget {
  kind: 'single' | 'sentinel' | 'cluster';
  tls: boolean;
  endpoints: RedisEndpoint[];
  username?: string;
  password?: string;
  db?: number;
  /** Sentinel: the master group's name. */
  masterName?: string;
}

/** The schemes the setting takes (the editor checks a typed URL against them). */
export const REDIS_SCHEMES = ['redis', 'rediss', 'redis+sentinel', 'rediss+sentinel', 'redis+cluster', 'rediss+cluster'] as const;

const SCHEMES: Record<string, { kind: RedisTarget['kind']; tls: boolean; port: number }> = {
  'redis:': { kind: 'single', tls: false, port: 6379 },
  'rediss:': { kind: 'single', tls: true, port: 6379 },
  'redis+sentinel:': { kind: 'sentinel', tls: false, port: 26379 },
  'rediss+sentinel:': { kind: 'sentinel', tls: true, port: 26379 },
  'redis+cluster:': { kind: 'cluster', tls: false, port: 6379 },
  'rediss+cluster:': { kind: 'cluster', tls: true, port: 6379 },
};

function invalid(message: string): LeapcraftInvalidInputError {
  return new LeapcraftInvalidInputError(message, { field: 'redisUrl' });
}

/** The URL with its user and password replaced by `***`: the only form any text shows. */
export function redactRedisUrl(url: string): string {
  return url.replace(/^([a-z+]+:\/\/)[^@/]*@/i, '$1***@');
}

/** Parses the setting; a bad URL is a LEAPCRAFT_INVALID_INPUT that names what to fix, never the password. */
export function parseRedisUrl(url: string, password?: string): RedisTarget {
  const text = url.trim();
  const match = /^([a-z+]+:)\/\/(?:([^@/]*)@)?([^/?#]*)(\/[^?#]*)?$/i.exec(text);
  const scheme = match ? SCHEMES[match[1]!.toLowerCase()] : undefined;
  if (!match || !scheme) {
    throw invalid(`Shared through Redis: "${redactRedisUrl(text)}" is not a redis://, rediss://, redis+sentinel:// or redis+cluster:// URL`);
  }
  const target: RedisTarget = { kind: scheme.kind, tls: scheme.tls, endpoints: [] };
  const auth = match[2];
  if (auth !== undefined && auth !== '') {
    const colon = auth.indexOf(':');
    const user = decodeURIComponent(colon < 0 ? '' : auth.slice(0, colon));
    const pass = decodeURIComponent(colon < 0 ? auth : auth.slice(colon + 1));
    if (user) target.username = user;
    if (pass) target.password = pass;
  }
  if (password) target.password = password;
  for (const hostPort of match[3]!.split(',')) {
    const m = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(hostPort.trim());
    const port = m?.[2] === undefined ? scheme.port : Number(m[2]);
    if (!m || !(port >= 1 && port <= 65535)) throw invalid(`Shared through Redis: "${redactRedisUrl(text)}" has a host that is not host[:port]`);
    target.endpoints.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
  }
  if (target.kind === 'single' && target.endpoints.length !== 1) throw invalid('Shared through Redis: a redis:// URL names one host; use redis+sentinel:// or redis+cluster:// for several');
  const path = (match[4] ?? '').split('/').filter((p) => p !== '');
  if (target.kind === 'sentinel') {
    const name = path.shift();
    if (!name) throw invalid('Shared through Redis: a redis+sentinel:// URL names its master group after the hosts (…/mymaster)');
    target.masterName = decodeURIComponent(name);
  }
  if (path.length > 0) {
    if (target.kind === 'cluster') throw invalid('Shared through Redis: a Redis Cluster has no database number');
    const db = Number(path[0]);
    if (path.length > 1 || !Number.isInteger(db) || db < 0 || db > 1024) throw invalid(`Shared through Redis: "${redactRedisUrl(text)}" ends in a database number that is not 0–1024`);
    target.db = db;
  }
  return target;
}
