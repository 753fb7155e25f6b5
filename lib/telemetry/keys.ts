/**
 * Scheduler keys of telemetry polling. Nodes that poll the same device with the same query
 * must land on the same key, so the account fetches it once per interval for all of them.
 */

/** A telemetry query as set in a node or a msg, before validation and before relative times are resolved. */
export type TelemetrySpec = {
  type: unknown;
  resolution: unknown;
  from: unknown;
  to: unknown;
};

/** The account's device list: one key for every node that needs names or "every device". */
export const DEVICE_LIST_KEY = 'devices';
/** How often "every device" re-reads the device list, so new sensors join the poll. */
export const DEVICE_LIST_REFRESH_MS = 10 * 60_000;

/**
 * The query as configured, relative times unresolved: "-7d" is the same key at every poll,
 * although it means another instant each time. A latest reading ignores the range, so it is
 * left out and every "latest" node of a device shares one key.
 */
export function telemetryKey(id: string, spec: TelemetrySpec): string {
  return spec.type === 'averages'
    ? ['telemetry', id, 'averages', spec.resolution, spec.from, spec.to].join('\u0000')
    : ['telemetry', id, 'latest'].join('\u0000');
}
