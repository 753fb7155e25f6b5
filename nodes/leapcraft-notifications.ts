/**
 * leapcraft-notifications: every new Leapcraft alert exactly once, as its own msg, oldest
 * first. What was already seen lives in the node's context, in a store the user picks, so
 * a persistent store carries it across restarts and alerts raised while Node-RED was
 * down are emitted when it comes back.
 */
import { AlertState, AlertWatcher, LeapcraftClient, optionalId, readAlertState } from '../lib';
import { clientOf } from './common/account';
import { nodeMemory } from './common/context';
import { startAccountNode } from './common/start';
import { toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { intervalMs } from './common/settings';
import { clock } from './common/time';
import type { Msg, Node, NodeAPI, NodeDef, NodeMessage, Send } from './common/types';

interface NotificationsDef extends NodeDef {
  account: string;
  interval?: number | string;
  physicalId?: string;
  emitExisting?: boolean;
  store?: string;
}

const CONTEXT_KEY = 'leapcraft-seen';

export = function register(RED: NodeAPI): void {
  /**
   * Each alerts node's last state by node id, kept by this runtime across redeploys. Without a
   * contextStorage in settings.js, Node-RED deletes a node's context whenever the node stops (any
   * deploy that restarts it): the first check after the redeploy would then take the alerts raised
   * meanwhile for the backlog and never emit them (or, with emitExisting, emit the backlog again).
   * Dropped when the node is deleted; gone with a restart (a new runtime registers anew), as the
   * memory store is.
   */
  const carried = new Map<string, AlertState>();

  function LeapcraftNotificationsNode(this: Node, def: NotificationsDef) {
    const store = def.store && def.store.trim() !== '' ? def.store.trim() : undefined;
    const emitExisting = def.emitExisting === true;
    const started = startAccountNode(RED, this, def, () => ({
      physicalId: optionalId(def.physicalId, 'physicalId'),
      pollMs: intervalMs(def.interval, 60),
    }));
    if (!started) return;
    const { node, status, account, settings: { physicalId, pollMs } } = started;
    status.polls(pollMs, true);
    const client = (): LeapcraftClient => clientOf(RED, account);

    // What was seen lives in the node's context, in the store the user picked.
    const memory = nodeMemory<AlertState>(node, CONTEXT_KEY, store, carried, readAlertState);
    const watcher = new AlertWatcher({
      load: () => memory.load(),
      save: (state) => memory.save(state),
      fetchPage: (offset, signal, limit) => client().listNotifications({ physical_id: physicalId, limit, offset }, { signal }),
    });

    // ---- one check ---------------------------------------------------------------------

    async function check(base: Msg | undefined, send: Send, signal: AbortSignal): Promise<number> {
      const { alerts, firstStart } = await watcher.check(signal);
      if (firstStart && !emitExisting) {
        status.ok(RED._('leapcraft-notifications.status.recorded', { count: alerts.length }));
        return 0;
      }
      const msgs: NodeMessage[] = alerts.map((alert) => {
        const msg = (base ? RED.util.cloneMessage(base) : {}) as Msg;
        msg.payload = alert;
        msg.topic = typeof alert.physical_id === 'string' ? alert.physical_id : '';
        return msg;
      });
      if (msgs.length) send([msgs]);
      status.ok(msgs.length
        ? RED._('leapcraft-notifications.status.new', { count: msgs.length, time: clock() })
        : RED._('leapcraft-notifications.status.none', { time: clock() }));
      return msgs.length;
    }

    let unsubscribe: (() => void) | undefined;
    if (account && !account.configError && pollMs > 0) {
      unsubscribe = account.getScheduler().subscribe<number>(
        `notifications\u0000${node.id}`,
        pollMs,
        (signal) => check(undefined, (msgs) => node.send(msgs as never), signal),
        {
          next: () => undefined,
          // The status follows every failed check; Catch hears of a failure once, not at every
          // poll while an outage lasts.
          error: (err, failure) => {
            status.error(err);
            if (failure.first) node.error(toNodeError(err), { physical_id: physicalId } as NodeMessage);
          },
        },
        // Under a request budget, alert checks are served first and stretched last.
        { priority: 'alerts' },
      );
    }

    node.on('close', (removed: boolean, done: () => void) => {
      unsubscribe?.();
      if (removed) memory.forget();
      done();
    });

    handleInput(RED, node, status, async (msg, send, signal) => {
      client();
      status.requesting();
      await check(msg, send, signal);
    });
  }

  RED.nodes.registerType('leapcraft-notifications', LeapcraftNotificationsNode as never);
};
