/**
 * The targets, checked against one run. Request counts and handles are exact and
 * hold on any machine (the CI smoke test asserts them); times and memory depend on the
 * machine and its load, and are reported, not asserted in CI.
 */
import type { CoalescingResults } from './coalescing';
import type { CycleResults } from './cycle';
import type { SoakResults } from './soak';
import { MiB, round } from './stats';
import type { TokenResults } from './tokens';

export type CheckKind = 'count' | 'handles' | 'time' | 'memory';

export interface Check {
  name: string;
  kind: CheckKind;
  target: string;
  measured: string;
  pass: boolean;
}

export interface Measured {
  cycle?: CycleResults;
  coalescing?: CoalescingResults;
  tokens?: TokenResults;
  soak?: SoakResults;
}

const all = (xs: number[], v: number) => xs.length > 0 && xs.every((x) => x === v);
const list = (xs: number[]) => (new Set(xs).size === 1 ? String(xs[0]) : xs.join(', '));

export function ratio(r: CycleResults, top: string, bottom: string): number {
  const m = (k: string) => r.contenders.find((c) => c.key === k)!.ms.median;
  return m(top) / m(bottom);
}

function cycleChecks(r: CycleResults): Check[] {
  const checks: Check[] = [];
  const ba = ratio(r, 'b', 'a');
  checks.push({ name: 'b/a: the package over the raw-HTTP limit (median wall time)', kind: 'time', target: '≤ 1.10', measured: round(ba, 3).toFixed(3), pass: ba <= 1.1 });
  for (const c of r.contenders) {
    checks.push({
      name: `telemetry requests per cycle, ${c.label}`,
      kind: 'count',
      target: `= N = ${r.devices}`,
      measured: list(c.requests.telemetry),
      pass: all(c.requests.telemetry, r.devices) && all(c.msgs, r.devices) && c.errors === 0,
    });
  }
  const b = r.contenders.find((c) => c.key === 'b')!;
  checks.push({ name: 'token exchanges per cycle once a token is held, (b)', kind: 'count', target: '= 0', measured: list(b.requests.token), pass: all(b.requests.token, 0) });
  if (b.loop) {
    checks.push({
      name: 'event-loop delay p99 in Node-RED during a cycle of N devices, (b)',
      kind: 'time',
      target: '< 50 ms',
      measured: `${round(b.loop.p99Ms.max, 1)} ms (worst of ${b.loop.p99Ms.n} cycles)`,
      pass: b.loop.p99Ms.max < 50,
    });
  }
  return checks;
}

function coalescingChecks(r: CoalescingResults): Check[] {
  return [{
    name: `coalescing: ${r.nodes} nodes on the same ${r.devices} devices, telemetry requests per interval`,
    kind: 'count',
    target: `= ${r.devices} in every round`,
    measured: `${list(r.perRound)} (${r.perRound.length} rounds; ${list(r.distinctPerRound)} different devices each)`,
    pass: r.perRound.length >= 2 && all(r.perRound, r.devices) && all(r.distinctPerRound, r.devices),
  }];
}

function tokenChecks(r: TokenResults): Check[] {
  return [{
    name: `token exchanges over ${r.runS / 60} simulated minutes, ${r.lifetimeS} s lifetime`,
    kind: 'count',
    target: `= lifetimes elapsed + 1 = ${r.lifetimesElapsed + 1}`,
    measured: `${r.exchanges} (client counted ${r.clientExchanges}; ${r.refused} requests met an expired token)`,
    pass: r.exchanges === r.lifetimesElapsed + 1 && r.clientExchanges === r.exchanges && r.errors === 0 && r.msgs === r.cycles * r.devices,
  }];
}

function soakChecks(r: SoakResults): Check[] {
  const leftover = Object.entries(r.leftover).map(([k, v]) => `${k} ×${v}`).join(', ');
  return [
    {
      name: `soak: ${r.cycles} cycles of ${r.devices} devices, requests and msgs`,
      kind: 'count',
      target: `= ${(r.cycles + r.warmup) * r.devices} requests, ${r.cycles * r.devices} msgs, 0 errors`,
      measured: `${r.telemetryRequests} requests, ${r.msgs} msgs, ${r.errors} errors`,
      pass: r.telemetryRequests === (r.cycles + r.warmup) * r.devices && r.msgs === r.cycles * r.devices && r.errors === 0,
    },
    { name: 'soak: heap growth after GC', kind: 'memory', target: '< 5 MiB', measured: `${round(r.heapGrowth / MiB, 2)} MiB`, pass: r.heapGrowth < 5 * MiB },
    { name: 'soak: handles and requests left after close', kind: 'handles', target: '0', measured: leftover || '0', pass: leftover === '' },
    {
      name: 'soak: connections to the API left open after close',
      kind: 'handles',
      target: '0',
      measured: `${r.connectionsAfterClose} (${r.connectionsOpen} while deployed)`,
      pass: r.connectionsAfterClose === 0,
    },
  ];
}

export function checksOf(m: Measured): Check[] {
  return [
    ...(m.cycle ? cycleChecks(m.cycle) : []),
    ...(m.coalescing ? coalescingChecks(m.coalescing) : []),
    ...(m.tokens ? tokenChecks(m.tokens) : []),
    ...(m.soak ? soakChecks(m.soak) : []),
  ];
}
