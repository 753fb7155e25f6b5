import { findAccount, showStartStatus } from './account';
import { readSettings } from './settings';
import { NodeStatus } from './status';
import type { LeapcraftAccount, Node, NodeAPI, NodeDef } from './types';

export interface StartedNode<S> {
  node: Node;
  status: NodeStatus;
  /** Undefined when the node has no (valid) account: its status already says so. */
  account?: LeapcraftAccount;
  settings: S;
}

/**
 * What every node that uses an account does first: create the node, find its account, read
 * its settings once (a bad one turns the node red and every msg goes to Catch with it; then
 * undefined is returned and the node does nothing else) and show its starting status.
 */
export function startAccountNode<S>(RED: NodeAPI, node: Node, def: NodeDef & { account?: string }, read: () => S): StartedNode<S> | undefined {
  RED.nodes.createNode(node, def);
  const status = new NodeStatus(RED, node);
  const account = findAccount(RED, def.account);
  const settings = readSettings(node, status, read);
  if (settings === undefined) return undefined;
  showStartStatus(RED, status, account);
  if (account && !account.configError) {
    account.register(node, (view) => status.account(view));
    node.on('close', () => account.deregister(node));
  }
  return { node, status, account, settings };
}
