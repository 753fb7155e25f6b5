/**
 * Measurement 5: msgs per second leapcraft-telemetry emits in `metric` mode (one msg per
 * reading: a device fans out into 4 or 5 msgs), with the simulator answering at once so
 * the figure is this machine's, not the network's. Device mode beside it for scale.
 * Timed from the msg into the node to the last msg at the sink, the device list included.
 */
import { credentials, packageFlow, SINK, TRIGGER } from './flows';
import type { CycleResult } from './nodered-process';
import { withScope } from './processes';
import { Spread, spread } from './stats';

export interface ThroughputOptions {
  devices: number;
  rounds: number;
  concurrency: number;
}

export interface ModeThroughput {
  output: 'metric' | 'device';
  msgsPerCycle: number;
  ms: Spread;
  msgsPerSecond: Spread;
  cpuMs: Spread;
}

export interface ThroughputResults {
  devices: number;
  modes: ModeThroughput[];
}

type Log = (line: string) => void;

export async function measureThroughput(o: ThroughputOptions, log: Log): Promise<ThroughputResults> {
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: 0 });
    const nr = await scope.nodeRed('throughput');
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    const modes: ModeThroughput[] = [];
    for (const output of ['metric', 'device'] as const) {
      await nr.call('deploy', { flows: packageFlow(account, { output }), credentials: credentials(account), sinks: [SINK] });
      // The first cycle finds out how many msgs a cycle gives (readings per device differ by model).
      const warm = await nr.call<{ msgs: number }>('cycleUntilQuiet', { trigger: TRIGGER, sink: SINK, quietMs: 300, timeoutMs: 60_000 });
      const runs: CycleResult[] = [];
      for (let i = 0; i < o.rounds; i++) {
        runs.push(await nr.call<CycleResult>('cycle', { trigger: TRIGGER, sink: SINK, expected: warm.msgs, settleMs: 50 }));
      }
      for (const r of runs) if (r.msgs !== warm.msgs) throw new Error(`throughput ${output}: ${r.msgs} msgs, expected ${warm.msgs}`);
      const mode: ModeThroughput = {
        output,
        msgsPerCycle: warm.msgs,
        ms: spread(runs.map((r) => r.ms)),
        msgsPerSecond: spread(runs.map((r) => (warm.msgs / r.ms) * 1000)),
        cpuMs: spread(runs.map((r) => r.cpuMs)),
      };
      modes.push(mode);
      log(`  ${output} mode: ${warm.msgs} msgs per cycle, ${Math.round(mode.msgsPerSecond.median)} msgs/s`);
    }
    return { devices: o.devices, modes };
  });
}
