/**
 * Measurement 3: token exchanges over a simulated run. The simulator's clock stands still
 * and moves `stepS` before each cycle, so a ten-minute run with a 60 s token lifetime
 * takes seconds, and expiry falls exactly at a cycle's start: every request of that cycle
 * (at the account's concurrency, several on the wire at once) meets the expired token
 * together. The cycle is a msg into leapcraft-telemetry with the devices set; the client
 * and the token handling are the ones polling uses.
 */
import { ACCOUNT, credentials, packageFlow, SINK, TRIGGER } from './flows';
import type { CycleResult } from './nodered-process';
import { withScope } from './processes';

export interface TokenOptions {
  devices: number;
  lifetimeS: number;
  runS: number;
  stepS: number;
  latencyMs: number;
  concurrency: number;
}

export interface TokenResults {
  devices: number;
  lifetimeS: number;
  runS: number;
  stepS: number;
  cycles: number;
  lifetimesElapsed: number;
  /** Token requests the API received. */
  exchanges: number;
  /** The client's own count. */
  clientExchanges: number;
  /** Requests refused with 401 (an expired token), each replayed once with the new token. */
  refused: number;
  /** Telemetry requests answered with readings. */
  telemetryOk: number;
  msgs: number;
  errors: number;
}

type Log = (line: string) => void;

export async function measureTokens(o: TokenOptions, log: Log): Promise<TokenResults> {
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, latencyMs: o.latencyMs, tokenLifetimeMs: o.lifetimeS * 1000, manualClock: true });
    const nr = await scope.nodeRed('tokens');
    const account = { baseUrl: sim.baseUrl, apiKey: sim.apiKey, concurrency: o.concurrency };
    await sim.reset();
    await nr.call('deploy', { flows: packageFlow(account, { devices: sim.ids.join(',') }), credentials: credentials(account), sinks: [SINK] });
    const cycles = o.runS / o.stepS + 1; // t = 0, step, ..., runS
    let msgs = 0;
    let errors = 0;
    for (let i = 0; i < cycles; i++) {
      if (i > 0) await sim.child.call('advanceClock', o.stepS * 1000);
      const r = await nr.call<CycleResult>('cycle', { trigger: TRIGGER, sink: SINK, expected: o.devices });
      msgs += r.msgs;
      errors += r.errors;
    }
    const counts = await sim.counts();
    const client = await nr.call<{ tokenExchanges: number }>('clientStats', ACCOUNT);
    const result: TokenResults = {
      devices: o.devices,
      lifetimeS: o.lifetimeS,
      runS: o.runS,
      stepS: o.stepS,
      cycles,
      lifetimesElapsed: Math.floor(o.runS / o.lifetimeS),
      exchanges: counts.token,
      clientExchanges: client.tokenExchanges,
      refused: counts.byStatus['401'] ?? 0,
      telemetryOk: counts.telemetry - (counts.byStatus['401'] ?? 0),
      msgs,
      errors,
    };
    log(`  ${cycles} cycles over ${o.runS} s simulated: ${result.exchanges} exchanges (${result.lifetimesElapsed} lifetimes elapsed), ${result.refused} requests met an expired token`);
    return result;
  });
}
