/**
 * The simulator's own process. Besides the simulator it offers the orchestrator a compact
 * request count (the full stats snapshot carries a 20,000-entry log) and, for the token
 * economy, a simulated clock that only moves when told to.
 */
import { LeapcraftSimulator, SimulatorOptions } from '../simulator';
import { serve } from './ipc';

export interface SimStartParams {
  deviceCount: number;
  latencyMs: number;
  tokenLifetimeMs?: number;
  gateways?: number;
  /** How often each sensor reports (default: the simulator's, 60 s). */
  reportIntervalMs?: number;
  /** The simulated clock stands still except for advanceClock(). */
  manualClock?: boolean;
  /** Further API keys it accepts (each a separate account on the same base URL). */
  apiKeys?: string[];
}

export interface SimCounts {
  total: number;
  token: number;
  devices: number;
  telemetry: number;
  byStatus: Record<string, number>;
  tokensIssued: number;
  maxConcurrent: number;
  /** CPU the simulator spent since the last reset, in ms. */
  cpuMs: number;
  /** TCP connections open to the simulator now (keep-alive ones included). */
  connections: number;
}

let sim: LeapcraftSimulator | undefined;
let clockOffsetMs = 0;
const clockBase = Date.now();
let cpuAtReset = process.cpuUsage();

function simulator(): LeapcraftSimulator {
  if (!sim) throw new Error('simulator not started');
  return sim;
}

function cpuSinceReset(): number {
  const used = process.cpuUsage(cpuAtReset);
  return (used.user + used.system) / 1000;
}

serve({
  async start(p: SimStartParams) {
    const options: SimulatorOptions = { deviceCount: p.deviceCount, latencyMs: p.latencyMs, seed: 1 };
    if (p.tokenLifetimeMs !== undefined) options.tokenLifetimeMs = p.tokenLifetimeMs;
    if (p.gateways !== undefined) options.gateways = p.gateways;
    if (p.reportIntervalMs !== undefined) options.reportIntervalMs = p.reportIntervalMs;
    if (p.apiKeys !== undefined) options.apiKeys = p.apiKeys;
    if (p.manualClock) options.now = () => clockBase + clockOffsetMs;
    sim = new LeapcraftSimulator(options);
    const baseUrl = await sim.start();
    return { baseUrl, apiKey: sim.apiKey, ids: sim.devices().map((d) => d.physical_id) };
  },
  set(options: Partial<SimulatorOptions>) {
    simulator().set(options);
  },
  reset() {
    simulator().resetStats();
    cpuAtReset = process.cpuUsage();
  },
  counts(): SimCounts {
    const s = simulator();
    const stats = s.stats;
    return {
      total: stats.total,
      token: stats.byEndpoint.token,
      devices: stats.byEndpoint.devices,
      telemetry: stats.byEndpoint.telemetry,
      byStatus: stats.byStatus,
      tokensIssued: stats.tokensIssued.length,
      maxConcurrent: s.maxConcurrent,
      cpuMs: cpuSinceReset(),
      connections: s.openConnections(),
    };
  },
  /** The telemetry requests since the last reset, in arrival order: physical id and time. */
  telemetryLog(): Array<{ id: string; at: number }> {
    return simulator().stats.requests
      .filter((r) => r.endpoint === 'telemetry')
      .map((r) => ({ id: decodeURIComponent(r.rawUrl.split('?')[0]!.split('/').pop()!), at: r.at }));
  },
  /** Every device's name and physical id (what a user types into a device picker). */
  devices(): Array<{ name: string; physical_id: string }> {
    return simulator().devices().map((d) => ({ name: String(d.name), physical_id: d.physical_id }));
  },
  advanceClock(ms: number) {
    clockOffsetMs += ms;
    return clockOffsetMs;
  },
  async stop() {
    await sim?.stop();
    sim = undefined;
  },
});
