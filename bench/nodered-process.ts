/**
 * Contenders (b) and (c), and the coalescing, token, soak and throughput runs: a Node-RED
 * process of their own, driven by the orchestrator. A cycle is timed in here, from the
 * trigger (an inject node receiving a msg, as a click or a timer gives it) to the moment
 * the sink (a core junction node at the end of the flow) has received the expected msgs.
 */
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { performance } from 'node:perf_hooks';
import { ERRORS } from './flows';
import { serve } from './ipc';
import { NodeRedHost, startNodeRed } from './nodered-host';
import { profile, ProfileSummary, summarise } from './profile';

export interface DeployParams {
  flows: unknown[];
  credentials?: Record<string, unknown>;
  /** Junction nodes whose received msgs are counted. */
  sinks: string[];
  /** Environment the flow reads (the core-node flow takes its key from one, as a user would). */
  env?: Record<string, string>;
}

export interface CycleParams {
  trigger: string;
  sink: string;
  expected: number;
  timeoutMs?: number;
  /** Wait this long after the last expected msg and count again, to see any extra. */
  settleMs?: number;
  loopDelay?: boolean;
}

export interface CycleResult {
  ms: number;
  /** CPU this process spent on the cycle (user + system), in ms. */
  cpuMs: number;
  msgs: number;
  errors: number;
  loopP99Ms?: number;
  loopMaxMs?: number;
}

export interface SoakParams extends CycleParams {
  cycles: number;
  warmup: number;
  sampleEvery: number;
}

export interface MemorySample {
  cycle: number;
  heapUsed: number;
  rss: number;
}

let host: NodeRedHost | undefined;
/** Event-loop delay histograms under way, by name (loopStart / loopStop). */
const loops = new Map<string, ReturnType<typeof monitorEventLoopDelay>>();

export interface LoopDelay {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  samples: number;
}
const counts = new Map<string, number>();

/** An account's role in a cluster on Redis, as leapcraft-config logs each change, and how often it changed. */
export interface AccountRole {
  role: 'leader' | 'follower' | 'unshared';
  changes: number;
}
const roles = new Map<string, AccountRole>();
const ROLE_LINES: Array<[RegExp, AccountRole['role']]> = [[/leads the account/, 'leader'], [/follows the account/, 'follower'], [/works alone/, 'unshared']];

/** What a cluster run reads of one replica: each account's role and the requests its client sent, and the sinks' counts. */
export interface AccountsSample {
  roles: Record<string, AccountRole>;
  attempts: Record<string, number>;
  counts: Record<string, number>;
}

/** Hears every log line of the runtime (whatever the console shows) for the accounts' roles. */
function watchRoles(RED: NodeRedHost['RED']): void {
  const handler = new EventEmitter();
  handler.on('log', (m: { type?: string; id?: string; msg?: unknown }) => {
    if (m.type !== 'leapcraft-config' || !m.id) return;
    const role = ROLE_LINES.find(([line]) => line.test(String(m.msg)))?.[1];
    if (!role) return;
    roles.set(m.id, { role, changes: (roles.get(m.id)?.changes ?? -1) + 1 });
  });
  RED.log.addHandler(handler);
}

const waiters = new Set<{ sink: string; target: number; resolve: (at: number) => void }>();

function red(): NodeRedHost {
  if (!host) throw new Error('Node-RED not started');
  return host;
}

function count(sink: string): number {
  return counts.get(sink) ?? 0;
}

function attachSink(id: string): void {
  counts.set(id, 0);
  red().getNode(id).on('input', () => {
    const n = count(id) + 1;
    counts.set(id, n);
    if (waiters.size === 0) return;
    const at = performance.now();
    for (const w of waiters) {
      if (w.sink === id && n >= w.target) {
        waiters.delete(w);
        w.resolve(at);
      }
    }
  });
}

function reached(sink: string, target: number, timeoutMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      waiters.delete(waiter);
      reject(new Error(`${sink}: ${count(sink)} msgs, waited for ${target} (errors: ${count(ERRORS)})`));
    }, timeoutMs);
    const waiter = {
      sink,
      target,
      resolve: (at: number) => {
        clearTimeout(timer);
        resolve(at);
      },
    };
    waiters.add(waiter);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function cycle(p: CycleParams): Promise<CycleResult> {
  const before = count(p.sink);
  const errorsBefore = count(ERRORS);
  const histogram = p.loopDelay ? monitorEventLoopDelay({ resolution: 1 }) : undefined;
  histogram?.enable();
  const done = reached(p.sink, before + p.expected, p.timeoutMs ?? 120_000);
  const cpu = process.cpuUsage();
  const start = performance.now();
  red().getNode(p.trigger).receive({});
  const end = await done;
  const used = process.cpuUsage(cpu);
  histogram?.disable();
  if (p.settleMs) await sleep(p.settleMs);
  return {
    ms: end - start,
    cpuMs: (used.user + used.system) / 1000,
    msgs: count(p.sink) - before,
    errors: count(ERRORS) - errorsBefore,
    ...(histogram ? { loopP99Ms: histogram.percentile(99) / 1e6, loopMaxMs: histogram.max / 1e6 } : {}),
  };
}

function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  gc();
  gc();
}

function memorySample(cycleNo: number): MemorySample {
  collectGarbage();
  const m = process.memoryUsage();
  return { cycle: cycleNo, heapUsed: m.heapUsed, rss: m.rss };
}

/** Active handles and requests by type (process.getActiveResourcesInfo). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

serve({
  async start() {
    host = await startNodeRed();
    watchRoles(host.RED);
    const version: unknown = host.RED.version;
    return { version: typeof version === 'function' ? (version as () => string)() : String(version) };
  },
  async deploy(p: DeployParams) {
    Object.assign(process.env, p.env ?? {});
    waiters.clear();
    counts.clear();
    roles.clear();
    await red().deploy(p.flows, p.credentials);
    for (const id of p.sinks) attachSink(id);
    // Every bench flow routes its Catch node to a junction of this id.
    if (p.flows.some((n) => (n as { id?: string }).id === ERRORS)) attachSink(ERRORS);
  },
  /** Stops every node of the flows (as deploying an empty workspace does); resolves with how long that took, ms. */
  async undeploy() {
    waiters.clear();
    const start = performance.now();
    await red().deploy([]);
    return performance.now() - start;
  },
  /** Starts an event-loop delay histogram (1 ms resolution) of this name. */
  loopStart(name: string) {
    const h = monitorEventLoopDelay({ resolution: 1 });
    h.enable();
    loops.set(name, h);
  },
  loopStop(name: string): LoopDelay {
    const h = loops.get(name);
    if (!h) throw new Error(`no loop histogram ${name}`);
    h.disable();
    loops.delete(name);
    return { p50Ms: h.percentile(50) / 1e6, p99Ms: h.percentile(99) / 1e6, maxMs: h.max / 1e6, meanMs: h.mean / 1e6, samples: h.count };
  },
  cycle,
  /** A cycle whose msg count is not known in advance: triggers, then waits for `quietMs` without a msg. */
  async cycleUntilQuiet(p: { trigger: string; sink: string; quietMs: number; timeoutMs: number }) {
    const before = count(p.sink);
    const until = Date.now() + p.timeoutMs;
    red().getNode(p.trigger).receive({});
    let seen = -1;
    while (count(p.sink) !== seen || count(p.sink) === before) {
      if (Date.now() > until) throw new Error(`${p.sink}: still receiving after ${p.timeoutMs} ms`);
      seen = count(p.sink);
      await sleep(p.quietMs);
    }
    return { msgs: count(p.sink) - before, errors: count(ERRORS) };
  },
  counts() {
    return Object.fromEntries(counts);
  },
  /** The account's own counters (token exchanges, attempts, retries). */
  clientStats(configId: string) {
    return red().getNode(configId).getClient().stats();
  },
  accountsSample(configIds: string[]): AccountsSample {
    return {
      roles: Object.fromEntries(roles),
      attempts: Object.fromEntries(configIds.map((id) => [id, red().getNode(id).getClient().stats().attempts as number])),
      counts: Object.fromEntries(counts),
    };
  },
  memory() {
    return memorySample(0);
  },
  resources,
  /** Settles until no socket of the closed flows is left (or `timeoutMs` passes). */
  async resourcesAfterClose(p: { baseline: Record<string, number>; timeoutMs: number }) {
    const until = Date.now() + p.timeoutMs;
    let now = resources();
    while (Date.now() < until && Object.entries(now).some(([k, v]) => v > (p.baseline[k] ?? 0))) {
      await sleep(50);
      now = resources();
    }
    return now;
  },
  async soak(p: SoakParams) {
    const samples: MemorySample[] = [];
    // Allocated before the first sample, so the record of the soak is not its growth.
    const cycleMs = new Float64Array(p.cycles);
    let msgs = 0;
    let errors = 0;
    for (let i = 0; i < p.warmup; i++) await cycle(p);
    samples.push(memorySample(0));
    const start = performance.now();
    for (let i = 1; i <= p.cycles; i++) {
      const r = await cycle(p);
      msgs += r.msgs;
      errors += r.errors;
      cycleMs[i - 1] = r.ms;
      if (i % p.sampleEvery === 0 || i === p.cycles) samples.push(memorySample(i));
    }
    return { samples, ms: performance.now() - start, msgs, errors, cycleMs: [...cycleMs] };
  },
  /** CPU profile of `cycles` cycles; `save` also writes the raw .cpuprofile (DevTools can open it). */
  async profile(p: CycleParams & { cycles: number; save?: string }): Promise<ProfileSummary> {
    const prof = await profile(async () => {
      for (let i = 0; i < p.cycles; i++) await cycle(p);
    });
    if (p.save) fs.writeFileSync(p.save, JSON.stringify(prof));
    return summarise(prof);
  },
  async stop() {
    await host?.stop();
    host = undefined;
  },
});
