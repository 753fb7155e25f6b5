/**
 * Where the history output's requests go: through the account's scheduler, so a backfill's
 * averages count against the request budget, and a device list already being read (for the
 * poll, for a msg) is joined rather than read again.
 */
import { LeapcraftClient } from '../api/client';
import { PollScheduler } from '../poll/scheduler';
import { DeviceDirectory } from '../telemetry/directory';
import { DEVICE_LIST_KEY, telemetryKey, TelemetrySpec } from '../telemetry/keys';
import { AveragesFetch } from './backfill';

export function dailyAveragesFetch(scheduler: PollScheduler, client: () => LeapcraftClient): AveragesFetch {
  return (id, from, to, signal) => {
    const spec: TelemetrySpec = { type: 'averages', resolution: 'daily', from: from.toISOString(), to: to.toISOString() };
    return scheduler.fetchNow(telemetryKey(id, spec), (s) => client().getTelemetry(id, spec, { signal: s }), signal);
  };
}

/** Reads the account's device list into `directory` (names, models and gateways for the tags). */
export async function loadDeviceList(scheduler: PollScheduler, client: () => LeapcraftClient, directory: DeviceDirectory, signal: AbortSignal): Promise<void> {
  directory.update(await scheduler.fetchNow(DEVICE_LIST_KEY, (s) => client().listDevices({ signal: s }), signal));
}
