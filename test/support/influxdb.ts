/**
 * A real InfluxDB 1.x for tests: Debian's influxdb (`/usr/bin/influxd`; .ci/run installs it),
 * started on free loopback ports with its own config and data in a temp dir (meta, data, WAL),
 * reporting off. `useInfluxDb()` starts one per describe block and stops it in after().
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './real-nodered';
import { sleep } from './wait';

export const INFLUXD_BIN = process.env.INFLUXD_BIN ?? '/usr/bin/influxd';

export interface InfluxSeries {
  name: string;
  columns: string[];
  values: unknown[][];
  tags?: Record<string, string>;
}

export interface InfluxDb {
  host: string;
  port: number;
  /** `http://127.0.0.1:<port>` */
  url: string;
  log(): string;
  /** `CREATE DATABASE`, `DROP …`: POST /query. */
  command(q: string): Promise<void>;
  /** A SELECT on `db`, times in epoch ms: the series of its first statement. */
  query(db: string, q: string): Promise<InfluxSeries[]>;
  stop(): Promise<void>;
}

async function ping(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/ping`, { signal: AbortSignal.timeout(1000) })).status === 204;
  } catch {
    return false;
  }
}

async function influxQuery(url: string, params: Record<string, string>, method: 'GET' | 'POST'): Promise<{ results: Array<{ series?: InfluxSeries[]; error?: string }> }> {
  const res = await fetch(`${url}/query?${new URLSearchParams(params)}`, { method });
  const body = (await res.json()) as { results: Array<{ series?: InfluxSeries[]; error?: string }>; error?: string };
  const error = body.error ?? body.results?.find((r) => r.error)?.error;
  if (!res.ok || error) throw new Error(`InfluxDB ${params.q}: HTTP ${res.status} ${error ?? ''}`);
  return body;
}

export async function startInfluxDb(): Promise<InfluxDb> {
  if (!fs.existsSync(INFLUXD_BIN)) {
    throw new Error(`${INFLUXD_BIN} is missing: install Debian's InfluxDB with "apt-get install influxdb" (.ci/run does), or set INFLUXD_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-influxdb-'));
  const [httpPort, rpcPort] = [await freePort(), await freePort()];
  const conf = path.join(dir, 'influxdb.conf');
  fs.writeFileSync(conf, [
    'reporting-disabled = true',
    `bind-address = "127.0.0.1:${rpcPort}"`,
    '[meta]',
    `  dir = "${path.join(dir, 'meta')}"`,
    '[data]',
    `  dir = "${path.join(dir, 'data')}"`,
    `  wal-dir = "${path.join(dir, 'wal')}"`,
    '  query-log-enabled = false',
    '[http]',
    `  bind-address = "127.0.0.1:${httpPort}"`,
    '  log-enabled = false',
    '[monitor]',
    '  store-enabled = false',
    '',
  ].join('\n'));
  let output = '';
  const proc: ChildProcess = spawn(INFLUXD_BIN, ['-config', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => { output += d; });
  proc.stderr!.on('data', (d) => { output += d; });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${httpPort}`;

  const stop = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };

  const until = Date.now() + 30_000;
  while (!(await ping(url))) {
    if (proc.exitCode !== null || Date.now() > until) {
      const why = proc.exitCode !== null ? `exited with code ${proc.exitCode}` : `did not answer /ping on ${url} within 30 s`;
      await stop();
      throw new Error(`influxd ${why}: ${output}`);
    }
    await sleep(50);
  }

  return {
    host: '127.0.0.1',
    port: httpPort,
    url,
    log: () => output,
    async command(q) {
      await influxQuery(url, { q }, 'POST');
    },
    async query(db, q) {
      return (await influxQuery(url, { db, q, epoch: 'ms' }, 'GET')).results[0]?.series ?? [];
    },
    stop,
  };
}

/** One InfluxDB for the calling describe block: started in before(), stopped in after(). */
export function useInfluxDb(): { influx: InfluxDb } {
  const holder = {} as { influx: InfluxDb };
  before(async function () {
    this.timeout(40_000);
    holder.influx = await startInfluxDb();
  });
  after(async () => {
    await holder.influx?.stop();
  });
  return holder;
}
