import { isLeapcraftError } from '../../lib';
import { commonText } from './i18n';
import type { Node, NodeAPI } from './types';

/**
 * Every status a Leapcraft node shows goes through here, so the palette reads the same
 * everywhere: a colour and shape say how things are, the text (already translated by the
 * node, which knows its own catalog) says what.
 */
export class NodeStatus {
  constructor(private readonly RED: NodeAPI, private readonly node: Node) {}

  idle(): void {
    this.node.status({ fill: 'grey', shape: 'ring', text: commonText(this.RED, 'status.idle') });
  }

  /** Nothing to do yet, or nothing until a msg arrives. */
  waiting(text: string): void {
    this.node.status({ fill: 'grey', shape: 'ring', text });
  }

  requesting(): void {
    this.node.status({ fill: 'blue', shape: 'dot', text: commonText(this.RED, 'status.requesting') });
  }

  /** Started work that has not answered yet (polls under way, before the first value). */
  busy(text: string): void {
    this.node.status({ fill: 'blue', shape: 'ring', text });
  }

  /** Success. */
  ok(text: string): void {
    this.node.status({ fill: 'green', shape: 'dot', text });
  }

  /** Working, with something the user should know (stale device list, devices offline). */
  degraded(text: string): void {
    this.node.status({ fill: 'yellow', shape: 'dot', text });
  }

  /** Not working as it should, but not a failure of this node's own (waiting out trouble). */
  warning(text: string): void {
    this.node.status({ fill: 'yellow', shape: 'ring', text });
  }

  /** Failing, with the node's own words for it (e.g. "3 of 10 devices failing"). */
  failing(text: string): void {
    this.node.status({ fill: 'red', shape: 'ring', text });
  }

  error(err: unknown): void {
    if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_RATE_LIMITED' && err.retryAfterMs) {
      const seconds = Math.ceil(err.retryAfterMs / 1000);
      this.warning(commonText(this.RED, 'status.rateLimited', { seconds }));
      return;
    }
    const key = isLeapcraftError(err) ? `error.${err.code}` : 'error.unknown';
    this.failing(commonText(this.RED, key));
  }

  clear(): void {
    this.node.status({});
  }
}
