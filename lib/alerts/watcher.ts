/**
 * Finding the alerts not seen before, in a list whose order the API does not document.
 * The watcher holds no alerts itself: what was seen lives wherever `load`/`save` keep it
 * (a Node-RED context store, a file), so it carries across restarts of whatever runs it.
 */
import { Alert } from '../api/types';
import { NOTIFICATIONS_MAX_LIMIT } from '../api/validation';
import { alertKey, detectOrder, orderFromPositions, SeenAlerts } from './seen';

/** The most the API hands out at once: the fewest requests per check. */
export const ALERT_PAGE_SIZE = NOTIFICATIONS_MAX_LIMIT;
/** Bounds the state a context store rewrites at every check. */
export const MAX_REMEMBERED_ALERTS = 5000;

/**
 * What is saved between checks. Users' persistent context stores already hold this exact
 * shape (version 1), so it may only grow compatibly.
 */
export interface AlertState {
  v: 1;
  seen: string[];
  order?: 'newest' | 'oldest';
  /** Oldest-first APIs: how many alerts the list held last time, to start paging near its end. */
  total?: number;
}

/**
 * A stored value as an AlertState, or undefined when it is not one (nothing stored yet, or
 * something else under the key). Stray `order`/`total` are dropped rather than trusted: a
 * garbled total would otherwise become a NaN offset.
 */
export function readAlertState(value: unknown): AlertState | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Partial<AlertState>;
  if (v.v !== 1 || !Array.isArray(v.seen)) return undefined;
  const state: AlertState = { v: 1, seen: v.seen };
  if (v.order === 'newest' || v.order === 'oldest') state.order = v.order;
  if (typeof v.total === 'number' && Number.isFinite(v.total) && v.total >= 0) state.total = v.total;
  return state;
}

export interface AlertWatcherOptions {
  /** The state saved last, or undefined before the first check ever. */
  load(): Promise<AlertState | undefined>;
  save(state: AlertState): Promise<void>;
  /** One page of the alert list, `limit` alerts from `offset`, in the API's order. */
  fetchPage(offset: number, signal: AbortSignal, limit: number): Promise<Alert[]>;
  pageSize?: number;
  maxRemembered?: number;
}

export interface AlertCheck {
  /** Alerts not seen before, oldest first; already saved as seen. */
  alerts: Alert[];
  /**
   * Nothing had been saved before this check: `alerts` is the backlog that was there when
   * watching began, which a caller may want to record without acting on.
   */
  firstStart: boolean;
}

interface Unseen {
  fresh: Alert[];
  /** Undefined while neither times nor positions have told it. */
  order?: 'newest' | 'oldest';
  total?: number;
}

export class AlertWatcher {
  private readonly pageSize: number;
  private readonly maxRemembered: number;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: AlertWatcherOptions) {
    this.pageSize = options.pageSize ?? ALERT_PAGE_SIZE;
    this.maxRemembered = options.maxRemembered ?? MAX_REMEMBERED_ALERTS;
  }

  /**
   * New alerts since the last check, saved as seen before they are returned: a crash after
   * the save loses them rather than handing them out twice. Checks run one after the other
   * whoever calls: two at once would both load the same state and both return the same alert.
   */
  check(signal: AbortSignal): Promise<AlertCheck> {
    const run = this.chain.then(() => this.checkNow(signal));
    // A failed check must not stop the ones queued behind it.
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async checkNow(signal: AbortSignal): Promise<AlertCheck> {
    const state = readAlertState(await this.options.load());
    const seen = new SeenAlerts(state?.seen, this.maxRemembered);
    const { fresh, order, total } = await this.collectUnseen(seen, state, signal);
    for (const alert of fresh) seen.add(alertKey(alert));
    await this.options.save({ v: 1, seen: seen.toJSON(), ...(order ? { order } : {}), ...(total !== undefined ? { total } : {}) });
    return { alerts: fresh, firstStart: state === undefined };
  }

  private page(offset: number, signal: AbortSignal): Promise<Alert[]> {
    return this.options.fetchPage(offset, signal, this.pageSize);
  }

  /** Unseen alerts, oldest first, and the list's length when it had to be walked to the end. */
  private async collectUnseen(seen: SeenAlerts, state: AlertState | undefined, signal: AbortSignal): Promise<Unseen> {
    const PAGE = this.pageSize;
    const first = await this.page(0, signal);
    // The alerts' times tell the order; without times, where the new alerts stand among the
    // seen ones does; a page that cannot tell keeps the order learnt earlier.
    const order = detectOrder(first) ?? orderFromPositions(first, seen) ?? state?.order;
    if (order === undefined) return this.collectInUnknownOrder(first, seen, state, signal);
    if (order === 'newest') {
      // New alerts are on top: page down until the first one already seen.
      const fresh: Alert[] = [];
      let items = first;
      for (let offset = 0; ; ) {
        for (const alert of items) {
          if (seen.has(alertKey(alert))) return { fresh: fresh.reverse(), order };
          fresh.push(alert);
        }
        // More than can be remembered would be forgotten at once and come back as new next time.
        if (items.length < PAGE || fresh.length >= this.maxRemembered) return { fresh: fresh.reverse(), order };
        offset += PAGE;
        items = await this.page(offset, signal);
      }
    }
    return this.collectFromEnd(first, seen, state, order, signal);
  }

  /**
   * Oldest first (or not known): new alerts are at the end. Start near where the list ended
   * last time; every unseen alert on the way counts.
   */
  private async collectFromEnd(first: Alert[], seen: SeenAlerts, state: AlertState | undefined, order: 'oldest' | undefined, signal: AbortSignal): Promise<Unseen> {
    const PAGE = this.pageSize;
    let offset = Math.max(0, Math.floor(((state?.total ?? 0) - PAGE) / PAGE) * PAGE);
    let items = offset === 0 ? first : await this.page(offset, signal);
    if (offset > 0 && !items.some((a) => seen.has(alertKey(a)))) {
      // The list shrank or was rewritten: read it from the start.
      offset = 0;
      items = first;
    }
    const fresh: Alert[] = [];
    for (;;) {
      // Undated alerts: new ones found below seen ones on the way tell the order for next time.
      order ??= orderFromPositions(items, seen) === 'oldest' ? 'oldest' : undefined;
      for (const alert of items) if (!seen.has(alertKey(alert))) fresh.push(alert);
      if (items.length < PAGE) return { fresh: fresh.slice(-this.maxRemembered), order, total: offset + items.length };
      offset += PAGE;
      items = await this.page(offset, signal);
    }
  }

  /**
   * Alerts without times, and nothing yet to tell the order by (the first check, or a first
   * page of only seen or only new alerts). No new alert may be missed, so the whole list is
   * read when its first page is all new; when it is all seen, new alerts can only be at the
   * end (a newest-first list would show them on top), read from near where it ended last time.
   */
  private async collectInUnknownOrder(first: Alert[], seen: SeenAlerts, state: AlertState | undefined, signal: AbortSignal): Promise<Unseen> {
    const allSeen = first.length > 0 && first.every((alert) => seen.has(alertKey(alert)));
    return this.collectFromEnd(first, seen, allSeen ? state : undefined, undefined, signal);
  }
}

/**
 * Two memories of one alerts node as one (a cluster's shared one and the node's own, which may
 * know alerts it handled alone while Redis was unreachable): every alert either has seen, the
 * newest kept when there are too many.
 */
export function mergeAlertStates(a: AlertState | undefined, b: AlertState | undefined, max = MAX_REMEMBERED_ALERTS): AlertState | undefined {
  if (!a || !b) return a ?? b;
  const seen = new SeenAlerts(a.seen, max);
  for (const key of b.seen) if (!seen.has(key)) seen.add(key);
  const merged: AlertState = { v: 1, seen: seen.toJSON() };
  const order = a.order ?? b.order;
  if (order) merged.order = order;
  const total = Math.max(a.total ?? -1, b.total ?? -1);
  if (total >= 0) merged.total = total;
  return merged;
}

/** `state` with `alerts` remembered as seen; and the alerts it had not seen before, in their order. */
export function rememberAlerts(state: AlertState | undefined, alerts: readonly Alert[], max = MAX_REMEMBERED_ALERTS): { state: AlertState; unseen: Alert[] } {
  const seen = new SeenAlerts(state?.seen, max);
  const unseen = alerts.filter((alert) => !seen.has(alertKey(alert)));
  for (const alert of alerts) seen.add(alertKey(alert));
  return { state: { ...(state ?? { v: 1 }), v: 1, seen: seen.toJSON() }, unseen };
}
