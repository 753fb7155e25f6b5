/**
 * A real Redis for tests: Debian's redis-server (`apt-get install redis-server`; .ci/run
 * installs it), started on a free loopback port in a temp dir with no persistence, so every
 * start is an empty Redis. It can be stopped and started again on the same port (an outage),
 * paused with SIGSTOP (a stall) and resumed.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './real-nodered';
import { sleep } from './wait';

export const REDIS_BIN = process.env.REDIS_BIN ?? '/usr/bin/redis-server';

/** PING answered with +PONG on a fresh socket. */
function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok: boolean) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => { data += d; if (data.includes('\r\n')) done(data.startsWith('+PONG') || data.startsWith('-NOAUTH')); });
    socket.once('error', () => done(false));
  });
}

export class RedisServer {
  port = 0;
  private proc?: ChildProcess;
  private exited?: Promise<void>;
  private output = '';
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-redis-'));

  /** `args`: more redis-server options, e.g. `['--requirepass', 'secret']`. */
  constructor(private readonly args: string[] = []) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  log(): string {
    return this.output;
  }

  /** The running redis-server's process id (its CPU can be read from /proc). */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  async start(): Promise<void> {
    if (!fs.existsSync(REDIS_BIN)) throw new Error(`${REDIS_BIN} is missing: install Debian's redis-server with "apt-get install redis-server" (.ci/run does), or set REDIS_BIN`);
    this.port ||= await freePort();
    const proc = spawn(REDIS_BIN, ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir, ...this.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (d) => { this.output += d; });
    proc.stderr!.on('data', (d) => { this.output += d; });
    this.exited = new Promise((resolve) => proc.once('exit', () => resolve()));
    for (let i = 0; ; i++) {
      if (proc.exitCode !== null) throw new Error(`redis-server exited with code ${proc.exitCode}: ${this.output}`);
      if (await pong(this.port)) return;
      if (i > 100) throw new Error(`redis-server did not answer on 127.0.0.1:${this.port} within 5 s: ${this.output}`);
      await sleep(50);
    }
  }

  /** Stops it (all data gone, as with persistence off); `start()` brings it back on the same port. */
  async stop(): Promise<void> {
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    proc.kill('SIGCONT');
    proc.kill('SIGKILL');
    await this.exited;
  }

  pause(): void {
    this.proc?.kill('SIGSTOP');
  }

  resume(): void {
    this.proc?.kill('SIGCONT');
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
