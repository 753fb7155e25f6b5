export { intervalMs, MAX_INTERVAL_S, MIN_INTERVAL_S } from '../../lib/poll/interval';
import { toNodeError } from './errors';
import type { NodeStatus } from './status';
import type { Node } from './types';

/**
 * Reads a node's settings once at deploy. A bad setting turns the node red and is
 * reported, and undefined is returned: the node then sends no request the API would
 * refuse, and every msg it receives goes to Catch with the same error rather than
 * vanishing silently.
 */
export function readSettings<T>(node: Node, status: NodeStatus, read: () => T): T | undefined {
  try {
    return read();
  } catch (err) {
    const error = toNodeError(err);
    status.error(err);
    node.error(error);
    node.on('input', (_msg: unknown, _send: unknown, done: (err?: Error) => void) => done(error));
    return undefined;
  }
}
