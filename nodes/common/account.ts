import { noAccountError } from './errors';
import type { NodeStatus } from './status';
import type { LeapcraftAccount, NodeAPI } from './types';

/**
 * The flow node's account (config node), found by id: config nodes start before flow nodes.
 * Undefined (and a red status, see showStartStatus) when none is set or it is not an account.
 */
export function findAccount(RED: NodeAPI, accountId: string | undefined): LeapcraftAccount | undefined {
  const account = accountId ? (RED.nodes.getNode(accountId) as LeapcraftAccount | null) : null;
  if (!account || typeof account.getClient !== 'function') return undefined;
  return account;
}

/** The client to use for one request, or the error that explains why there is none. */
export function clientOf(RED: NodeAPI, account: LeapcraftAccount | undefined) {
  if (!account) throw noAccountError(RED);
  return account.getClient();
}

/** Idle when the node can work; red from the start when its account is missing or broken. */
export function showStartStatus(RED: NodeAPI, status: NodeStatus, account: LeapcraftAccount | undefined): void {
  if (!account) status.error(noAccountError(RED));
  else if (account.configError) status.error(account.configError);
  else status.idle();
}
