/** node-red-node-test-helper set up once for every node test file. */
import helper from 'node-red-node-test-helper';
import { forgetSharedTokens } from '../../lib';

helper.init(require.resolve('node-red'));

// Shared tokens are forgotten after every test by the root hook plugin (./root-hooks.ts) that
// mocha's configs load; a run without them (mocha --no-config <file>) gets the same hook here.
if (!require.cache[require.resolve('./root-hooks')]) afterEach(() => forgetSharedTokens());

export { helper };

// eslint-disable-next-line @typescript-eslint/no-require-imports
export const catchNode = require('@node-red/nodes/core/common/25-catch.js');

export type TestNode = ReturnType<typeof helper.getNode> & Record<string, unknown>;

/** The next `count` messages a helper node receives. */
export function nextMessages(node: TestNode, count = 1, timeoutMs = 5000): Promise<Array<Record<string, unknown>>> {
  return new Promise((resolve, reject) => {
    const got: Array<Record<string, unknown>> = [];
    const timer = setTimeout(() => {
      node.removeListener('input', onInput);
      reject(new Error(`timed out waiting for ${count} msg(s), got ${got.length}`));
    }, timeoutMs);
    function onInput(msg: Record<string, unknown>) {
      got.push(msg);
      if (got.length >= count) {
        clearTimeout(timer);
        node.removeListener('input', onInput);
        resolve(got);
      }
    }
    node.on('input', onInput);
  });
}

/** Collects every msg a helper node receives, for "nothing else arrived" checks. */
export function collect(node: TestNode): Array<Record<string, unknown>> {
  const got: Array<Record<string, unknown>> = [];
  node.on('input', (msg: Record<string, unknown>) => got.push(msg));
  return got;
}

/**
 * Msgs sent between nodes and not yet delivered (Node-RED delivers on a later turn of the event
 * loop): with a fake clock, a test waits for none before moving time on. `stop` removes the hooks.
 */
export function msgsInTransit(): { pending(): number; stop(): void } {
  const hooks = (helper as unknown as { _RED: { hooks: { add(name: string, fn: (e: unknown) => void): void; remove(name: string): void } } })._RED.hooks;
  type Event = { msg?: { _msgid?: string } };
  // By msg id: a msg a test hands a node itself (node.receive) is received without being sent.
  const inTransit = new Map<string | undefined, number>();
  let pending = 0;
  hooks.add('onSend.inTransit', (events) => {
    for (const e of events as Event[]) {
      inTransit.set(e.msg?._msgid, (inTransit.get(e.msg?._msgid) ?? 0) + 1);
      pending++;
    }
  });
  hooks.add('postReceive.inTransit', (event) => {
    const id = (event as Event).msg?._msgid;
    const n = inTransit.get(id);
    if (!n) return;
    if (n === 1) inTransit.delete(id);
    else inTransit.set(id, n - 1);
    pending--;
  });
  return { pending: () => pending, stop: () => hooks.remove('*.inTransit') };
}
