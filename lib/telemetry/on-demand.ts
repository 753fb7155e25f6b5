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

/** One outcome per device, value or error: a failing device does not fail the others. */
export async function readOnDemand(r: OnDemandRead): Promise<Outcome[]> {
  // Every device of the msg waits on this one signal: a thousand listeners are expected,
  // and Node's leak warning (from 11 on) would fill the log at every msg.
  setMaxListeners(0, r.signal);
  const readings = new Map<string, Promise<Outcome>>();
  const read = (id: string): Promise<Outcome> => {
    let reading = readings.get(id);
    if (!reading) {
      reading = r.scheduler.fetchNow(telemetryKey(id, r.spec), (s) => r.client.getTelemetry(id, r.query, { signal: s }), r.signal).then(
        (value) => ({ id, value }),
        (error: unknown) => ({ id, error }),
      );
      readings.set(id, reading);
    }
    return reading;
  };
  let ids = r.ids;
  if (ids.length === 0) {
    // Every device: the readings of a page start while the next page of the list loads,
    // so walking a long list adds no round trips of its own to the msg. (When the list is
    // already being fetched for someone else, the readings start once it is complete; when
    // it fails half-way, the msg fails and readings already under way finish unused.)
    const walk = (s: AbortSignal) => r.client.listDevices({
      signal: s,
      onPage: (page) => { for (const d of page) if (typeof d.physical_id === 'string') void read(d.physical_id); },
    });
    r.directory.update(await r.scheduler.fetchNow(DEVICE_LIST_KEY, walk, r.signal));
    r.listUpdated?.();
    ids = r.directory.ids();
  } else if (!r.directory.loaded) {
    // Only for names in msg.device: the readings do not depend on it.
    await r.scheduler.fetchNow(DEVICE_LIST_KEY, (s) => r.client.listDevices({ signal: s }), r.signal).then(
      (list) => { r.directory.update(list); r.listUpdated?.(); },
      () => undefined,
    );
  }
  return Promise.all(ids.map(read));
}
