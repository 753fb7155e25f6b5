/**
 * SIMULATOR-ONLY control interface under /__sim/ — the real Leapcraft API has nothing like it.
 *
 * It lets a test running in another process (e.g. a reliability suite driving Node-RED) steer
 * the simulator: read stats, inject faults, revoke tokens, raise alerts, change knobs. It needs
 * no bearer token, answers loopback peers only, and its requests are neither counted in the
 * stats nor delayed nor subject to faults.
 *
 *   GET    /__sim/stats          → stats (see LeapcraftSimulator.stats) plus maxConcurrent,
 *                                  inFlight, openConnections, activeFaults
 *   POST   /__sim/reset-stats    → {"ok": true}
 *   POST   /__sim/faults         body: a Fault as JSON ("times": null = until cleared) → {"id"}
 *   DELETE /__sim/faults         → {"ok": true}
 *   POST   /__sim/revoke-tokens  → {"ok": true}
 *   POST   /__sim/key            body: {"valid": boolean} → {"ok": true}
 *   POST   /__sim/alerts         body: a partial alert (or nothing) → the alert raised
 *   POST   /__sim/silence        body: {"physical_id": "...", "silent": true|false} → {"ok": true};
 *                                  a silent device's latest reading stays the one it made before
 *   POST   /__sim/set            body: partial options (not host, port, now) → {"ok": true};
 *                                  "dialect" as an object ({"expiredToken": 403}) or names
 *                                  ("expired403,lists-envelope"), merged into the current one
 */
import { errorReply, type HttpReply, jsonReply } from './http';
import type { Alert, Fault, SimulatorOptions } from './types';

export interface SimControl {
  controlStats(): Record<string, unknown>;
  resetStats(): void;
  injectFault(fault: Fault): string;
  clearFaults(): void;
  revokeTokens(): void;
  setKeyValid(valid: boolean): void;
  raiseAlert(partial?: Partial<Alert>): Alert;
  silence(physicalId: string, silent?: boolean): void;
  setRemote(options: unknown): void;
}

const OK = { ok: true };

/** Parses a JSON body; an empty body is `undefined`. */
function parseJson(body: string): { ok: true; value: unknown } | { ok: false } {
  if (body.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(body) as unknown };
  } catch {
    return { ok: false };
  }
}

type Handler = (body: unknown, sim: SimControl) => HttpReply;

const ROUTES: Record<string, Partial<Record<string, Handler>>> = {
  stats: { GET: (_b, sim) => jsonReply(200, sim.controlStats()) },
  'reset-stats': {
    POST: (_b, sim) => {
      sim.resetStats();
      return jsonReply(200, OK);
    },
  },
  faults: {
    POST: (body, sim) => jsonReply(200, { id: sim.injectFault(body as Fault) }),
    DELETE: (_b, sim) => {
      sim.clearFaults();
      return jsonReply(200, OK);
    },
  },
  'revoke-tokens': {
    POST: (_b, sim) => {
      sim.revokeTokens();
      return jsonReply(200, OK);
    },
  },
  key: {
    POST: (body, sim) => {
      const valid = (body as { valid?: unknown } | undefined)?.valid;
      if (typeof valid !== 'boolean') return errorReply(400, 'invalid_request', 'Send {"valid": true|false}');
      sim.setKeyValid(valid);
      return jsonReply(200, OK);
    },
  },
  alerts: { POST: (body, sim) => jsonReply(200, sim.raiseAlert(body as Partial<Alert> | undefined)) },
  silence: {
    POST: (body, sim) => {
      const { physical_id: id, silent } = (body ?? {}) as { physical_id?: unknown; silent?: unknown };
      if (typeof id !== 'string' || (silent !== undefined && typeof silent !== 'boolean')) {
        return errorReply(400, 'invalid_request', 'Send {"physical_id": "<id>", "silent": true|false}');
      }
      sim.silence(id, silent ?? true);
      return jsonReply(200, OK);
    },
  },
  set: {
    POST: (body, sim) => {
      sim.setRemote(body as Partial<SimulatorOptions>);
      return jsonReply(200, OK);
    },
  },
};

/** Handles /__sim/<segments>; `segments` excludes the "__sim" prefix. */
export function handleControl(segments: readonly string[], method: string, rawBody: string, sim: SimControl): HttpReply {
  const route = segments.length === 1 ? ROUTES[segments[0] as string] : undefined;
  if (route === undefined) return errorReply(404, 'not_found', 'No such simulator control route');
  const handler = route[method];
  if (handler === undefined) {
    const allowed = Object.keys(route).join(', ');
    return errorReply(405, 'method_not_allowed', `Use ${allowed}`, { Allow: allowed });
  }
  const parsed = parseJson(rawBody);
  if (!parsed.ok) return errorReply(400, 'invalid_json', 'The body is not valid JSON');
  try {
    return handler(parsed.value, sim);
  } catch (err) {
    // Validation errors from the simulator are the caller's mistake: report them as 400.
    return errorReply(400, 'invalid_request', err instanceof Error ? err.message : String(err));
  }
}
