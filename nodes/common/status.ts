import { AccountView, isLeapcraftError } from '../../lib';
import { commonText } from './i18n';
import { clock } from './time';
import type { Node, NodeAPI } from './types';

interface Shown {
  fill?: 'red' | 'green' | 'yellow' | 'blue' | 'grey';
  shape?: 'ring' | 'dot';
  text?: string;
}

/**
 * Every status a Leapcraft node shows goes through here, so the palette reads the same
 * everywhere: a colour and shape say how things are, the text (already translated by the
 * node, which knows its own catalog) says what. The account's state is pushed in
 * (`account`, from nodes/common/start.ts) and shown with the node's own: a refused key
 * instead of it, a stretched pace, a pause the API asked for and the node's part in a cluster
 * after it. It reaches the status when it changes, whether or not an answer arrives.
 */
export class NodeStatus {
  private own?: Shown;
  /** What the node shows now: a change of the account that changes nothing here is not shown again. */
  private shown?: string;
  private view?: AccountView;
  private polling?: { intervalMs: number; alerts: boolean };

  constructor(private readonly RED: NodeAPI, private readonly node: Node) {}

  /** The account's state changed (or the node just registered). */
  account(view: AccountView): void {
    this.view = view;
    this.render();
  }

  /** The node polls every `intervalMs` (alert checks: `alerts`): its status says when the budget stretches that. */
  polls(intervalMs: number, alerts = false): void {
    this.polling = intervalMs > 0 ? { intervalMs, alerts } : undefined;
    this.render();
  }

  idle(): void {
    this.show({ fill: 'grey', shape: 'ring', text: commonText(this.RED, 'status.idle') });
  }

  /** Nothing to do yet, or nothing until a msg arrives. */
  waiting(text: string): void {
    this.show({ fill: 'grey', shape: 'ring', text });
  }

  requesting(): void {
    this.show({ fill: 'blue', shape: 'dot', text: commonText(this.RED, 'status.requesting') });
  }

  /** Started work that has not answered yet (polls under way, before the first value). */
  busy(text: string): void {
    this.show({ fill: 'blue', shape: 'ring', text });
  }

  /** Success. */
  ok(text: string): void {
    this.show({ fill: 'green', shape: 'dot', text });
  }

  /** Working, with something the user should know (stale device list, devices offline). */
  degraded(text: string): void {
    this.show({ fill: 'yellow', shape: 'dot', text });
  }

  /** Not working as it should, but not a failure of this node's own (waiting out trouble). */
  warning(text: string): void {
    this.show({ fill: 'yellow', shape: 'ring', text });
  }

  /** Failing, with the node's own words for it (e.g. "3 of 10 devices failing"). */
  failing(text: string): void {
    this.show({ fill: 'red', shape: 'ring', text });
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
    this.show({});
  }

  private show(shown: Shown): void {
    this.own = shown;
    this.shown = undefined;
    this.render();
  }

  /** Shows `status` unless it is already shown (an own status is always shown: the node may say the same again). */
  private put(status: Shown): void {
    const text = JSON.stringify(status);
    if (text === this.shown) return;
    this.shown = text;
    this.node.status(status);
  }

  private render(): void {
    const own = this.own;
    if (!own) return;
    const view = this.view;
    if (view?.keyRefused) {
      this.put({ fill: 'red', shape: 'ring', text: commonText(this.RED, 'status.keyRefused') });
      return;
    }
    if (!view || own.text === undefined) {
      this.put(own);
      return;
    }
    const notes: string[] = [];
    // A failing status says only what fails.
    if (own.fill !== 'red') {
      const factor = this.polling ? (this.polling.alerts ? view.alertsStretch : view.stretch) : 1;
      if (this.polling && factor > 1 && view.paceReason) {
        const seconds = Math.round((this.polling.intervalMs * factor) / 1000);
        notes.push(commonText(this.RED, 'status.paced', { seconds, reason: commonText(this.RED, `status.pace.${view.paceReason}`) }));
      }
      if (view.rateLimitedUntil !== undefined) notes.push(commonText(this.RED, 'status.apiPause', { time: clock(view.rateLimitedUntil) }));
    }
    if (view.coordination !== 'alone') notes.push(commonText(this.RED, `status.${view.coordination}`));
    const unshared = view.coordination === 'unshared' && own.fill === 'green';
    this.put({ fill: unshared ? 'yellow' : own.fill, shape: own.shape, text: [own.text, ...notes].join(' · ') });
  }
}
