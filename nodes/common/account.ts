import { noAccountError } from './errors';
import type { NodeStatus } from './status';
import type { LeapcraftAccount, Node, NodeAPI } from './types';

/**
 * The flow node's side of the MQTT-broker pattern: find the config node, register with
 * it, deregister on close. Resolves to undefined (and a red status) when none is set.
 */
export function attachAccount(RED: NodeAPI, node: Node, accountId: string | undefined): LeapcraftAccount | undefined {
  const account = accountId ? (RED.nodes.getNode(accountId) as LeapcraftAccount | null) : null;
  if (!account || typeof account.getClient !== 'function') return undefined;
  account.register(node);
  node.on('close', (_removed: boolean, done: () => void) => {
    account.deregister(node);
    done();
  });
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
