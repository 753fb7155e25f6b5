/**
 * A real MQTT broker for tests: Debian's Mosquitto (`apt-get install mosquitto`; .ci/run
 * installs it), started on a free loopback port with a generated config in a temp dir:
 * listener on 127.0.0.1 only, anonymous clients, no persistence (a fresh broker, no
 * retained messages from an earlier run). `useMosquitto()` starts one per describe block
 * and stops it in after().
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freePort } from './real-nodered';
import { sleep } from './wait';

export const MOSQUITTO_BIN = process.env.MOSQUITTO_BIN ?? '/usr/sbin/mosquitto';

export interface Mosquitto {
  host: string;
  port: number;
  /** `mqtt://127.0.0.1:<port>` */
  url: string;
  /** What the broker printed (its log goes to stdout). */
  log(): string;
  stop(): Promise<void>;
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

export async function startMosquitto(): Promise<Mosquitto> {
  if (!fs.existsSync(MOSQUITTO_BIN)) {
    throw new Error(`${MOSQUITTO_BIN} is missing: install Debian's broker with "apt-get install mosquitto" (.ci/run does), or set MOSQUITTO_BIN`);
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-mosquitto-'));
  // World-readable: run as root, Mosquitto drops to its own user before it reads anything else.
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = path.join(dir, 'mosquitto.conf');
  fs.writeFileSync(conf, [
    `listener ${port} 127.0.0.1`,
    'allow_anonymous true',
    'persistence false',
    'log_dest stdout',
    'log_type error',
    'log_type warning',
    'log_type notice',
    '',
  ].join('\n'));
  let output = '';
  const proc: ChildProcess = spawn(MOSQUITTO_BIN, ['-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  proc.stdout!.on('data', (d) => { output += d; });
  proc.stderr!.on('data', (d) => { output += d; });
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));

  const cleanup = () => fs.rmSync(dir, { recursive: true, force: true });
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) {
      cleanup();
      throw new Error(`mosquitto exited with code ${proc.exitCode}: ${output}`);
    }
    if (await canConnect(port)) break;
    if (i > 100) {
      proc.kill('SIGKILL');
      await exited;
      cleanup();
      throw new Error(`mosquitto did not listen on 127.0.0.1:${port} within 5 s: ${output}`);
    }
    await sleep(50);
  }

  return {
    host: '127.0.0.1',
    port,
    url: `mqtt://127.0.0.1:${port}`,
    log: () => output,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(timer);
      }
      cleanup();
    },
  };
}

/** One broker for the calling describe block: started in before(), stopped in after(). */
export function useMosquitto(): { broker: Mosquitto } {
  const holder = {} as { broker: Mosquitto };
  before(async function () {
    this.timeout(15_000);
    holder.broker = await startMosquitto();
  });
  after(async () => {
    await holder.broker?.stop();
  });
  return holder;
}
