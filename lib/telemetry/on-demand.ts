/**
 * Readings fetched because a msg asked for them, through the account's scheduler so a msg
 * arriving while the same request is under way (for a poll or another msg) joins it.
 */
import { setMaxListeners } from 'node:events';
import { LeapcraftClient } from '../api/client';
import { TelemetryQuery } from '../api/validation';
import { PollScheduler } from '../poll/scheduler';
import { DeviceDirectory } from './directory';
import { DEVICE_LIST_KEY, telemetryKey, TelemetrySpec } from './keys';
import { Outcome } from './messages';

export interface OnDemandRead {
  scheduler: PollScheduler;
  client: LeapcraftClient;
  /** As given, for the scheduler key; `query` is the same, validated and resolved. */
  spec: TelemetrySpec;
  query: TelemetryQuery;
  /** Empty: every device of the account. */
  ids: string[];
  /** Updated when the list is read for this msg; its names go into msg.device. */
  directory: DeviceDirectory;
  /** Called after `directory` was updated from a list read here (the poll may follow it). */
  listUpdated?: () => void;
  signal: AbortSignal;
}

/**
 * Readings started for a msg at once beyond the account's concurrency, per slot: enough that a
 * slot freed never waits for the next reading to start, few enough that a msg for every device
 * of a large account does not hold a thousand queued requests (each a few KB of promises and
 * closures that outlive the young generation and make garbage collection dear).
 */
const WINDOW_PER_SLOT = 2;

/** One outcome per device, value or error: a failing device does not fail the others. */
export async function readOnDemand(r: OnDemandRead): Promise<Outcome[]> {
  // Every device of the msg waits on this one signal: many listeners are expected, and
  // Node's leak warning (from 11 on) would fill the log at every msg.
  setMaxListeners(0, r.signal);
  const outcomes = new Map<string, Outcome>();
  /** Devices in the order their readings are started; `queued` is the same as a set. */
  const order: string[] = [];
  const queued = new Set<string>();
  const window = (r.client.concurrency >= 1 ? r.client.concurrency : 1) * WINDOW_PER_SLOT;
  let next = 0;
  let active = 0;
  let allQueued = false;
  /** The list failed: no more readings start (those under way finish unused). */
  let stopped = false;
  let finished!: () => void;
  const done = new Promise<void>((resolve) => { finished = resolve; });
  const pump = (): void => {
    while (!stopped && active < window && next < order.length) {
      const id = order[next++]!;
      active++;
      const settled = (outcome: Outcome): void => {
        outcomes.set(id, outcome);
        active--;
        pump();
      };
      r.scheduler.fetchNow(telemetryKey(id, r.spec), (s) => r.client.getTelemetry(id, r.query, { signal: s }), r.signal).then(
        (value) => settled({ id, value }),
        (error: unknown) => settled({ id, error }),
      );
    }
    if (allQueued && active === 0 && next === order.length) finished();
  };
  const read = (id: string): void => {
    if (queued.has(id)) return;
    queued.add(id);
    order.push(id);
    pump();
  };
  let ids = r.ids;
  if (ids.length === 0) {
    // Every device: the readings of a page start while the next page of the list loads,
    // so walking a long list adds no round trips of its own to the msg. (When the list is
    // already being fetched for someone else, the readings start once it is complete; when
    // it fails half-way, the msg fails and readings already under way finish unused.)
    const walk = (s: AbortSignal) => r.client.listDevices({
      signal: s,
      onPage: (page) => { for (const d of page) if (typeof d.physical_id === 'string') read(d.physical_id); },
    });
    try {
      r.directory.update(await r.scheduler.fetchNow(DEVICE_LIST_KEY, walk, r.signal));
    } catch (err) {
      stopped = true;
      throw err;
    }
    r.listUpdated?.();
    ids = r.directory.ids();
  } else if (!r.directory.loaded) {
    // Only for names in msg.device: the readings do not depend on it.
    await r.scheduler.fetchNow(DEVICE_LIST_KEY, (s) => r.client.listDevices({ signal: s }), r.signal).then(
      (list) => { r.directory.update(list); r.listUpdated?.(); },
      () => undefined,
    );
  }
  for (const id of ids) read(id);
  allQueued = true;
  pump();
  await done;
  return ids.map((id) => outcomes.get(id)!);
}
