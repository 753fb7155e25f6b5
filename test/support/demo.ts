/**
 * The `npm start` demo as tests use it: `node scripts/start.js --no-build` in a child process
 * (its own process group), on free ports, with its Node-RED user directory in a temporary
 * folder, against the simulator. stop() is what Ctrl-C would do (SIGTERM to the script, which
 * stops Node-RED and the simulator), then kills the whole process group, whatever is left.
 */
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import { freePort } from './real-nodered';
import { sleep } from './wait';

const ROOT = path.resolve(__dirname, '..', '..');
const START_SCRIPT = path.join(ROOT, 'scripts', 'start.js');

export interface RunningDemo {
  editorUrl: string;
  dashboardUrl: string;
  simulatorUrl: string;
  apiKey: string;
  port: number;
  simulatorPort: number;
  demoDir: string;
  /** How long `node scripts/start.js` took until it printed the URLs (ms). */
  startupMs: number;
  /** When it had (Date.now()). */
  readyAt: number;
  /** What start.js printed (stdout and stderr). */
  output(): string;
  /** Node-RED's log in the user directory. */
  nodeRedLog(): string;
  /**
   * Graceful stop (SIGTERM), then SIGKILL to the process group; safe to call more than once. The
   * user directory goes too, unless it was given (DemoOptions.demoDir).
   */
  stop(): Promise<void>;
}

export interface DemoOptions {
  /** Run `npm run build` first (default false: the test command builds). */
  build?: boolean;
  /** Startup timeout in ms (default 60 s). */
  timeoutMs?: number;
  /**
   * The Node-RED user directory of an earlier run, to start again on (as a second `npm start`
   * does); kept by stop(). Default: a fresh temporary one, removed by stop().
   */
  demoDir?: string;
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** true when something accepts connections on 127.0.0.1:port. */
export function isListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startDemo(options: DemoOptions = {}): Promise<RunningDemo> {
  const port = await freePort();
  let simulatorPort = await freePort();
  while (simulatorPort === port) simulatorPort = await freePort();
  const ownDir = options.demoDir === undefined;
  const demoDir = options.demoDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-demo-'));
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), LEAPCRAFT_SIMULATOR_PORT: String(simulatorPort), LEAPCRAFT_DEMO_DIR: demoDir };
  // Always the simulator, whatever the developer's shell has set.
  delete env.LEAPCRAFT_API_KEY;
  delete env.LEAPCRAFT_BASE_URL;
  const args = [START_SCRIPT, ...(options.build ? [] : ['--no-build'])];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d) => { output += d; });
  child.stderr!.on('data', (d) => { output += d; });

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      if (!exited(child)) {
        const done = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 20_000);
        await done;
        clearTimeout(timer);
      }
      // Anything of the group still there (it should not be) goes now.
      killGroup(child, 'SIGKILL');
      if (ownDir) fs.rmSync(demoDir, { recursive: true, force: true });
    })();
    return stopped;
  };

  const demo: RunningDemo = {
    editorUrl: `http://127.0.0.1:${port}/`,
    dashboardUrl: `http://127.0.0.1:${port}/dashboard`,
    simulatorUrl: `http://127.0.0.1:${simulatorPort}/v1`,
    apiKey: 'demo-key',
    port,
    simulatorPort,
    demoDir,
    startupMs: 0,
    readyAt: 0,
    output: () => output,
    nodeRedLog: () => {
      try {
        return fs.readFileSync(path.join(demoDir, 'node-red.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop,
  };

  const until = Date.now() + (options.timeoutMs ?? 60_000);
  while (!/Press Ctrl\+C to stop/.test(output)) {
    if (exited(child)) {
      await stop();
      throw new Error(`npm start exited (code ${child.exitCode}):\n${output}`);
    }
    if (Date.now() > until) {
      const log = demo.nodeRedLog();
      await stop();
      throw new Error(`npm start did not get ready in time:\n${output}\n--- Node-RED log ---\n${log}`);
    }
    await sleep(100);
  }
  demo.readyAt = Date.now();
  demo.startupMs = demo.readyAt - spawnedAt;
  return demo;
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone
  }
}
