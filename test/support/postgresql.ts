/**
 * A real PostgreSQL for tests: Debian's PostgreSQL 15 server binaries (.ci/run installs them),
 * a cluster made with initdb in a temp dir and started with pg_ctl on a free loopback port, its
 * socket in the same dir. PostgreSQL refuses to run as root: as root, the dir belongs to the
 * `postgres` user and the binaries run as that user. `trust` authentication: only loopback
 * listens, and a Node-RED PostgreSQL node then needs no password (nor SCRAM support).
 * `usePostgreSql()` starts one per describe block and stops it in after().
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './real-nodered';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

export const PG_BIN_DIR = process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin';
/** The cluster's superuser. */
export const PG_USER = 'postgres';

export interface PgResult<R> {
  rows: R[];
  rowCount: number | null;
}

/** What the tests use of `pg` 8 (a devDependency without its own types here). */
interface PgClient {
  connect(): Promise<void>;
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<PgResult<R>>;
  end(): Promise<void>;
}
// eslint-disable-next-line @typescript-eslint/no-require-imports
const pg = require('pg') as { Client: new (config: Record<string, unknown>) => PgClient };

export interface PostgreSql {
  host: string;
  port: number;
  user: string;
  /** A query on database `postgres` over a fresh connection. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<PgResult<R>>;
  log(): string;
  stop(): Promise<void>;
}

/** Runs a server binary, as `postgres` when this process is root. */
async function pgTool(tool: string, args: string[]): Promise<void> {
  const bin = path.join(PG_BIN_DIR, tool);
  const asRoot = process.getuid?.() === 0;
  await run(asRoot ? 'runuser' : bin, asRoot ? ['-u', PG_USER, '--', bin, ...args] : args, { maxBuffer: 8 * 1024 * 1024 });
}

export async function startPostgreSql(): Promise<PostgreSql> {
  if (!fs.existsSync(path.join(PG_BIN_DIR, 'initdb'))) {
    throw new Error(`${PG_BIN_DIR}/initdb is missing: install Debian's PostgreSQL 15 with "apt-get install postgresql-15" (.ci/run does), or set PG_BIN_DIR`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-postgresql-'));
  if (process.getuid?.() === 0) {
    const { stdout } = await run('id', ['-u', PG_USER]);
    const { stdout: gid } = await run('id', ['-g', PG_USER]);
    fs.chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
  }
  fs.chmodSync(dir, 0o700);
  const data = path.join(dir, 'data');
  const logFile = path.join(dir, 'server.log');
  const port = await freePort();
  const log = () => (fs.existsSync(logFile) ? fs.readFileSync(logFile, 'utf8') : '');
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) await pgTool('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
    started = false;
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await pgTool('initdb', ['-D', data, '-U', PG_USER, '-A', 'trust', '--no-sync', '-E', 'UTF8', '--locale', 'C']);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    // -w: returns once the server accepts connections.
    await pgTool('pg_ctl', ['-D', data, '-o', options, '-l', logFile, '-w', '-t', '60', 'start']);
    started = true;
  } catch (err) {
    const text = log();
    await stop();
    throw new Error(`PostgreSQL did not start: ${(err as Error).message}\n${text}`);
  }
  return {
    host: '127.0.0.1',
    port,
    user: PG_USER,
    async query(sql, params) {
      const client = new pg.Client({ host: '127.0.0.1', port, user: PG_USER, database: 'postgres' });
      await client.connect();
      try {
        return await client.query(sql, params);
      } finally {
        await client.end();
      }
    },
    log,
    stop,
  };
}

/** One PostgreSQL for the calling describe block: started in before(), stopped in after(). */
export function usePostgreSql(): { pg: PostgreSql } {
  const holder = {} as { pg: PostgreSql };
  before(async function () {
    this.timeout(60_000);
    holder.pg = await startPostgreSql();
  });
  after(async () => {
    await holder.pg?.stop();
  });
  return holder;
}

/**
 * node-red-contrib-postgrestor (a devDependency), installed into a Node-RED user directory so that
 * it runs on `pg` 8 (this checkout's) instead of the `pg` 6.4 it bundles: that one never completes
 * a connection on Node 14 and later (its connect callback is never called). Its own files are
 * copied, without its node_modules; `pg` 8 and its bundled `mustache` are linked beside it.
 * Note that its config node never reads the user and password it shows (it reads `node.user`, not
 * the saved `n.user`): `pg` falls back to PGUSER/PGPASSWORD of Node-RED's environment.
 */
export function installPostgrestor(userDir: string): void {
  const source = path.join(ROOT, 'node_modules', 'node-red-contrib-postgrestor');
  const modules = path.join(userDir, 'node_modules');
  const nested = path.join(source, 'node_modules');
  fs.cpSync(source, path.join(modules, 'node-red-contrib-postgrestor'), { recursive: true, filter: (p) => p !== nested && !p.startsWith(nested + path.sep) });
  fs.symlinkSync(path.join(ROOT, 'node_modules', 'pg'), path.join(modules, 'pg'), 'dir');
  fs.symlinkSync(path.join(nested, 'mustache'), path.join(modules, 'mustache'), 'dir');
}
