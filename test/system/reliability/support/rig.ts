/**
 * The reliability rig: the API simulator in the test process, a real Node-RED process with
 * the packed package installed as a user installs it, and the observed flow (flow.ts)
 * deployed through the admin API. Tests drive the simulator's fault knobs and read what left
 * Node-RED from the observed flow's files.
 */
import fs from 'node:fs';
import path from 'node:path';

import { LeapcraftSimulator, type RequestLogEntry, type SimulatorOptions } from '../../../../simulator';
import { packOnce } from '../../../support/pack';
import { type DeploymentType, freePort, readJsonLines, RealNodeRed } from '../../../support/real-nodered';
import { type FlowNode, IDS, observedFiles, type ObservedFiles, observedFlow } from './flow';
import type { AlertLine, CaughtLine, StatusLine, TelemetryLine } from './measure';
import { PROBE_NODE_ARGS, PROBE_SETTINGS } from './probe';
import { artifactsDir } from './report';
import { waitFor } from '../../../support/wait';

/** `LEAPCRAFT_RELIABILITY=full` runs the long form (minute-long outages, 100 + 100 deploys). */
export const FULL = process.env.LEAPCRAFT_RELIABILITY === 'full';

export interface RigOptions {
  /** The account's concurrency setting. */
  concurrency?: number;
  /** The account's timeout setting, seconds. */
  timeoutS?: number;
  /** Poll interval of the telemetry and notifications nodes, seconds. */
  intervalS?: number;
  /** Simulator options (device count, gateways, backlog of alerts, ...). */
  simulator?: SimulatorOptions;
  /** Run Node-RED with --expose-gc and the process probe route (probe.ts). */
  probe?: boolean;
  /** Further settings.js entries. */
  settingsSource?: string;
}

/** Log lines that mean Node-RED hit something it could not handle. */
const CRASH_PATTERNS = /uncaught|unhandled|fatal error|heap out of memory|segmentation fault|\[red\] .*exception/i;


export class ReliabilityRig {
  readonly sim: LeapcraftSimulator;
  red!: RealNodeRed;
  files!: ObservedFiles;
  readonly concurrency: number;
  readonly timeoutS: number;
  readonly intervalS: number;
  /** Ids of the alerts the test raised, in order. */
  readonly raised: string[] = [];
  private readonly earlier: RequestLogEntry[] = [];

  constructor(private readonly options: RigOptions = {}) {
    this.concurrency = options.concurrency ?? 4;
    this.timeoutS = options.timeoutS ?? 30;
    this.intervalS = options.intervalS ?? 1;
    this.sim = new LeapcraftSimulator({ deviceCount: 12, gateways: 3, ...options.simulator });
  }

  /** Simulator on a fixed port (so an outage can stop and restart it), Node-RED from the tarball. */
  async start(): Promise<void> {
    this.sim.set({ port: await freePort() });
    await this.sim.start();
    this.red = new RealNodeRed({
      tarball: await packOnce(),
      nodeArgs: this.options.probe ? PROBE_NODE_ARGS : [],
      settingsSource: [this.options.probe ? PROBE_SETTINGS : '', this.options.settingsSource ?? ''].join('\n'),
    });
    this.files = observedFiles(path.join(this.red.userDir, 'observed'));
    await this.red.start();
  }

  flow(): FlowNode[] {
    return observedFlow({
      baseUrl: this.sim.baseUrl,
      apiKey: this.sim.apiKey,
      concurrency: this.concurrency,
      timeoutS: this.timeoutS,
      intervalS: this.intervalS,
      dir: path.dirname(this.files.telemetry),
      probe: this.options.probe,
    });
  }

  deploy(flow: FlowNode[] = this.flow(), type: DeploymentType = 'full'): Promise<void> {
    return this.red.deploy(flow, type);
  }

  /** Physical ids of every device of the simulated estate. */
  deviceIds(): string[] {
    return this.sim.devices().map((d) => d.physical_id);
  }

  /** Every API request since start (the simulator's log survives resetStats() here). */
  requests(): RequestLogEntry[] {
    return [...this.earlier, ...this.sim.stats.requests];
  }

  /** Zeroes the simulator's counters and peak concurrency; the request log is kept by the rig. */
  resetStats(): void {
    this.earlier.push(...this.sim.stats.requests);
    this.sim.resetStats();
  }

  raiseAlert(): string {
    const alert = this.sim.raiseAlert();
    this.raised.push(String(alert.id));
    return String(alert.id);
  }

  telemetry(): TelemetryLine[] { return readJsonLines(this.files.telemetry) as TelemetryLine[]; }
  alerts(): AlertLine[] { return readJsonLines(this.files.alerts) as AlertLine[]; }
  caught(): CaughtLine[] { return readJsonLines(this.files.caught) as CaughtLine[]; }
  statuses(): StatusLine[] { return readJsonLines(this.files.status) as StatusLine[]; }

  /** Lines of the Node-RED log that tell of a crash or an unhandled error. */
  crashLines(): string[] {
    return this.red.log.split('\n').filter((l) => CRASH_PATTERNS.test(l));
  }

  /**
   * Waits until the flow is in its normal state: every device emitted within the last two
   * intervals, and both polling nodes show green.
   */
  async waitHealthy(timeoutMs = 30_000): Promise<void> {
    const ids = this.deviceIds();
    await waitFor(() => {
      const since = Date.now() - 2 * this.intervalS * 1000 - 500;
      const recent = new Set(this.telemetry().filter((l) => l.at >= since).map((l) => l.physical_id));
      const statuses = this.statuses();
      const green = (id: string) => statuses.filter((s) => s.source === id).pop()?.fill === 'green';
      return ids.every((id) => recent.has(id)) && green(IDS.telemetry) && green(IDS.notifications);
    }, timeoutMs, 'every device emitting and both nodes green');
  }

  /** Waits until the notifications node has recorded its first check (the backlog). */
  async waitAlertsPrimed(timeoutMs = 30_000): Promise<void> {
    await waitFor(() => this.statuses().some((s) => s.source === IDS.notifications && s.fill === 'green'), timeoutMs, 'the first alerts check');
  }

  /** Undoes every fault knob (after a scenario failed half-way): faults, key, token lifetime, outage. */
  async heal(): Promise<void> {
    this.sim.clearFaults();
    this.sim.setKeyValid(true);
    this.sim.set({ tokenLifetimeMs: this.options.simulator?.tokenLifetimeMs ?? 3_600_000 });
    await this.sim.start().catch(() => undefined); // refused when it is running: fine
  }

  async dispose(): Promise<void> {
    await this.red?.dispose();
    await this.sim.stop();
  }

  /** Keeps the Node-RED user directory (flows, log, observed files) for a failed run. */
  saveArtifacts(name: string): string | undefined {
    if (!this.red) return undefined;
    const dir = path.join(artifactsDir(), name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'node-red.log'), this.red.log);
    const observed = path.dirname(this.files.telemetry);
    if (fs.existsSync(observed)) for (const f of fs.readdirSync(observed)) fs.copyFileSync(path.join(observed, f), path.join(dir, f));
    fs.writeFileSync(path.join(dir, 'requests.json'), JSON.stringify(this.requests()));
    return dir;
  }
}
