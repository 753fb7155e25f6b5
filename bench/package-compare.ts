/**
 * The package's CPU per cycle beside the limit's, and beside another checkout's package, all
 * in one process, cycles interleaved (the order rotated each round). In the full bench each
 * contender has a process of its own, and what a cycle costs there also depends on that
 * process (its heap, Node-RED's in (b)); here the three share one process and one heap, so the
 * ratios compare the code alone: a before and an after of a change to lib/ measured side by
 * side in one run.
 *
 *   npm run bench:package -- [--before <checkout with dist/ built>] [--rounds 30] [--latency 20] [--devices 1000]
 *
 * The simulator runs in a process of its own, as in the bench.
 */
import path from 'node:path';
import type { CycleResult } from './nodered-process';
import { withScope } from './processes';
import { startLimit } from './limit';
import { loadLib, startPackage } from './package-cycle';
import { spread } from './stats';

interface Options {
  before?: string;
  rounds: number;
  latencyMs: number;
  devices: number;
  concurrency: number;
}

function parse(argv: string[]): Options {
  const o: Options = { rounds: 30, latencyMs: 20, devices: 1000, concurrency: 8 };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    const count = () => {
      const n = Number(value);
      if (!Number.isInteger(n) || n < 0) throw new Error(`${flag}: ${value} is not a whole number`);
      return n;
    };
    if (flag === '--before') o.before = path.resolve(value);
    else if (flag === '--rounds') o.rounds = Math.max(1, count());
    else if (flag === '--latency') o.latencyMs = count();
    else if (flag === '--devices') o.devices = Math.max(1, count());
    else throw new Error(`unknown option ${flag}`);
  }
  return o;
}

interface Contender {
  key: string;
  cycle(): Promise<CycleResult>;
  close(): void;
  cpu: number[];
}

async function main(o: Options): Promise<void> {
  await withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: o.latencyMs });
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    const limit = await startLimit(account);
    const list: Contender[] = [{ key: 'a', cycle: () => limit.cycle(), close: () => limit.close(), cpu: [] }];
    const packages: Array<[string, string]> = [['p', path.resolve(__dirname, '..')]];
    if (o.before) packages.push(['before', o.before]);
    for (const [key, root] of packages) {
      const p = await startPackage(loadLib(root), account);
      list.push({ key, cycle: () => p.cycle(), close: () => p.close(), cpu: [] });
    }
    try {
      // Warm-up: tokens, sockets, JIT; checked, not counted.
      for (const c of list) for (let i = 0; i < 3; i++) check(c, await c.cycle(), o.devices);
      for (let round = 0; round < o.rounds; round++) {
        const line: string[] = [];
        for (const c of list.map((_, i) => list[(i + round) % list.length]!)) {
          const r = check(c, await c.cycle(), o.devices);
          c.cpu.push(r.cpuMs);
          line.push(`${c.key} ${Math.round(r.cpuMs)}`);
        }
        console.log(`round ${round + 1}/${o.rounds}: ${line.join(', ')} ms CPU`);
      }
    } finally {
      for (const c of list) c.close();
    }
    const median = (c: Contender) => spread(c.cpu).median;
    const a = median(list[0]!);
    console.log(`\nCPU per cycle of ${o.devices} devices (${o.latencyMs} ms latency, ${o.concurrency} at once), median over ${o.rounds} rounds in one process:`);
    for (const c of list) {
      const s = spread(c.cpu);
      console.log(`  ${c.key.padEnd(6)} ${Math.round(s.median)} ms (middle half ${Math.round(s.q1)}–${Math.round(s.q3)}), over (a) ${(s.median / a).toFixed(2)}`);
    }
    const before = list.find((c) => c.key === 'before');
    if (before) console.log(`  (p) over before: ${(median(list[1]!) / median(before)).toFixed(3)}`);
  });
}

function check(c: Contender, r: CycleResult, devices: number): CycleResult {
  if (r.msgs !== devices || r.errors) throw new Error(`${c.key}: a cycle gave ${r.msgs} msgs, ${r.errors} errors`);
  return r;
}

// Bad options end the run with their message, as a failed measurement does.
Promise.resolve().then(() => main(parse(process.argv.slice(2)))).catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
