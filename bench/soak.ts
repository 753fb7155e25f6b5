/**
 * Measurement 4: a soak of many cycles of 100 devices through leapcraft-telemetry in
 * Node-RED (a msg each, devices set; the simulator answers at once), then the flow is
 * closed. Heap and RSS are read after two forced collections (--expose-gc), after a
 * warm-up and every `sampleEvery` cycles; the process's active handles and requests are
 * compared before the flow is deployed and after it is closed.
 */
import { credentials, packageFlow, SINK, TRIGGER } from './flows';
import type { MemorySample } from './nodered-process';
import { withScope } from './processes';
import { Spread, spread } from './stats';

export interface SoakOptions {
  devices: number;
  cycles: number;
  warmup: number;
  sampleEvery: number;
  concurrency: number;
}

export interface SoakResults {
  devices: number;
  cycles: number;
  warmup: number;
  ms: number;
  cycleMs: Spread;
  msgs: number;
  errors: number;
  telemetryRequests: number;
  samples: MemorySample[];
  heapGrowth: number;
  rssGrowth: number;
  resourcesBefore: Record<string, number>;
  resourcesOpen: Record<string, number>;
  resourcesAfterClose: Record<string, number>;
  /** What is left after close beyond what there was before deploy. */
  leftover: Record<string, number>;
  /**
   * Connections the simulator sees from Node-RED: idle keep-alive sockets are unref'd, so
   * they are not among the active handles; the other end counts them.
   */
  connectionsOpen: number;
  connectionsAfterClose: number;
}

type Log = (line: string) => void;

function beyond(now: Record<string, number>, base: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(now)) if (v > (base[k] ?? 0)) out[k] = v - (base[k] ?? 0);
  return out;
}

export async function measureSoak(o: SoakOptions, log: Log): Promise<SoakResults> {
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: 0 });
    const nr = await scope.nodeRed('soak', ['--expose-gc']);
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    const resourcesBefore = await nr.call<Record<string, number>>('resources');
    await nr.call('deploy', { flows: packageFlow(account, { devices: sim.ids.join(',') }), credentials: credentials(account), sinks: [SINK] });
    await sim.reset();
    log(`  ${o.cycles} cycles of ${o.devices} devices (after ${o.warmup} warm-up cycles)`);
    const soak = await nr.call<{ samples: MemorySample[]; ms: number; msgs: number; errors: number; cycleMs: number[] }>(
      'soak',
      { trigger: TRIGGER, sink: SINK, expected: o.devices, cycles: o.cycles, warmup: o.warmup, sampleEvery: o.sampleEvery },
      Math.max(120_000, o.cycles * 1000),
    );
    const counts = await sim.counts();
    const resourcesOpen = await nr.call<Record<string, number>>('resources');
    await nr.call('undeploy');
    const resourcesAfterClose = await nr.call<Record<string, number>>('resourcesAfterClose', { baseline: resourcesBefore, timeoutMs: 5000 });
    // A closed socket reaches the simulator a moment later; well before the server's own
    // keep-alive timeout (5 s) would close an idle one that was left behind.
    let connectionsAfterClose = (await sim.counts()).connections;
    for (let i = 0; i < 20 && connectionsAfterClose > 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      connectionsAfterClose = (await sim.counts()).connections;
    }
    const first = soak.samples[0]!;
    const last = soak.samples[soak.samples.length - 1]!;
    return {
      devices: o.devices,
      cycles: o.cycles,
      warmup: o.warmup,
      ms: soak.ms,
      cycleMs: spread(soak.cycleMs),
      msgs: soak.msgs,
      errors: soak.errors,
      telemetryRequests: counts.telemetry,
      samples: soak.samples,
      heapGrowth: last.heapUsed - first.heapUsed,
      rssGrowth: last.rss - first.rss,
      resourcesBefore,
      resourcesOpen,
      resourcesAfterClose,
      leftover: beyond(resourcesAfterClose, resourcesBefore),
      connectionsOpen: counts.connections,
      connectionsAfterClose,
    };
  });
}
