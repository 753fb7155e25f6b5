/**
 * Measurement 7: building scale, 10,000 devices on 100 gateways, one account, every device,
 * latest readings, one leapcraft-telemetry poll every 60 s, sensors reporting every 300 s.
 *
 * - An hour of simulated time, cadence-aware on and off (bench/scale-process.ts: the package's
 *   poll path on a fake clock, the simulator in a worker thread): requests per interval, heap
 *   after GC and RSS at the start and the end of the hour, the node's close.
 * - A few real minutes of a real Node-RED with the same flow against the simulator in a process
 *   of its own: event-loop delay (monitorEventLoopDelay) while it polls every device, requests
 *   per minute as the simulator counted them, heap and RSS, and how long the redeploy that
 *   closes the node takes.
 */
import { learntMinute } from './checks';
import { credentials, packageFlow, SINK } from './flows';
import { spawnChild } from './ipc';
import type { LoopDelay, MemorySample } from './nodered-process';
import { withScope } from './processes';
import type { ScaleResult } from './scale-process';

export interface ScaleOptions {
  devices: number;
  gateways: number;
  reportIntervalS: number;
  intervalS: number;
  /** Simulated minutes of the in-process run. */
  minutes: number;
  sliceMs: number;
  /** Real seconds of the Node-RED run. */
  nodeRedSeconds: number;
  /** The steady part of the Node-RED run starts this many seconds after the deploy. */
  steadyAfterS: number;
  latencyMs: number;
  concurrency: number;
}

export interface NodeRedScale {
  seconds: number;
  latencyMs: number;
  /** From the deploy to the end, and in the steady part (after the first round). */
  loopAll: LoopDelay;
  loopSteady: LoopDelay;
  /** Telemetry requests the simulator received in each whole real minute after the deploy. */
  perMinute: number[];
  listRequests: number;
  msgs: number;
  errors: number;
  memoryStart: MemorySample;
  memoryEnd: MemorySample;
  /** The redeploy that closed the node (every device unsubscribed), ms. */
  closeMs: number;
}

export interface ScaleResults {
  devices: number;
  gateways: number;
  reportIntervalS: number;
  intervalS: number;
  hours: ScaleResult[];
  nodeRed: NodeRedScale;
}

type Log = (line: string) => void;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function measureScale(o: ScaleOptions, log: Log): Promise<ScaleResults> {
  const hours: ScaleResult[] = [];
  for (const cadence of [true, false]) {
    const label = cadence ? 'cadence-aware' : 'fixed interval';
    const minutes = o.minutes;
    // Minute 1, the minute from which the keys have learnt (see checks), then every 10 minutes.
    const samples = [1, learntMinute(minutes), ...Array.from({ length: Math.floor(minutes / 10) }, (_, i) => (i + 1) * 10)]
      .filter((m, i, a) => m >= 1 && m <= minutes && a.indexOf(m) === i)
      .sort((x, y) => x - y);
    const r = await withScope(async (scope) => {
      const child = scope.add(spawnChild(`scale-${cadence ? 'cadence' : 'fixed'}`, 'scale-process.ts', { execArgv: ['--expose-gc'] }));
      return child.call<ScaleResult>('run', {
        devices: o.devices, gateways: o.gateways, reportIntervalS: o.reportIntervalS, intervalS: o.intervalS, minutes, concurrency: o.concurrency,
        cadence, sliceMs: o.sliceMs, sampleAtMinutes: samples,
      }, 3_600_000);
    });
    hours.push(r);
    log(`  ${o.devices} devices, ${label}, ${minutes} simulated min in ${Math.round(r.realMs / 1000)} s: ${r.telemetryRequests} requests, ${r.msgs} msgs, ${r.errors} errors`);
  }

  const nodeRed = await withScope(async (scope): Promise<NodeRedScale> => {
    const sim = await scope.simulator({
      deviceCount: o.devices, gateways: o.gateways, latencyMs: o.latencyMs, reportIntervalMs: o.reportIntervalS * 1000,
    });
    const nr = await scope.nodeRed('scale', ['--expose-gc']);
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    const memoryStart = await nr.call<MemorySample>('memory');
    await sim.reset();
    await nr.call('loopStart', 'all');
    const start = Date.now();
    await nr.call('deploy', { flows: packageFlow(account, { interval: o.intervalS }), credentials: credentials(account), sinks: [SINK] });
    const perMinute: number[] = [];
    let lastTelemetry = 0;
    let steadyStarted = false;
    for (let minute = 1; ; minute++) {
      const minuteEnd = start + minute * 60_000;
      const end = start + o.nodeRedSeconds * 1000;
      while (Date.now() < Math.min(minuteEnd, end)) {
        if (!steadyStarted && Date.now() >= start + o.steadyAfterS * 1000) {
          await nr.call('loopStart', 'steady');
          steadyStarted = true;
        }
        await sleep(Math.min(1000, Math.max(10, Math.min(minuteEnd, end) - Date.now())));
      }
      if (Date.now() < minuteEnd) break;
      const telemetry = (await sim.counts()).telemetry;
      perMinute.push(telemetry - lastTelemetry);
      lastTelemetry = telemetry;
    }
    if (!steadyStarted) await nr.call('loopStart', 'steady');
    const loopSteady = await nr.call<LoopDelay>('loopStop', 'steady');
    const loopAll = await nr.call<LoopDelay>('loopStop', 'all');
    const counts = await nr.call<Record<string, number>>('counts');
    const simCounts = await sim.counts();
    const memoryEnd = await nr.call<MemorySample>('memory');
    const closeMs = await nr.call<number>('undeploy', undefined, 600_000);
    log(`  Node-RED, ${o.devices} devices for ${o.nodeRedSeconds} s: loop delay p99 ${loopAll.p99Ms.toFixed(1)} ms (max ${loopAll.maxMs.toFixed(0)}), requests per minute ${perMinute.join(', ')}, close ${Math.round(closeMs)} ms`);
    return {
      seconds: o.nodeRedSeconds, latencyMs: o.latencyMs, loopAll, loopSteady, perMinute, listRequests: simCounts.devices,
      msgs: counts[SINK] ?? 0, errors: counts.errors ?? 0, memoryStart, memoryEnd, closeMs,
    };
  });
  return { devices: o.devices, gateways: o.gateways, reportIntervalS: o.reportIntervalS, intervalS: o.intervalS, hours, nodeRed };
}
