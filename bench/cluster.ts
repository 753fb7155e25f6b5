/**
 * Measurement 8: the account shared through Redis (a cluster of replicas). A real redis-server
 * (test/support/redis.ts) and up to three Node-RED processes, the same flow deployed to each with
 * LEAPCRAFT_REDIS_URL set: one leapcraft-telemetry per account polling every device at a fixed
 * interval (cadence off, so requests per interval compare), emitting on every replica. Two
 * scenarios, each with 1, 2 and 3 replicas: one account of N devices, and A accounts of N/A
 * devices (one simulator of N/A devices accepting A keys: an account is its base URL and key).
 *
 * Once every account has one leader and the leads are spread, and a warm-up interval later, a
 * window of whole intervals: the requests the simulator received (every endpoint), the requests
 * each replica's clients sent, each replica's CPU (user + system from /proc/<pid>/stat), the
 * msgs each replica emitted, and each account's role as its leapcraft-config logged it.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { clusterFlow, SINK, ERRORS, type AccountSettings } from './flows';
import type { Child } from './ipc';
import type { AccountsSample } from './nodered-process';
import { Simulator, withScope } from './processes';
import { processCpuMs } from './threads';
import { RedisServer } from '../test/support/redis';

export interface ClusterOptions {
  /** Devices of the one-account scenario, split over `accounts` accounts in the other. */
  devices: number;
  accounts: number;
  replicas: number[];
  intervalS: number;
  /** The measured window, in intervals. */
  windowIntervals: number;
  latencyMs: number;
  concurrency: number;
}

export interface ReplicaFigures {
  /** API requests this replica's clients sent in the window, per interval. */
  requestsPerInterval: number;
  /** Accounts it led at the end of the window. */
  leads: number;
  /** CPU (user + system) over the window, seconds per minute. */
  cpuSPerMin: number;
  /** Msgs its telemetry nodes emitted, per interval. */
  msgsPerInterval: number;
  errors: number;
}

export interface ClusterRun {
  replicas: number;
  accounts: number;
  devicesPerAccount: number;
  /** From the deploy until every account had one leader and each replica its fair share; NaN: not within the wait. */
  spreadMs: number;
  /** The longest any account went without one leader from the deploy to the window (sampled every 200 ms or so). */
  longestUnledMs: number;
  windowMs: number;
  /** Every request the simulator received in the window, per interval; its telemetry requests apart. */
  totalPerInterval: number;
  telemetryPerInterval: number;
  perReplica: ReplicaFigures[];
  /** Role changes of any account on any replica during the window (a lease handed over or lost). */
  roleChanges: number;
  /** Accounts that had no leader, or more than one, at the end of the window. */
  unled: number;
  /** redis-server's CPU over the window, seconds per minute. */
  redisCpuSPerMin: number;
}

export interface ClusterResults {
  devices: number;
  accounts: number;
  intervalS: number;
  windowIntervals: number;
  latencyMs: number;
  concurrency: number;
  runs: ClusterRun[];
}

type Log = (line: string) => void;

/**
 * How long a run waits for the leads to spread before it measures as they are: four lease times
 * (10 s each). Members hand leases over one per renewal (a third of a lease time): 10 accounts on
 * three fresh replicas take about 30 s.
 */
export const SPREAD_WAIT_MS = 40_000;

/** The fair share of `accounts` leases over `replicas` live replicas (what lib/cluster/member.ts aims at). */
export function fairShare(accounts: number, replicas: number): { floor: number; ceil: number } {
  return { floor: Math.floor(accounts / replicas), ceil: Math.ceil(accounts / replicas) };
}

/** Accounts each replica leads, and the accounts with no leader, two, or working alone somewhere. */
function leadsOf(samples: AccountsSample[], accountIds: string[]): { leads: number[]; unledIds: string[] } {
  const leads = samples.map(() => 0);
  const unledIds: string[] = [];
  for (const id of accountIds) {
    const leaders = samples.flatMap((s, i) => (s.roles[id]?.role === 'leader' ? [i] : []));
    for (const i of leaders) leads[i]++;
    if (leaders.length !== 1 || samples.some((s) => s.roles[id]?.role === 'unshared')) unledIds.push(id);
  }
  return { leads, unledIds };
}

function spreadFairly({ leads, unledIds }: { leads: number[]; unledIds: string[] }, accounts: number): boolean {
  const { floor, ceil } = fairShare(accounts, leads.length);
  return unledIds.length === 0 && leads.every((n) => n >= floor && n <= ceil);
}

const cpuOf = (child: Child) => processCpuMs(child.process.pid) ?? NaN;

async function runCluster(
  reds: Child[], sim: Simulator, keys: string[], o: ClusterOptions, devicesPerAccount: number,
): Promise<ClusterRun> {
  const redis = new RedisServer();
  try {
    await redis.start();
    const accounts: AccountSettings[] = keys.map((apiKey) => ({ baseUrl: sim.baseUrl, apiKey, concurrency: o.concurrency }));
    const { flow, credentials, accountIds } = clusterFlow(accounts, o.intervalS);
    const sample = () => Promise.all(reds.map((r) => r.call<AccountsSample>('accountsSample', accountIds)));
    // Deployed together, as a rollout starts its replicas.
    const deployed = Date.now();
    await Promise.all(reds.map((r) => r.call('deploy', { flows: flow, credentials, sinks: [SINK], env: { LEAPCRAFT_REDIS_URL: redis.url } })));
    // Until every account is led and the leads are spread, then a warm-up interval (the new leaders'
    // first round, the followers fed), sampled throughout for the longest an account went without a leader.
    let spreadMs = NaN;
    let longestUnledMs = 0;
    const lastLed = new Map(accountIds.map((id) => [id, deployed]));
    for (let end = deployed + SPREAD_WAIT_MS; Date.now() < end; await sleep(200)) {
      const now = Date.now();
      const seen = leadsOf(await sample(), accountIds);
      for (const id of accountIds) {
        if (seen.unledIds.includes(id)) longestUnledMs = Math.max(longestUnledMs, now - lastLed.get(id)!);
        else lastLed.set(id, now);
      }
      if (Number.isNaN(spreadMs) && spreadFairly(seen, keys.length)) {
        spreadMs = now - deployed;
        end = now + o.intervalS * 1000;
      }
    }

    const before = await sample();
    const cpuBefore = reds.map(cpuOf);
    const redisBefore = processCpuMs(redis.pid) ?? NaN;
    await sim.reset();
    const from = Date.now();
    await sleep(o.windowIntervals * o.intervalS * 1000);
    const simCounts = await sim.counts();
    const windowMs = Date.now() - from;
    const cpuAfter = reds.map(cpuOf);
    const redisCpuMs = (processCpuMs(redis.pid) ?? NaN) - redisBefore;
    const after = await sample();
    await Promise.all(reds.map((r) => r.call('undeploy')));

    const intervals = windowMs / (o.intervalS * 1000);
    const perMinute = (ms: number) => ms / 1000 / (windowMs / 60_000);
    const { leads, unledIds } = leadsOf(after, accountIds);
    const sum = (f: (id: string) => number) => accountIds.reduce((n, id) => n + f(id), 0);
    const perReplica = reds.map((_, i): ReplicaFigures => ({
      requestsPerInterval: sum((id) => (after[i]!.attempts[id] ?? 0) - (before[i]!.attempts[id] ?? 0)) / intervals,
      leads: leads[i]!,
      cpuSPerMin: perMinute(cpuAfter[i]! - cpuBefore[i]!),
      msgsPerInterval: ((after[i]!.counts[SINK] ?? 0) - (before[i]!.counts[SINK] ?? 0)) / intervals,
      errors: (after[i]!.counts[ERRORS] ?? 0) - (before[i]!.counts[ERRORS] ?? 0),
    }));
    const roleChanges = after.reduce((n, s, i) => n + sum((id) => (s.roles[id]?.changes ?? 0) - (before[i]!.roles[id]?.changes ?? 0)), 0);
    return {
      replicas: reds.length, accounts: keys.length, devicesPerAccount, spreadMs, windowMs,
      totalPerInterval: simCounts.total / intervals, telemetryPerInterval: simCounts.telemetry / intervals,
      perReplica, roleChanges, unled: unledIds.length, longestUnledMs, redisCpuSPerMin: perMinute(redisCpuMs),
    };
  } finally {
    await redis.dispose();
  }
}

export function scenarioLabel(r: Pick<ClusterRun, 'accounts' | 'devicesPerAccount'>): string {
  return r.accounts === 1 ? `one account of ${r.devicesPerAccount} devices` : `${r.accounts} accounts of ${r.devicesPerAccount} devices`;
}

/** The runs by scenario (one account; several), each in order of replicas. */
export function scenarios(runs: ClusterRun[]): ClusterRun[][] {
  const by = new Map<string, ClusterRun[]>();
  for (const r of runs) by.set(scenarioLabel(r), [...(by.get(scenarioLabel(r)) ?? []), r]);
  return [...by.values()].map((xs) => xs.sort((a, b) => a.replicas - b.replicas));
}

/** "1000 (1000 + 0 + 0)", "0.42 + 0.08": a figure per replica, joined. */
export const perReplicaText = (xs: number[], digits = 0) => xs.map((x) => (Number.isNaN(x) ? '?' : x.toFixed(digits))).join(' + ');

export function describeRun(r: ClusterRun): string {
  const reqs = r.perReplica.map((p) => p.requestsPerInterval);
  const cpu = r.perReplica.map((p) => p.cpuSPerMin);
  const leads = r.perReplica.map((p) => p.leads).join('/');
  return `${r.replicas} replica${r.replicas === 1 ? '' : 's'}: ${Math.round(r.totalPerInterval)} requests/interval`
    + `${r.replicas > 1 ? ` (${perReplicaText(reqs)})` : ''}, CPU ${perReplicaText(cpu, 2)} s/min, leads ${leads}`
    + `${r.unled ? `, ${r.unled} account${r.unled === 1 ? '' : 's'} without one leader` : ''}${Number.isNaN(r.spreadMs) ? `, leads not spread within ${SPREAD_WAIT_MS / 1000} s` : ''}`
    + `${r.roleChanges ? `, ${r.roleChanges} role changes in the window` : ''}`;
}

export async function measureCluster(o: ClusterOptions, log: Log): Promise<ClusterResults> {
  const runs: ClusterRun[] = [];
  await withScope(async (scope) => {
    const most = Math.max(...o.replicas);
    const per = Math.max(1, Math.floor(o.devices / o.accounts));
    const one = await scope.simulator({ deviceCount: o.devices, latencyMs: o.latencyMs });
    const extraKeys = Array.from({ length: o.accounts - 1 }, (_, i) => `bench-cluster-key-${i + 2}`);
    const many = await scope.simulator({ deviceCount: per, latencyMs: o.latencyMs, apiKeys: extraKeys });
    const reds: Child[] = [];
    for (let i = 1; i <= most; i++) reds.push(await scope.nodeRed(`replica-${i}`));
    const scenarios = [
      { sim: one, keys: [one.apiKey], devicesPerAccount: o.devices },
      { sim: many, keys: [many.apiKey, ...extraKeys], devicesPerAccount: per },
    ];
    for (const s of scenarios) {
      for (const n of o.replicas) {
        const run = await runCluster(reds.slice(0, n), s.sim, s.keys, o, s.devicesPerAccount);
        runs.push(run);
        log(`  ${scenarioLabel(run)}, ${describeRun(run)}`);
      }
    }
  });
  return { devices: o.devices, accounts: o.accounts, intervalS: o.intervalS, windowIntervals: o.windowIntervals, latencyMs: o.latencyMs, concurrency: o.concurrency, runs };
}
