/**
 * leapcraft-notifications: every new Leapcraft alert exactly once, as its own msg, oldest
 * first. What was already seen lives in the node's context, in a store the user picks, so
 * a persistent store carries it across restarts and alerts raised while Node-RED was
 * down are emitted when it comes back. With the account shared through Redis the memory and
 * the alerts not yet emitted live there too (lib/cluster/shared-alerts.ts): each alert is
 * emitted on one replica (claim, emit, mark), or on every replica when set so.
 */
import {
  Alert, AlertRelay, AlertState, AlertWatcher, LeapcraftClient, mergeAlertStates, oneOf, optionalId, readAlertState, rememberAlerts,
} from '../lib';
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
  /** Shared through Redis: each alert on 'one' replica (the default) or on 'every' replica. */
  replicas?: string;
}

const CONTEXT_KEY = 'leapcraft-seen';
const REPLICAS = ['one', 'every'] as const;

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
      replicas: oneOf(def.replicas || 'one', 'replicas', REPLICAS),
    }));
    if (!started) return;
    const { node, status, account, settings: { physicalId, pollMs, replicas } } = started;
    status.polls(pollMs, true);
    const client = (): LeapcraftClient => clientOf(RED, account);

    // What was seen lives in the node's context, in the store the user picked (and, shared, in Redis).
    const memory = nodeMemory<AlertState>(node, CONTEXT_KEY, store, carried, readAlertState);
    let relay: AlertRelay | undefined;
    let checked: AlertState | undefined;
    const watcher = new AlertWatcher({
      load: async () => mergeAlertStates(relay ? await relay.load() : undefined, await memory.load()),
      save: (state) => { checked = state; return memory.save(state); },
      fetchPage: (offset, signal, limit) => client().listNotifications({ physical_id: physicalId, limit, offset }, { signal }),
    });

    function emit(base: Msg | undefined, alerts: readonly Alert[], send: Send): void {
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
    }

    /** One check; resolves with the new alerts, which a shared account hands to the other replicas. */
    async function check(base: Msg | undefined, send: Send, signal: AbortSignal): Promise<Alert[]> {
      relay = account?.alertRelay(node.id);
      const { alerts, firstStart } = await watcher.check(signal);
      // The alerts there when watching began are recorded, not emitted (unless asked to).
      const backlog = firstStart && !emitExisting;
      const found = backlog ? [] : alerts;
      if (backlog) status.ok(RED._('leapcraft-notifications.status.recorded', { count: alerts.length }));
      if (!relay) {
        if (!backlog) emit(base, found, send);
        return found;
      }
      try {
        await relay.record(checked!, found);
        if (replicas === 'every') {
          if (!backlog) emit(base, found, send);
        // One replica: what this one may claim, including what a replica that died left pending.
        } else if (await relay.drain((claimed) => emit(base, claimed, send)) === 0 && !backlog) {
          emit(base, [], send);
        }
      } catch {
        // Redis failed half-way: emitted here rather than lost (at least once, docs/CLUSTER.md).
        emit(base, found, send);
      }
      return found;
    }

    /** A replica that follows hears what the leader found: it remembers it, and on 'every' emits it. */
    async function followed(alerts: Alert[]): Promise<void> {
      const { state, unseen } = rememberAlerts(await memory.load(), alerts);
      await memory.save(state);
      if (replicas === 'every' && unseen.length) emit(undefined, unseen, (msgs) => node.send(msgs as never));
    }

    let unsubscribe: (() => void) | undefined;
    if (account && !account.configError && pollMs > 0) {
      unsubscribe = account.getScheduler().subscribe<Alert[]>(
        `notifications\u0000${node.id}`,
        pollMs,
        (signal) => check(undefined, (msgs) => node.send(msgs as never), signal),
        {
          next: (alerts) => {
            if (!account.acting() && Array.isArray(alerts)) followed(alerts).catch((err: unknown) => node.error(toNodeError(err)));
          },
          // The status follows every failed check; Catch hears of a failure once, not at every
          // poll while an outage lasts.
          error: (err, failure) => {
            status.error(err);
            if (failure.first) node.error(toNodeError(err), { physical_id: physicalId } as NodeMessage);
          },
        },
        { priority: 'alerts' }, // under a request budget, alert checks are served first and stretched last
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
