/**
 * A real Node-RED 4.1 process (the devDependency) with this package loaded from the
 * working tree's build, or installed from the packed tarball as a user gets it, for tests
 * that need what the test helper cannot give: restarts, persistent context stores, the
 * admin API as users reach it.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sleep } from './wait';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

export interface RealNodeRedOptions {
  /** Extra settings.js entries, as JavaScript source (e.g. a contextStorage block). */
  settingsSource?: string;
  /** Install this `npm pack` tarball (see support/pack.ts) instead of linking the working tree. */
  tarball?: string;
  /** Extra arguments for the node binary that runs Node-RED (e.g. `--expose-gc`). */
  nodeArgs?: string[];
  /** Node packages of this checkout's node_modules (devDependencies) to install too, e.g. `node-red-contrib-influxdb`. */
  modules?: string[];
  /** Environment variables for the Node-RED process, on top of this one's. */
  env?: Record<string, string>;
}

/** How much of the running flows a deploy replaces (the editor's Deploy menu). */
export type DeploymentType = 'full' | 'nodes' | 'flows';

export class RealNodeRed {
  readonly userDir: string;
  port = 0;
  log = '';
  private proc?: ChildProcess;

  constructor(private readonly options: RealNodeRedOptions = {}) {
    this.userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-nr-'));
    const modules = path.join(this.userDir, 'node_modules');
    fs.mkdirSync(modules);
    fs.writeFileSync(path.join(this.userDir, 'package.json'), JSON.stringify({ name: 'leapcraft-test-userdir', private: true }));
    // Node-RED scans userDir/node_modules for node modules; the link is the working tree.
    if (!options.tarball) fs.symlinkSync(ROOT, path.join(modules, 'node-red-contrib-leapcraft'), 'dir');
    for (const name of options.modules ?? []) fs.symlinkSync(path.join(ROOT, 'node_modules', name), path.join(modules, name), 'dir');
  }

  private installed = false;

  /** `npm install <tarball>` into the userDir (once), as a user installs from the registry. */
  private async installTarball(): Promise<void> {
    if (!this.options.tarball || this.installed) return;
    await run('npm', ['install', this.options.tarball, '--no-audit', '--no-fund', '--prefer-offline', '--no-package-lock'], {
      cwd: this.userDir, maxBuffer: 32 * 1024 * 1024,
    });
    this.installed = true;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    await this.installTarball();
    this.port = await freePort();
    fs.writeFileSync(path.join(this.userDir, 'settings.js'), `module.exports = {
  uiHost: '127.0.0.1', uiPort: ${this.port}, flowFile: 'flows.json', credentialSecret: 'test-secret',
  logging: { console: { level: 'info' } },
  ${this.options.settingsSource ?? ''}
};\n`);
    const red = spawn(process.execPath, [...(this.options.nodeArgs ?? []), require.resolve('node-red/red.js'), '--userDir', this.userDir, '--settings', path.join(this.userDir, 'settings.js')], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...this.options.env },
    });
    this.proc = red;
    // The log spans every start of this userDir: only this start's "Started flows" counts.
    const from = this.log.length;
    red.stdout!.on('data', (d) => { this.log += d; });
    red.stderr!.on('data', (d) => { this.log += d; });
    for (let i = 0; i < 600; i++) {
      if (red.exitCode !== null) throw new Error(`Node-RED exited: ${this.log}`);
      try {
        const res = await fetch(`${this.url}/settings`, { headers: { Accept: 'application/json' } });
        if (res.ok && /Started flows/.test(this.log.slice(from))) return;
      } catch {
        // not listening yet
      }
      await sleep(100);
    }
    throw new Error(`Node-RED did not start: ${this.log}`);
  }

  /**
   * Deploy through the admin API, as the editor does it: `full` restarts every node, `nodes`
   * only the nodes that changed (and the nodes using a changed config node).
   */
  async deploy(flows: unknown[], type: DeploymentType = 'full', headers: Record<string, string> = {}): Promise<void> {
    const res = await fetch(`${this.url}/flows`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': type, 'Node-RED-API-Version': 'v2', ...headers },
      body: JSON.stringify({ flows }),
    });
    if (!res.ok) throw new Error(`deploy failed: HTTP ${res.status} ${await res.text()}`);
  }

  /** The deployed flows as the editor exports them (GET /flows). */
  async getFlows(headers: Record<string, string> = {}): Promise<unknown[]> {
    const res = await fetch(`${this.url}/flows`, { headers: { Accept: 'application/json', 'Node-RED-API-Version': 'v2', ...headers } });
    if (!res.ok) throw new Error(`GET /flows failed: HTTP ${res.status} ${await res.text()}`);
    return ((await res.json()) as { flows: unknown[] }).flows;
  }

  /** The process id while running (for the test to look at it from outside). */
  get pid(): number | undefined {
    return this.proc?.exitCode === null ? this.proc.pid : undefined;
  }

  /** The process is running and its admin API still answers. */
  async alive(): Promise<boolean> {
    if (!this.proc || this.proc.exitCode !== null || this.proc.signalCode !== null) return false;
    try {
      const res = await fetch(`${this.url}/settings`, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(5000) });
      return res.ok;
    } catch {
      return false;
    }
  }

  /** An admin access token for a user of settings.js `adminAuth` (the editor's password grant). */
  async login(username: string, password: string, scope: string): Promise<string> {
    const res = await fetch(`${this.url}/auth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password }),
    });
    if (res.status !== 200) throw new Error(`login ${username}: HTTP ${res.status}`);
    return ((await res.json()) as { access_token: string }).access_token;
  }

  /** Sends `signal` to the process (SIGKILL: a crash; SIGSTOP/SIGCONT: a pause). A killed one can be started again. */
  signal(signal: NodeJS.Signals): void {
    this.proc?.kill(signal);
  }

  /** Resolves when the process has exited (at once when it is not running). */
  exited(): Promise<void> {
    const red = this.proc;
    if (!red || red.exitCode !== null || red.signalCode !== null) return Promise.resolve();
    return new Promise((r) => red.once('exit', () => r()));
  }

  /** Graceful stop (SIGINT, as Ctrl-C): nodes close and context stores flush. */
  async stop(): Promise<void> {
    const red = this.proc;
    if (!red || red.exitCode !== null || red.signalCode !== null) return;
    const exited = new Promise((r) => red.once('exit', r));
    // A paused process (SIGSTOP) hears SIGINT only once it runs again.
    red.kill('SIGCONT');
    red.kill('SIGINT');
    const timer = setTimeout(() => red.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.userDir, { recursive: true, force: true });
  }
}

/**
 * Lines a core `file` node appended, parsed as JSON. A last line without its newline is still
 * being written and is left for the next read.
 */
export function readJsonLines(file: string): unknown[] {
  if (!fs.existsSync(file)) return [];
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  lines.pop(); // '' after the final newline, or a line the file node has not finished
  return lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
}
