/**
 * The account's topologies with the sensors behind each gateway: one policy for every
 * node that needs them (leapcraft-topology with joinDevices, the Home Assistant bridge's
 * via_device look-up), so they cannot drift apart again.
 */
import { anySignal } from './abort';
import type { LeapcraftClient } from './client';
import { isLeapcraftError } from './errors';
import { Device, Topology } from './types';
import { integerInRange, requireId } from './validation';

/** At most this many gateways' details are read in one call, unless the caller says otherwise. */
export const TOPOLOGY_DETAILS_MAX = 100;
/** At most this many details requests at a time, unless the caller says otherwise. */
export const TOPOLOGY_DETAILS_CONCURRENCY = 4;

export interface TopologiesOptions {
  /** Cancels the call and every request of it. */
  signal?: AbortSignal;
  /** Most details requests in one call (0: none); default TOPOLOGY_DETAILS_MAX. */
  maxDetails?: number;
  /** Most details requests in flight at once (1: one after the other); default TOPOLOGY_DETAILS_CONCURRENCY. */
  concurrency?: number;
}

/** Answers about one gateway, not about the API or the account: retrying the call would not change them. */
const GATEWAY_ANSWERS = new Set(['LEAPCRAFT_NOT_FOUND', 'LEAPCRAFT_BAD_REQUEST']);

/** The id that addresses an entry's details (`GET /topologies/{gateway_id}`), if it has a usable one. */
function gatewayIdOf(entry: unknown): string | undefined {
  if (!entry || typeof entry !== 'object' || Array.isArray(entry)) return undefined;
  try {
    return requireId((entry as Topology).gateway_id, 'gateway_id');
  } catch {
    return undefined;
  }
}

/**
 * Every topology of the account, each with its `devices` where they can be known.
 *
 * The policy:
 * 1. `GET /topologies`, once. If it fails, the call fails.
 * 2. An entry that already carries a `devices` array is taken as listed: no request for it.
 * 3. Every other entry with a usable `gateway_id` gets its details (`GET /topologies/{gateway_id}`)
 *    merged over it, `{ ...entry, ...details }`: list-only fields such as `device_count` are kept.
 *    At most `maxDetails` such requests (default 100), for the first entries in list order;
 *    at most `concurrency` of them at a time (default 4, and never more than the client's own
 *    limit), so a big account's details never hold every slot of the client while its
 *    telemetry polls wait.
 * 4. Entries past that bound, without a usable gateway id, or whose details the API answers
 *    404 (the gateway went away since the list was read) or 400 (it refuses that id) are kept
 *    as listed, without `devices`: the answer is still the whole list, in its order.
 * 5. Any other failure of a details request (unavailable, timeout, rate limit, refused key,
 *    unreadable body) fails the whole call with that error, and no further details are
 *    requested (those under way are cancelled): a half-joined answer is never passed off as a
 *    complete one. The caller's retry applies instead (a msg reaches Catch; a scheduled read
 *    is retried and its last good value kept meanwhile).
 * 6. Cancelled through `signal`: rejects with LEAPCRAFT_ABORTED, nothing further is sent.
 *
 * A bad `maxDetails` or `concurrency` is refused (LEAPCRAFT_INVALID_INPUT) before any request.
 */
export async function listTopologiesWithDevices(client: LeapcraftClient, options: TopologiesOptions = {}): Promise<Topology[]> {
  const maxDetails = integerInRange(options.maxDetails ?? TOPOLOGY_DETAILS_MAX, 'maxDetails', 0, Number.MAX_SAFE_INTEGER);
  const concurrency = integerInRange(options.concurrency ?? TOPOLOGY_DETAILS_CONCURRENCY, 'concurrency', 1, 1024);
  const list = await client.listTopologies({ signal: options.signal });
  const result = [...list];
  const due: Array<{ index: number; id: string }> = [];
  for (const [index, entry] of list.entries()) {
    if (due.length >= maxDetails) break;
    if (entry && typeof entry === 'object' && Array.isArray(entry.devices)) continue;
    const id = gatewayIdOf(entry);
    if (id !== undefined) due.push({ index, id });
  }
  if (due.length === 0) return result;

  const stop = new AbortController();
  const { signal, dispose } = anySignal([options.signal, stop.signal]);
  let failure: { error: unknown } | undefined;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (!failure && next < due.length) {
      const { index, id } = due[next++];
      try {
        const details = await client.getTopology(id, { signal });
        result[index] = { ...list[index], ...details };
      } catch (err) {
        if (isLeapcraftError(err) && GATEWAY_ANSWERS.has(err.code)) continue;
        if (!failure) {
          // The first failure is the answer; the siblings it cancels only echo it.
          failure = { error: err };
          stop.abort();
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, worker));
  } finally {
    dispose();
  }
  if (failure) throw failure.error;
  return result;
}

/** The device list by physical id, for joinDeviceList. */
export function deviceDirectory(devices: Iterable<Device>): Map<string, Device> {
  const directory = new Map<string, Device>();
  for (const d of devices) if (d && typeof d.physical_id === 'string') directory.set(d.physical_id, d);
  return directory;
}

/**
 * A topology whose device entries are joined with their device-list entries: `name` and
 * `type` added where the entry lacks them (the API's own values are kept), the whole list
 * entry as `device`. Entries not in the list, and anything that is not an object, stay as
 * they are; a topology without a `devices` array is returned unchanged.
 */
export function joinDeviceList(topology: Topology, directory: ReadonlyMap<string, Device>): Topology {
  if (!Array.isArray(topology.devices)) return topology;
  const devices = topology.devices.map((entry) => {
    if (!entry || typeof entry !== 'object') return entry;
    const id = (entry as { physical_id?: unknown }).physical_id;
    const device = typeof id === 'string' ? directory.get(id) : undefined;
    if (!device) return entry;
    const joined: Record<string, unknown> = { ...entry };
    if (joined.name === undefined && device.name !== undefined) joined.name = device.name;
    if (joined.type === undefined && device.type !== undefined) joined.type = device.type;
    joined.device = device;
    return joined;
  });
  return { ...topology, devices };
}
