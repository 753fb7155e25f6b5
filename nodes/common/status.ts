import { isLeapcraftError } from '../../lib';
import { commonText } from './i18n';
import type { Node, NodeAPI } from './types';

/** Status shapes shared by every Leapcraft node, so they read the same across the palette. */
export class NodeStatus {
  constructor(private readonly RED: NodeAPI, private readonly node: Node) {}

  idle(): void {
    this.node.status({ fill: 'grey', shape: 'ring', text: commonText(this.RED, 'status.idle') });
  }

  requesting(): void {
    this.node.status({ fill: 'blue', shape: 'dot', text: commonText(this.RED, 'status.requesting') });
  }

  /** Success: `text` is already translated by the node (it knows its own catalog). */
  ok(text: string): void {
    this.node.status({ fill: 'green', shape: 'dot', text });
  }

  error(err: unknown): void {
    if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_RATE_LIMITED' && err.retryAfterMs) {
      const seconds = Math.ceil(err.retryAfterMs / 1000);
      this.node.status({ fill: 'yellow', shape: 'ring', text: commonText(this.RED, 'status.rateLimited', { seconds }) });
      return;
    }
    const key = isLeapcraftError(err) ? `error.${err.code}` : 'error.unknown';
    this.node.status({ fill: 'red', shape: 'ring', text: commonText(this.RED, key) });
  }

  clear(): void {
    this.node.status({});
  }
}
