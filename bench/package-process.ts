/**
 * Contender (p): the package alone, without Node-RED. The same code leapcraft-telemetry runs
 * for a msg (lib/telemetry/on-demand.ts: the account's scheduler and client, the device list
 * walked page by page with the readings of a page started while the next loads, then one msg
 * per device shaped by lib/telemetry/messages.ts with Node-RED's own cloneMessage), loaded
 * from dist/ as Node-RED loads it, in a plain Node.js process. Set beside (a) and (b), it
 * splits what (b) costs beyond the limit into the package's share and Node-RED's (sending the
 * msgs through the flow to the sink).
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { serve } from './ipc';
import type { CycleResult } from './nodered-process';
import { profileHandlers } from './profile';

type Lib = typeof import('../lib');

/**
 * The package measured: this working tree, or another checkout with a dist/ of its own
 * (LEAPCRAFT_BENCH_PACKAGE), to measure a before and an after under the same conditions.
 */
const ROOT = process.env.LEAPCRAFT_BENCH_PACKAGE ? path.resolve(process.env.LEAPCRAFT_BENCH_PACKAGE) : path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const lib = require(path.join(ROOT, 'dist', 'lib')) as Lib;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { cloneMessage } = (require('@node-red/util') as { util: { cloneMessage<T>(msg: T): T } }).util;

export interface PackageInit {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
}

let account: { client: InstanceType<Lib['LeapcraftClient']>; scheduler: InstanceType<Lib['PollScheduler']> } | undefined;
const directory = new lib.DeviceDirectory();

async function cycle(p: { ids?: string[] } | null): Promise<CycleResult> {
  const { client, scheduler } = account!;
  const cpu = process.cpuUsage();
  const start = performance.now();
  const spec = { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' };
  const controller = new AbortController();
  const msg = { _msgid: 'bench', payload: Date.now(), topic: '' };
  const outcomes = await lib.readOnDemand({
    scheduler, client, spec, query: lib.telemetryQuery(spec), ids: p?.ids ?? [], directory, signal: controller.signal,
  });
  const msgs = lib.messagesFor('device', msg, outcomes, { clone: cloneMessage, deviceOf: (id) => directory.get(id) });
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, msgs: msgs.length, errors: outcomes.filter((o) => o.error !== undefined).length };
}

serve({
  async init(p: PackageInit) {
    const scheduler = new lib.PollScheduler();
    const client = new lib.LeapcraftClient({
      baseUrl: p.baseUrl,
      apiKey: p.apiKey,
      concurrency: p.concurrency,
      timeoutMs: 30_000,
      onRateLimited: () => scheduler.noteRateLimited(),
      onRateLimit: (info) => scheduler.noteApiLimit(info),
    });
    account = { client, scheduler };
    await client.authenticate();
  },
  cycle,
  ...profileHandlers(cycle),
  stop() {
    account?.scheduler.close();
    account?.client.close();
  },
});
