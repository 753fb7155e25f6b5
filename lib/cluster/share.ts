/**
 * An account joins the cluster named by its *Shared through Redis* setting (or, when that is
 * empty, by LEAPCRAFT_REDIS_URL, so a FlowFuse or Kubernetes deployment sets it once per
 * instance). Empty both: today's single process.
 */
import type { AccountState } from '../account/state';
import { AccountCoordinator, accountHash } from './coordinator';
import type { LeaseRole } from './lease';
import { ClusterMember } from './member';
import { parseRedisUrl } from './redis-url';
import { SharedTokenStore } from './token-store';

export const REDIS_URL_ENV = 'LEAPCRAFT_REDIS_URL';

/** The Redis URL an account uses: its setting, else the environment's; undefined: not shared. Throws on a bad URL. */
export function redisUrlSetting(setting: unknown, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const typed = typeof setting === 'string' ? setting.trim() : '';
  const url = typed || (env[REDIS_URL_ENV] ?? '').trim();
  if (!url) return undefined;
  parseRedisUrl(url);
  return url;
}

export interface SharedAccount {
  coordinator: AccountCoordinator;
  /** The cluster's one token, for the account's client. */
  tokens: SharedTokenStore;
  close(): void;
}

export interface ShareOptions {
  url: string;
  password?: string;
  baseUrl: string;
  apiKey: string;
  state: AccountState;
  onWarning?: (message: string) => void;
  onRole?: (role: LeaseRole, fence: number) => void;
  onFollowing?: () => void;
  ttlMs?: number;
}

export function shareAccount(o: ShareOptions): SharedAccount {
  const member = ClusterMember.join(o.url, o.password);
  const hash = accountHash(o.baseUrl, o.apiKey);
  const coordinator = new AccountCoordinator({ member, hash, state: o.state, onWarning: o.onWarning, onRole: o.onRole, onFollowing: o.onFollowing, ttlMs: o.ttlMs });
  return {
    coordinator,
    tokens: new SharedTokenStore(member, hash, o.apiKey),
    close: () => {
      coordinator.close();
      member.release();
    },
  };
}
