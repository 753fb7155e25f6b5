/**
 * leapcraft-notifications: every new Leapcraft alert exactly once, as its own msg, oldest
 * first. What was already seen lives in the node's context, in a store the user picks, so
 * a persistent store carries it across restarts and alerts raised while Node-RED was
 * down are emitted when it comes back.
 */
import { Alert, alertKey, detectOrder, LeapcraftClient, LeapcraftError, optionalId, SeenAlerts } from '../lib';
import { attachAccount, clientOf, showStartStatus } from './common/account';
import { toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { intervalMs, readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import { clock } from './common/time';
import type { Msg, Node, NodeAPI, NodeDef, NodeMessage, Send } from './common/types';

interface NotificationsDef extends NodeDef {
  account: string;
  interval?: number | string;
  physicalId?: string;
  emitExisting?: boolean;
  store?: string;
}

const PAGE = 50;
const MAX_SEEN = 5000;
const CONTEXT_KEY = 'leapcraft-seen';

interface StoredState {
  v: 1;
  seen: string[];
  order?: 'newest' | 'oldest';
  /** Oldest-first APIs: how many alerts the list held last time, to start paging near its end. */
  total?: number;
}

export = function register(RED: NodeAPI): void {
  /**
   * Each alerts node's last state by node id, kept by this runtime across redeploys. Without a
   * contextStorage in settings.js, Node-RED deletes a node's context whenever the node stops (any
   * deploy that restarts it): the first check after the redeploy would then take the alerts raised
   * meanwhile for the backlog and never emit them (or, with emitExisting, emit the backlog again).
   * Dropped when the node is deleted; gone with a restart (a new runtime registers anew), as the
   * memory store is.
   */
  const carried = new Map<string, StoredState>();

  function LeapcraftNotificationsNode(this: Node, def: NotificationsDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = attachAccount(RED, node, def.account);
    const store = def.store && def.store.trim() !== '' ? def.store.trim() : undefined;
    const emitExisting = def.emitExisting === true;
    const settings = readSettings(node, status, () => ({
      physicalId: optionalId(def.physicalId, 'physicalId'),
      pollMs: intervalMs(def.interval, 60),
    }));
    if (!settings) return;
    const { physicalId, pollMs } = settings;
    showStartStatus(RED, status, account);
    const client = (): LeapcraftClient => clientOf(RED, account);

    // ---- the seen-alerts memory in the node's context ----------------------------------

    function load(): Promise<StoredState | undefined> {
      return new Promise((resolve, reject) => {
        const cb = (err: Error | null | undefined, value: unknown) => {
          if (err) return reject(err);
          const v = value as StoredState | undefined;
          resolve(v && v.v === 1 && Array.isArray(v.seen) ? v : carried.get(node.id));
        };
        try {
          if (store) node.context().get(CONTEXT_KEY, store, cb as never);
          else node.context().get(CONTEXT_KEY, cb as never);
        } catch (err) {
          reject(err);
        }
      });
    }

    function save(state: StoredState): Promise<void> {
      carried.set(node.id, state);
      return new Promise((resolve, reject) => {
        const cb = (err?: Error | null) => (err ? reject(err) : resolve());
        try {
          if (store) node.context().set(CONTEXT_KEY, state, store, cb as never);
          else node.context().set(CONTEXT_KEY, state, cb as never);
        } catch (err) {
          reject(err);
        }
      });
    }

    // ---- one check ---------------------------------------------------------------------

    async function page(offset: number, signal: AbortSignal): Promise<Alert[]> {
      return client().listNotifications({ physical_id: physicalId, limit: PAGE, offset }, { signal });
    }

    /** Unseen alerts, oldest first, and the list's length when it had to be walked to the end. */
    async function collectUnseen(seen: SeenAlerts, state: StoredState | undefined, signal: AbortSignal): Promise<{ fresh: Alert[]; order: 'newest' | 'oldest'; total?: number }> {
      const first = await page(0, signal);
      const order = detectOrder(first) ?? state?.order ?? 'newest';
      if (order === 'newest') {
        // New alerts are on top: page down until the first one already seen.
        const fresh: Alert[] = [];
        let items = first;
        for (let offset = 0; ; ) {
          for (const alert of items) {
            if (seen.has(alertKey(alert))) return { fresh: fresh.reverse(), order };
            fresh.push(alert);
          }
          if (items.length < PAGE || fresh.length >= MAX_SEEN) return { fresh: fresh.reverse(), order };
          offset += PAGE;
          items = await page(offset, signal);
        }
      }
      // Oldest first: new alerts are at the end. Start near where the list ended last time.
      let offset = Math.max(0, Math.floor(((state?.total ?? 0) - PAGE) / PAGE) * PAGE);
      let items = offset === 0 ? first : await page(offset, signal);
      if (offset > 0 && !items.some((a) => seen.has(alertKey(a)))) {
        // The list shrank or was rewritten: read it from the start.
        offset = 0;
        items = first;
      }
      const fresh: Alert[] = [];
      for (;;) {
        for (const alert of items) if (!seen.has(alertKey(alert))) fresh.push(alert);
        if (items.length < PAGE) return { fresh: fresh.slice(-MAX_SEEN), order, total: offset + items.length };
        offset += PAGE;
        items = await page(offset, signal);
      }
    }

    async function check(base: Msg | undefined, send: Send, signal: AbortSignal): Promise<number> {
      const state = await load();
      const seen = new SeenAlerts(state?.seen, MAX_SEEN);
      const { fresh, order, total } = await collectUnseen(seen, state, signal);
      const firstStart = state === undefined;
      for (const alert of fresh) seen.add(alertKey(alert));
      await save({ v: 1, seen: seen.toJSON(), order, ...(total !== undefined ? { total } : {}) });
      if (firstStart && !emitExisting) {
        status.ok(RED._('leapcraft-notifications.status.recorded', { count: fresh.length }));
        return 0;
      }
      const msgs: NodeMessage[] = fresh.map((alert) => {
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

    // Checks never overlap: two at once would both see the same alert as new.
    let chain: Promise<unknown> = Promise.resolve();
    const sendFromPoll: Send = (msgs) => node.send(msgs as never);
    function serialised(base: Msg | undefined, send: Send, signal: AbortSignal): Promise<number> {
      const run = chain.then(() => check(base, send, signal));
      chain = run.catch(() => undefined);
      return run;
    }

    let unsubscribe: (() => void) | undefined;
    // A failing check reaches Catch once per kind of failure, not at every poll while an outage
    // lasts (as a failing device of the telemetry node); the status shows it until a check succeeds.
    let reportedCode: string | undefined;
    if (account && !account.configError && pollMs > 0) {
      unsubscribe = account.getScheduler().subscribe<number>(
        `notifications\u0000${node.id}`,
        pollMs,
        (signal) => serialised(undefined, sendFromPoll, signal),
        {
          next: () => { reportedCode = undefined; },
          error: (err) => {
            if (err instanceof LeapcraftError && err.code === 'LEAPCRAFT_ABORTED') return;
            status.error(err);
            const code = err instanceof LeapcraftError ? err.code : 'error';
            if (reportedCode === code) return;
            reportedCode = code;
            node.error(toNodeError(err), { physical_id: physicalId } as NodeMessage);
          },
        },
      );
    }

    node.on('close', (removed: boolean, done: () => void) => {
      unsubscribe?.();
      if (removed) carried.delete(node.id);
      done();
    });

    handleInput(RED, node, status, async (msg, send, signal) => {
      client();
      status.requesting();
      await serialised(msg, send, signal);
    });
  }

  RED.nodes.registerType('leapcraft-notifications', LeapcraftNotificationsNode as never);
};
