/**
 * `npm run bench`: the performance benchmark of issue 6. Starts the simulator and the
 * contenders in child processes, runs the measurements (sections 1 to 8), prints the figures and
 * writes bench/RESULTS.md (see --help; `--quick` is the small form CI runs).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Check, checksOf } from './checks';
import { ClusterResults, measureCluster } from './cluster';
import { CoalescingResults, measureCoalescing } from './coalescing';
import { CycleResults, measureCycle } from './cycle';
import { FrugalResults, measureFrugal } from './frugal';
import { finishMachineInfo, MachineInfo, machineInfo } from './machine';
import { BenchOptions, parseArgs, USAGE } from './options';
import { measurePicker, PickerResults } from './picker';
import { renderReport } from './report';
import { measureScale, ScaleResults } from './scale';
import { measureSoak, SoakResults } from './soak';
import { measureThroughput, ThroughputResults } from './throughput';
import { measureTokens, TokenResults } from './tokens';

const ROOT = path.resolve(__dirname, '..');

export interface BenchResults {
  command: string;
  startedAt: string;
  durationS: number;
  options: BenchOptions;
  machine: MachineInfo;
  cycle?: CycleResults;
  coalescing?: CoalescingResults;
  tokens?: TokenResults;
  soak?: SoakResults;
  throughput?: ThroughputResults;
  frugal?: FrugalResults;
  scale?: ScaleResults;
  picker?: PickerResults;
  cluster?: ClusterResults;
  checks: Check[];
}

export type Log = (line: string) => void;

export async function runBench(o: BenchOptions, command: string, log: Log = () => undefined): Promise<BenchResults> {
  const started = Date.now();
  const machine = machineInfo();
  const results: BenchResults = { command, startedAt: new Date(started).toISOString(), durationS: 0, options: o, machine, checks: [] };
  const step = async <T>(title: string, work: () => Promise<T>): Promise<T> => {
    log(title);
    const t = Date.now();
    const r = await work();
    log(`  (${Math.round((Date.now() - t) / 100) / 10} s)`);
    return r;
  };
  const { concurrency } = o;
  if (o.only.includes('cycle')) {
    results.cycle = await step(`1. one poll cycle of ${o.devices} devices, ${o.rounds} rounds, latency ${o.latencyMs} ms`, () =>
      measureCycle({ devices: o.devices, latencyMs: o.latencyMs, concurrency, rounds: o.rounds, cpuRounds: o.cpuRounds, profile: o.profile }, log));
  }
  if (o.only.includes('coalescing')) {
    results.coalescing = await step('2. coalescing', () => measureCoalescing({ ...o.coalescing, latencyMs: o.latencyMs, concurrency }, log));
  }
  if (o.only.includes('tokens')) {
    results.tokens = await step('3. token economy', () => measureTokens({ ...o.tokens, concurrency }, log));
  }
  if (o.only.includes('soak')) {
    results.soak = await step('4. soak', () => measureSoak({ ...o.soak, concurrency }, log));
  }
  if (o.only.includes('throughput')) {
    results.throughput = await step('5. throughput', () => measureThroughput({ devices: o.devices, rounds: o.rounds, concurrency }, log));
  }
  if (o.only.includes('frugal')) {
    const f = o.frugal;
    results.frugal = await step(`6. frugal polling: ${f.devices} sensors every ${f.reportIntervalS} s, polled every ${f.intervalS} s, simulated time`, () =>
      measureFrugal({ ...f, concurrency }, log));
  }
  if (o.only.includes('scale')) {
    const sc = o.scale;
    results.scale = await step(`7. building scale: ${sc.devices} devices on ${sc.gateways} gateways`, () =>
      measureScale({ ...sc, latencyMs: o.latencyMs, concurrency }, log));
  }
  if (o.only.includes('picker')) {
    const sc = o.scale;
    results.picker = await step(`7. building scale, the editor: the device picker on ${sc.devices} devices`, () =>
      measurePicker({ devices: sc.devices, gateways: sc.gateways, latencyMs: o.latencyMs }, log));
  }
  if (o.only.includes('cluster')) {
    const c = o.cluster;
    results.cluster = await step(`8. cluster on Redis: ${c.replicas.join(', ')} replicas, one account of ${c.devices} devices and ${c.accounts} accounts of ${Math.floor(c.devices / c.accounts)}, every ${c.intervalS} s`, () =>
      measureCluster({ ...c, latencyMs: o.latencyMs, concurrency }, log));
  }
  finishMachineInfo(machine);
  results.checks = checksOf(results);
  results.durationS = (Date.now() - started) / 1000;
  return results;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const parsed = parseArgs(argv);
  if (parsed === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const command = ['npm run bench', ...(argv.length ? ['--', ...argv] : [])].join(' ');
  if (parsed.build) {
    process.stdout.write('building dist/ (npm run build)\n');
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  }
  const results = await runBench(parsed, command, (line) => process.stdout.write(`${line}\n`));
  const report = renderReport(results);
  process.stdout.write(`\n${report.summary}\n`);
  if (parsed.out) {
    fs.writeFileSync(path.resolve(ROOT, parsed.out), report.markdown);
    process.stdout.write(`wrote ${parsed.out}\n`);
  }
  if (parsed.json) fs.writeFileSync(path.resolve(ROOT, parsed.json), `${JSON.stringify(results, null, 2)}\n`);
  if (results.checks.some((c) => !c.pass)) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  });
}
