import { isLeapcraftError } from '../../lib';
import { toNodeError } from './errors';
import { NodeStatus } from './status';
import type { Msg, Node, NodeAPI, Send } from './types';

export type InputHandler = (msg: Msg, send: Send, signal: AbortSignal) => Promise<void>;

/**
 * Wires an async input handler into Node-RED the way the runtime needs it: a handler of
 * exactly three parameters (so `done` is honoured), every rejection turned into
 * done(err) for Catch nodes, and every request of this node aborted on close so a
 * redeploy leaves nothing running and sends nothing late.
 */
export function handleInput(RED: NodeAPI, node: Node, status: NodeStatus, handler: InputHandler): void {
  const inFlight = new Set<AbortController>();
  let closing = false;

  node.on('input', (msg: Msg, send: Send, done: (err?: Error) => void) => {
    const controller = new AbortController();
    inFlight.add(controller);
    handler(msg, send, controller.signal)
      .then(
        () => done(),
        (err: unknown) => {
          // A request cut short by close is not an error of the flow.
          if (closing || (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED' && controller.signal.aborted)) {
            done();
            return;
          }
          status.error(err);
          done(toNodeError(err));
        },
      )
      .catch((err: unknown) => {
        // done() itself threw: report it, never let it become an unhandled rejection.
        node.error(toNodeError(err));
      })
      .finally(() => inFlight.delete(controller));
  });

  node.on('close', (_removed: boolean, done: () => void) => {
    closing = true;
    for (const controller of inFlight) controller.abort();
    inFlight.clear();
    done();
  });
}
