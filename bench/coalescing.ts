/**
 * Measurement 2: several telemetry nodes polling the same devices at the same interval
 * share the account's scheduler, so each device costs one request per interval.
 *
 * The rounds are read from the simulator's request log: the scheduler asks for the
 * devices in the same order every round, so a round runs from one request for the first
 * device to the next. Counting whole rounds is exact however the pacing jitters; the
 * rate over the observed time is given beside it.
 */
import { credentials, coalescingFlow } from './flows';
import { withScope } from './processes';

export interface CoalescingOptions {
  nodes: number;
  devices: number;
  intervalS: number;
  intervals: number;
  latencyMs: number;
  concurrency: number;
}

export interface CoalescingResults {
  nodes: number;
  devices: number;
  intervalS: number;
  /** Telemetry requests in each complete round. */
  perRound: number[];
  /** Different devices asked for in each complete round. */
  distinctPerRound: number[];
  /** Telemetry requests per interval over the whole observation, from the log's times. */
  perInterval: number;
  /** Msgs each node emitted. */
  msgsPerNode: number[];
  telemetryRequests: number;
}

type Log = (line: string) => void;

export async function measureCoalescing(o: CoalescingOptions, log: Log): Promise<CoalescingResults> {
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: o.latencyMs });
    const nr = await scope.nodeRed('coalescing');
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    const { flow, sinks } = coalescingFlow(account, o.nodes, sim.ids, o.intervalS);
    await sim.reset();
    await nr.call('deploy', { flows: flow, credentials: credentials(account), sinks });
    // The first round, the observed ones, and half an interval so the last one completes.
    await new Promise((r) => setTimeout(r, (o.intervals + 1.5) * o.intervalS * 1000));
    const counts = await nr.call<Record<string, number>>('counts');
    await nr.call('undeploy');
    const entries = await sim.child.call<Array<{ id: string; at: number }>>('telemetryLog');

    const first = sim.ids[0]!;
    const starts = entries.flatMap((e, i) => (e.id === first ? [i] : []));
    const perRound: number[] = [];
    const distinctPerRound: number[] = [];
    for (let k = 0; k + 1 < starts.length; k++) {
      const round = entries.slice(starts[k], starts[k + 1]);
      perRound.push(round.length);
      distinctPerRound.push(new Set(round.map((e) => e.id)).size);
    }
    const firstAt = entries[starts[0] ?? 0]?.at ?? 0;
    const lastAt = entries[starts[starts.length - 1] ?? 0]?.at ?? 0;
    const inWindow = entries.filter((e) => e.at >= firstAt && e.at < lastAt).length;
    const intervals = (lastAt - firstAt) / (o.intervalS * 1000);
    const result: CoalescingResults = {
      nodes: o.nodes,
      devices: o.devices,
      intervalS: o.intervalS,
      perRound,
      distinctPerRound,
      perInterval: intervals > 0 ? inWindow / intervals : NaN,
      msgsPerNode: sinks.map((s) => counts[s] ?? 0),
      telemetryRequests: entries.length,
    };
    log(`  ${o.nodes} nodes × ${o.devices} devices: requests per round ${perRound.join(', ')}`);
    return result;
  });
}
