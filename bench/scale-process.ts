/**
 * An hour of simulated time at building scale (10,000 devices on 100 gateways): the package's
 * poll path (bench/poller.ts: what leapcraft-telemetry runs, from dist/; one account, every
 * device, latest readings) on the fake clock of test/support/sim-clock.ts, moved in slices. The
 * simulator runs in a worker thread of this process: its own event loop and heap (so the heap
 * figures here are the package's alone; the RSS is the process's, the worker's included), on
 * the same fake clock, shared through a SharedArrayBuffer. Run with --expose-gc.
 */
import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { SimClock } from '../test/support/sim-clock';
import { serve } from './ipc';
import { account, loadLib, TelemetryPoller } from './poller';
import { profile } from './profile';

const lib = loadLib();
const ROOT = path.resolve(__dirname, '..');
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const MINUTE = 60_000;

export interface ScaleParams {
  devices: number;
  gateways: number;
  reportIntervalS: number;
  intervalS: number;
  minutes: number;
  concurrency: number;
  cadence: boolean;
  /** The clock moves this far between settles. */
  sliceMs: number;
  /** Heap and RSS are sampled (after two forced collections) at these minutes. */
  sampleAtMinutes: number[];
  /** Write a CPU profile of the run there (a tool for finding where the time goes). */
  cpuProfile?: string;
}

export interface ScaleSample {
  minute: number;
  heapUsed: number;
  rss: number;
  /** The simulator worker's own heap (not the package's). */
  simHeapUsed: number;
}

export interface ScaleResult {
  devices: number;
  cadence: boolean;
  minutes: number;
  intervalS: number;
  sliceMs: number;
  /** Telemetry requests started in each simulated minute (= each interval at 60 s). */
  perMinute: number[];
  listRequests: number;
  telemetryRequests: number;
  msgs: number;
  errors: number;
  servedFromCache: number;
  samples: ScaleSample[];
  /** CPU of the main thread (the package, its HTTP and the fake clock), ms; and of the whole process. */
  mainCpuMs: number;
  processCpuMs: number;
  realMs: number;
  stuckWaits: number;
  /** Time to serve the 10,000-device list (limit=-1) once, real ms, and its size. */
  listMs: number;
  listBytes: number;
  /** Real time the node's close took (every device unsubscribed, as a redeploy does), ms. */
  closeMs: number;
}

/** CPU (user + system) of this process's main thread so far, ms (Linux; NaN elsewhere). */
function mainThreadCpuMs(): number {
  try {
    const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const { LeapcraftSimulator } = require(${JSON.stringify(path.join(ROOT, 'dist', 'simulator'))});
const clock = new Float64Array(workerData.clock);
const sim = new LeapcraftSimulator({ ...workerData.options, now: () => clock[0] });
parentPort.on('message', async (m) => {
  if (m === 'memory') { global.gc && (global.gc(), global.gc()); parentPort.postMessage({ memory: process.memoryUsage().heapUsed }); }
  if (m === 'stop') { await sim.stop(); parentPort.postMessage({ stopped: true }); }
});
sim.start().then((baseUrl) => parentPort.postMessage({ baseUrl, apiKey: sim.apiKey }));
`;

function ask<T>(worker: Worker, message: string, key: string): Promise<T> {
  return new Promise((resolve) => {
    const on = (m: Record<string, unknown>) => {
      if (key in m) {
        worker.off('message', on);
        resolve(m[key] as T);
      }
    };
    worker.on('message', on);
    worker.postMessage(message);
  });
}

async function run(p: ScaleParams): Promise<ScaleResult> {
  const shared = new SharedArrayBuffer(8);
  const clockView = new Float64Array(shared);
  clockView[0] = T0;
  const worker = new Worker(WORKER, {
    eval: true,
    workerData: {
      clock: shared,
      options: {
        deviceCount: p.devices, gateways: p.gateways, seed: 1, latencyMs: 0, reportIntervalMs: p.reportIntervalS * 1000,
        // One token for the hour: an expiry would add an exchange and a replay the figures are not about.
        tokenLifetimeMs: 7 * 24 * 3_600_000,
      },
    },
  });
  const started = await new Promise<{ baseUrl: string; apiKey: string }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  // How long the simulator takes to serve every device at once (what the node's list key asks for).
  const acct0 = account(lib, { baseUrl: started.baseUrl, apiKey: started.apiKey, concurrency: p.concurrency });
  await acct0.client.listDevices();
  const t = performance.now();
  const listed = await acct0.client.listDevices();
  const listMs = performance.now() - t;
  const listBytes = Buffer.byteLength(JSON.stringify(listed));
  acct0.scheduler.close();
  acct0.client.close();

  const clock = new SimClock(T0, (now) => { clockView[0] = now; });
  const acct = account(lib, { baseUrl: started.baseUrl, apiKey: started.apiKey, concurrency: p.concurrency });
  const perMinute = Array<number>(p.minutes).fill(0);
  let listRequests = 0;
  let telemetryRequests = 0;
  let msgs = 0;
  const samples: ScaleSample[] = [];
  const end = T0 + p.minutes * MINUTE;
  const sampleAt = new Set(p.sampleAtMinutes);
  const cpu0 = process.cpuUsage();
  const main0 = mainThreadCpuMs();
  const real0 = performance.now();
  let poller: TelemetryPoller | undefined;
  try {
    poller = new TelemetryPoller(lib, acct, {
      intervalMs: p.intervalS * 1000,
      cadence: p.cadence,
      track: (kind, request) => {
        if (kind === 'list') listRequests++;
        else {
          telemetryRequests++;
          const minute = Math.floor((Date.now() - T0) / MINUTE);
          if (minute < p.minutes) perMinute[minute]!++;
        }
        return clock.track(request);
      },
      onMsg: () => { msgs++; },
    });
    const go = () => clock.runBySlice(end, p.sliceMs, async (now) => {
      const minute = (now - T0) / MINUTE;
      if (!Number.isInteger(minute) || !sampleAt.has(minute)) return;
      collectGarbage();
      const m = process.memoryUsage();
      samples.push({ minute, heapUsed: m.heapUsed, rss: m.rss, simHeapUsed: await ask<number>(worker, 'memory', 'memory') });
    });
    if (p.cpuProfile) fs.writeFileSync(p.cpuProfile, JSON.stringify(await profile(go, 1000)));
    else await go();
    const used = process.cpuUsage(cpu0);
    const mainCpuMs = mainThreadCpuMs() - main0;
    const realMs = performance.now() - real0;
    const errors = poller.errors;
    const closing = performance.now();
    poller.close();
    const closeMs = performance.now() - closing;
    poller = undefined;
    return {
      devices: p.devices, cadence: p.cadence, minutes: p.minutes, intervalS: p.intervalS, sliceMs: p.sliceMs, perMinute, listRequests, telemetryRequests, msgs,
      errors, servedFromCache: acct.scheduler.servedFromCache, samples,
      mainCpuMs, processCpuMs: (used.user + used.system) / 1000, realMs,
      stuckWaits: clock.stuckWaits, listMs, listBytes, closeMs,
    };
  } finally {
    poller?.close();
    acct.scheduler.close();
    acct.client.close();
    clock.restore();
    await ask(worker, 'stop', 'stopped');
    await worker.terminate();
  }
}

serve({ run, stop() { /* nothing held between calls */ } });
