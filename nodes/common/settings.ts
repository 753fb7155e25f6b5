import { LeapcraftInvalidInputError } from '../../lib';
import { toNodeError } from './errors';
import type { NodeStatus } from './status';
import type { Node } from './types';

/** Polling faster than this is refused (raised to it): the API's rate limits are unknown. */
export const MIN_INTERVAL_S = 1;
/** A week; beyond about 24.8 days Node's timers overflow and would fire at once. */
export const MAX_INTERVAL_S = 604_800;

/** A poll interval setting in seconds → ms; 0 means "only when a msg arrives". */
export function intervalMs(value: unknown, fallbackS: number): number {
  const seconds = value === undefined || value === '' ? fallbackS : Number(value);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > MAX_INTERVAL_S) {
    throw new LeapcraftInvalidInputError(`Invalid interval: ${String(value)} (seconds from 0 to ${MAX_INTERVAL_S}; 0 for "only on input")`, { field: 'interval' });
  }
  return seconds === 0 ? 0 : Math.max(MIN_INTERVAL_S, seconds) * 1000;
}

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
