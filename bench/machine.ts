/** What the figures were measured on, and what else was running at the time. */
import fs from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
  nodeRed: string;
  axios: string;
  /** 1-minute load average when the run started and ended. */
  loadStart: number;
  loadEnd?: number;
  /** Other mocha processes (test runs of other work) seen at start and end. */
  otherTestRunsStart: number;
  otherTestRunsEnd?: number;
}

function version(pkg: string): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require(`${pkg}/package.json`) as { version: string }).version;
}

/** Node processes running mocha (one per test run), other than this one and its ancestors. */
export function otherTestRuns(): number {
  const mine = new Set<number>();
  for (let pid = process.pid; pid > 1;) {
    mine.add(pid);
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  let n = 0;
  let entries: string[] = [];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || mine.has(Number(e))) continue;
    try {
      const args = fs.readFileSync(`/proc/${e}/cmdline`, 'utf8').split('\0');
      if (/(^|\/)node$/.test(args[0] ?? '') && args.some((a) => /mocha/.test(a))) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    nodeRed: version('node-red'),
    axios: version('axios'),
    loadStart: os.loadavg()[0]!,
    otherTestRunsStart: otherTestRuns(),
  };
}

export function finishMachineInfo(m: MachineInfo): void {
  m.loadEnd = os.loadavg()[0]!;
  m.otherTestRunsEnd = otherTestRuns();
}
