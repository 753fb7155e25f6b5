/**
 * Scheduler keys of telemetry polling. Nodes that poll the same device with the same query
 * must land on the same key, so the account fetches it once per interval for all of them.
 */

import type { Device } from '../api/types';
import type { Listener, PollScheduler } from '../poll/scheduler';

/** A telemetry query as set in a node or a msg, before validation and before relative times are resolved. */
export type TelemetrySpec = {
  type: unknown;
  resolution: unknown;
  from: unknown;
  to: unknown;
};

/** The account's device list: one key for every node that needs names or "every device". */
export const DEVICE_LIST_KEY = 'devices';
/**
 * How often the device list is read under DEVICE_LIST_KEY: one interval for every node that
 * subscribes to it, so the account reads the list once for all of them.
 */
export const DEVICE_LIST_INTERVAL_MS = 10 * 60_000;

/** What reads the device list (the account's client). */
export interface DeviceListSource {
  listDevices(options: { signal?: AbortSignal }): Promise<Device[]>;
}

/**
 * Subscribes `listener` to the account's device list: every node that needs it (names, "every
 * device", the Home Assistant bridge's clean-up) shares one read per interval. A failed read is
 * retried within seconds, backing off, not ten minutes later.
 */
export function subscribeDeviceList(scheduler: PollScheduler, source: () => DeviceListSource, listener: Listener<Device[]>): () => void {
  return scheduler.subscribe<Device[]>(DEVICE_LIST_KEY, DEVICE_LIST_INTERVAL_MS, (signal) => source().listDevices({ signal }), listener, { retryFailures: true });
}

/**
 * The query as configured, relative times unresolved: "-7d" is the same key at every poll,
 * although it means another instant each time. A latest reading ignores the range, so it is
 * left out and every "latest" node of a device shares one key.
 */
export function telemetryKey(id: string, spec: TelemetrySpec): string {
  return spec.type === 'averages'
    ? ['telemetry', id, 'averages', spec.resolution, spec.from, spec.to].join('\u0000')
    : `telemetry\u0000${id}\u0000latest`;
}
