/**
 * The package alone, (p): the same code leapcraft-telemetry runs for a msg (lib/telemetry/
 * on-demand.ts: the account's scheduler and client, the device list walked page by page with
 * the readings of a page started while the next loads, then one msg per device shaped by
 * lib/telemetry/messages.ts with Node-RED's own cloneMessage), from a dist/ loaded as Node-RED
 * loads it. Run in a process of its own (package-process.ts) or beside the limit and another
 * checkout's package in one process (package-compare.ts).
 */
import { performance } from 'node:perf_hooks';
import type { CycleResult } from './nodered-process';
import { account, Lib, nodeRedClone } from './poller';

export { loadLib } from './poller';

export interface PackageInit {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
}

export interface PackageAccount {
  cycle(ids?: string[]): Promise<CycleResult>;
  close(): void;
}

export async function startPackage(lib: Lib, p: PackageInit): Promise<PackageAccount> {
  const { client, scheduler } = account(lib, p);
  const cloneMessage = nodeRedClone();
  await client.authenticate();
  const directory = new lib.DeviceDirectory();
  return {
    async cycle(ids = []) {
      const cpu = process.cpuUsage();
      const start = performance.now();
      const spec = { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' };
      const controller = new AbortController();
      const msg = { _msgid: 'bench', payload: Date.now(), topic: '' };
      const outcomes = await lib.readOnDemand({
        scheduler, client, spec, query: lib.telemetryQuery(spec), ids, directory, signal: controller.signal,
      });
      const msgs = lib.messagesFor('device', msg, outcomes, { clone: cloneMessage, deviceOf: (id) => directory.get(id) });
      const ms = performance.now() - start;
      const used = process.cpuUsage(cpu);
      return { ms, cpuMs: (used.user + used.system) / 1000, msgs: msgs.length, errors: outcomes.filter((o) => o.error !== undefined).length };
    },
    close() {
      scheduler.close();
      client.close();
    },
  };
}
