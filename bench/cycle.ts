/**
 * Measurement 1: one poll cycle of N devices (latest readings), each contender in its own
 * process against the simulator in another. The cycle is the input-triggered one (a msg,
 * no device ids: the device list, then every device at full concurrency): the polled
 * rounds are paced over the interval on purpose, so their wall time is the interval.
 *
 * Rounds are interleaved (a, b, c, ... then again, the order rotated each round) so that
 * noise on a shared machine falls on every contender alike.
 */
import { AccountSettings, coreFlow, credentials, KEY_ENV, nodeRedOnlyFlow, packageFlow, SINK, TRIGGER } from './flows';
import { Child, spawnChild } from './ipc';
import type { CycleResult } from './nodered-process';
import { Scope, Simulator, withScope } from './processes';
import type { ProfileSummary } from './profile';
import { Spread, spread } from './stats';
import { ThreadCpu, threadCpu, threadCpuSince } from './threads';

export interface ContenderResult {
  key: string;
  label: string;
  ms: Spread;
  /** CPU per cycle over the timed rounds and, for (a), (b) and (p), the CPU rounds. */
  cpuMs: Spread;
  /** Cycles cpuMs is taken over. */
  cpuCycles: number;
  /** Per timed round. */
  msgs: number[];
  errors: number;
  requests: { token: number[]; devices: number[]; telemetry: number[] };
  maxConcurrent: number[];
  simCpuMs: Spread;
  /** CPU per cycle by thread (Linux): the main thread, and V8's and libuv's helper threads (GC, JIT). */
  threads?: { mainMs: Spread; otherMs: Spread };
  /** Event-loop delay in extra (untimed) cycles, Node-RED contenders only. */
  loop?: { p99Ms: Spread; maxMs: Spread };
}

export interface CycleResults {
  devices: number;
  latencyMs: number;
  concurrency: number;
  rounds: number;
  /** Extra untimed cycles of (a), (b) and (p) for their CPU alone (one cycle's CPU varies a lot on a shared machine). */
  cpuRounds: number;
  contenders: ContenderResult[];
  /**
   * (n): Node-RED's own share, without the package: a function node sending the N msgs (b)
   * sends, through the same flow to the same sink, timed as (b). No requests.
   */
  nodeRedOnly?: { ms: Spread; cpuMs: Spread; msgs: number[] };
  profile?: ProfileSummary;
}

export interface CycleOptions {
  devices: number;
  latencyMs: number;
  concurrency: number;
  rounds: number;
  cpuRounds: number;
  profile: boolean;
}

interface Contender {
  key: string;
  label: string;
  nodeRed: boolean;
  child: Child;
  cycle(extra?: { loopDelay?: boolean }): Promise<CycleResult>;
}

type Log = (line: string) => void;

async function nodeRedContender(
  scope: Scope, key: string, label: string, devices: number,
  deploy: { flows: unknown[]; credentials?: Record<string, unknown>; env?: Record<string, string> },
): Promise<Contender> {
  const child = await scope.nodeRed(key);
  await child.call('deploy', { ...deploy, sinks: [SINK] });
  return {
    key, label, nodeRed: true, child,
    cycle: (extra = {}) => child.call<CycleResult>('cycle', { trigger: TRIGGER, sink: SINK, expected: devices, settleMs: 50, ...extra }),
  };
}

async function limitContender(scope: Scope, key: string, label: string, account: AccountSettings, ids?: string[], script = 'limit-process.ts'): Promise<Contender> {
  const child = scope.add(spawnChild(key, script));
  await child.call('init', account);
  return { key, label, nodeRed: false, child, cycle: () => child.call<CycleResult>('cycle', ids ? { ids } : null) };
}

async function contenders(scope: Scope, sim: Simulator, o: CycleOptions): Promise<Contender[]> {
  const account: AccountSettings = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
  const env = { [KEY_ENV]: sim.apiKey };
  return [
    await limitContender(scope, 'a', '(a) limit: plain axios loop', account),
    await nodeRedContender(scope, 'b', '(b) leapcraft-telemetry', o.devices, { flows: packageFlow(account), credentials: credentials(account) }),
    await limitContender(scope, 'p', '(p) the package alone, no Node-RED', account, undefined, 'package-process.ts'),
    await nodeRedContender(scope, 'c', '(c) core nodes, no limit', o.devices, { flows: coreFlow({ baseUrl: sim.baseUrl }), env }),
    await nodeRedContender(scope, 'c-limited', `(c) core nodes, ${o.concurrency} at once`, o.devices,
      { flows: coreFlow({ baseUrl: sim.baseUrl, concurrency: o.concurrency }), env }),
    await limitContender(scope, 'a-ids', '(a) limit, ids given', account, sim.ids),
    await nodeRedContender(scope, 'b-ids', '(b) leapcraft-telemetry, ids set', o.devices,
      { flows: packageFlow(account, { devices: sim.ids.join(',') }), credentials: credentials(account) }),
  ];
}

export async function measureCycle(o: CycleOptions, log: Log): Promise<CycleResults> {
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: o.latencyMs });
    const list = await contenders(scope, sim, o);
    // Warm-up: tokens, sockets, JIT. Not timed, but checked: every contender must deliver.
    for (const c of list) {
      const r = await c.cycle();
      if (r.msgs !== o.devices || r.errors) throw new Error(`${c.label}: warm-up gave ${r.msgs} msgs, ${r.errors} errors`);
    }
    // (n): Node-RED carrying (b)'s msgs without the package; timed in the same rounds.
    const nodeRedOnly = await scope.nodeRed('n');
    await nodeRedOnly.call('deploy', { flows: nodeRedOnlyFlow(o.devices), sinks: [SINK] });
    const cycleN = () => nodeRedOnly.call<CycleResult>('cycle', { trigger: TRIGGER, sink: SINK, expected: o.devices, settleMs: 50 });
    await cycleN();
    const runsN: CycleResult[] = [];
    const raw = new Map(list.map((c) => [c.key, {
      runs: [] as CycleResult[], counts: [] as Awaited<ReturnType<Simulator['counts']>>[], threads: [] as ThreadCpu[], cpu: [] as number[],
    }]));
    const cpuCycle = async (c: Contender) => {
      const before = threadCpu(c.child.process.pid);
      const r = await c.cycle();
      const threads = threadCpuSince(c.child.process.pid, before);
      raw.get(c.key)!.cpu.push(r.cpuMs);
      if (threads) raw.get(c.key)!.threads.push(threads);
      return r;
    };
    for (let round = 0; round < o.rounds; round++) {
      const order = list.map((_, i) => list[(i + round) % list.length]!);
      for (const c of order) {
        await sim.reset();
        const r = await cpuCycle(c);
        const counts = await sim.counts();
        raw.get(c.key)!.runs.push(r);
        raw.get(c.key)!.counts.push(counts);
        log(`  round ${round + 1}/${o.rounds} ${c.label}: ${Math.round(r.ms)} ms, ${Math.round(r.cpuMs)} ms CPU, ${r.msgs} msgs, requests ${counts.token}/${counts.devices}/${counts.telemetry} (token/list/telemetry)`);
      }
      runsN.push(await cycleN());
    }
    // CPU rounds: the three contenders whose CPU is compared, interleaved as the timed rounds.
    const compared = list.filter((c) => ['a', 'b', 'p'].includes(c.key));
    for (let round = 0; round < o.cpuRounds; round++) {
      const cpus: string[] = [];
      for (const c of compared.map((_, i) => compared[(i + round) % compared.length]!)) {
        const r = await cpuCycle(c);
        if (r.msgs !== o.devices || r.errors) throw new Error(`${c.label}: a CPU round gave ${r.msgs} msgs, ${r.errors} errors`);
        cpus.push(`${c.key} ${Math.round(r.cpuMs)}`);
      }
      log(`  CPU round ${round + 1}/${o.cpuRounds}: ${cpus.join(', ')} ms`);
    }
        // The loop-delay histogram runs a 1 ms timer: measured in cycles of its own, untimed.
    const loops = new Map<string, CycleResult[]>();
    for (const c of list.filter((x) => x.nodeRed)) {
      const runs: CycleResult[] = [];
      for (let i = 0; i < Math.min(3, o.rounds); i++) runs.push(await c.cycle({ loopDelay: true }));
      loops.set(c.key, runs);
    }
    let profile: ProfileSummary | undefined;
    if (o.profile) {
      log('  profiling (b)');
      const b = list.find((c) => c.key === 'b')!;
      profile = await b.child.call<ProfileSummary>('profile', { trigger: TRIGGER, sink: SINK, expected: o.devices, cycles: 2 });
    }
    const results: ContenderResult[] = list.map((c) => {
      const { runs, counts, threads, cpu } = raw.get(c.key)!;
      const loop = loops.get(c.key);
      return {
        key: c.key,
        label: c.label,
        ms: spread(runs.map((r) => r.ms)),
        cpuMs: spread(cpu),
        cpuCycles: cpu.length,
        msgs: runs.map((r) => r.msgs),
        errors: runs.reduce((s, r) => s + r.errors, 0),
        requests: { token: counts.map((x) => x.token), devices: counts.map((x) => x.devices), telemetry: counts.map((x) => x.telemetry) },
        maxConcurrent: counts.map((x) => x.maxConcurrent),
        simCpuMs: spread(counts.map((x) => x.cpuMs)),
        ...(threads.length === cpu.length ? { threads: { mainMs: spread(threads.map((t) => t.mainMs)), otherMs: spread(threads.map((t) => t.otherMs)) } } : {}),
        ...(loop ? { loop: { p99Ms: spread(loop.map((r) => r.loopP99Ms!)), maxMs: spread(loop.map((r) => r.loopMaxMs!)) } } : {}),
      };
    });
    return {
      devices: o.devices, latencyMs: o.latencyMs, concurrency: o.concurrency, rounds: o.rounds, cpuRounds: o.cpuRounds, contenders: results, profile,
      nodeRedOnly: { ms: spread(runsN.map((r) => r.ms)), cpuMs: spread(runsN.map((r) => r.cpuMs)), msgs: runsN.map((r) => r.msgs) },
    };
  });
}
