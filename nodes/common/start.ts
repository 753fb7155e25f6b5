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
 * What every node does first: create the node and read its settings once (a bad one turns the
 * node red and every msg goes to Catch with it; then undefined is returned and the node does
 * nothing else).
 */
export function startNode<S>(RED: NodeAPI, node: Node, def: NodeDef, read: () => S): { node: Node; status: NodeStatus; settings: S } | undefined {
  RED.nodes.createNode(node, def);
  const status = new NodeStatus(RED, node);
  const settings = readSettings(node, status, read);
  return settings === undefined ? undefined : { node, status, settings };
}

/** startNode for a node that uses an account: also finds its account and shows its starting status. */
export function startAccountNode<S>(RED: NodeAPI, node: Node, def: NodeDef & { account?: string }, read: () => S): StartedNode<S> | undefined {
  const started = startNode(RED, node, def, read);
  if (!started) return undefined;
  const { status, settings } = started;
  const account = findAccount(RED, def.account);
  showStartStatus(RED, status, account);
  if (account && !account.configError) {
    account.register(node, (view) => status.account(view));
    node.on('close', () => account.deregister(node));
  }
  return { node, status, account, settings };
}
