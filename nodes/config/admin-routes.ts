/**
 * Admin routes behind the editor's look-ups: the account dialog's "Test connection" button
 * and the device and gateway pickers of the flow nodes.
 *
 *   POST leapcraft/test-connection  {id?, baseUrl?, apiKey?, concurrency?, timeout?}
 *        200 {ok: true, devices: <count>} | 4xx/5xx {ok: false, code, message, reason?}
 *   POST leapcraft/devices          {id?, baseUrl?, apiKey?, concurrency?, timeout?, refresh?}
 *        200 {devices: [{physical_id, name, type}]} (sorted by name) | 4xx/5xx as above
 *   POST leapcraft/topologies       {id?, baseUrl?, apiKey?, concurrency?, timeout?, refresh?}
 *        200 {topologies: [{gateway_id, name}]} (sorted by name) | 4xx/5xx as above (the gateway picker)
 *   POST leapcraft/check-api        {id?, baseUrl?, apiKey?, timeout?}
 *        200 {ok: true, outcome, requests, report: <text>, points: {<point>: {reading, value?, evidence}}}
 *        | 4xx/5xx as above (the account dialog's "Check API": lib/api/doctor.ts)
 *
 * All need the `leapcraft-config.read` permission; a typed key also needs
 * `leapcraft-config.write` (which key may go where: nodes/config/key-policy.ts).
 *
 * The API key and tokens never leave the server and are never logged: responses carry
 * counts, device names/ids/types, error codes and LeapcraftError messages (already redacted,
 * and redacted once more here); the check's report carries field names, types, counts,
 * statuses and timings only. Device and gateway lists are cached for 30 s per account, base
 * URL and key, so a user typing in a picker does not hammer the API.
 */
import type { NextFunction, Request, Response } from 'express';
import {
  DEFAULT_BASE_URL, isLeapcraftError, LeapcraftAuthError, LeapcraftClient, LeapcraftError, LeapcraftTimeoutError, redactSecrets, validateBaseUrl,
} from '../../lib';
import type { Device, Topology } from '../../lib';
import { formatDoctorReport, runDoctor } from '../../lib/doctor';
import type { LeapcraftAccount, LeapcraftCredentials, NodeAPI } from '../common/types';
import { TIMEOUT_MAX_S } from '../../lib/api/account-settings';
import { decideTarget, DeployedAccount, LookupBody, LookupError, parseLookupBody, positiveNumber, TargetDecision } from './key-policy';

export { CREDENTIAL_PLACEHOLDER } from './key-policy';

export const TEST_CONNECTION_PATH = '/leapcraft/test-connection';
export const DEVICES_PATH = '/leapcraft/devices';
export const TOPOLOGIES_PATH = '/leapcraft/topologies';
export const CHECK_API_PATH = '/leapcraft/check-api';
export const READ_PERMISSION = 'leapcraft-config.read';
export const WRITE_PERMISSION = 'leapcraft-config.write';
/** A look-up answers within this, whatever the account's own timeout. */
export const LOOKUP_TIMEOUT_MS = 15_000;
/** The API check (at most 15 requests, one at a time) answers within this. */
export const CHECK_API_TIMEOUT_MS = 45_000;
/** Each request of the API check, at most (the account's timeout when shorter). */
export const CHECK_API_REQUEST_TIMEOUT_MS = 10_000;
export const DEVICE_CACHE_TTL_MS = 30_000;
/** A refresh (the picker's button) re-reads the list only when the cached one is older than this. */
export const MIN_REFRESH_MS = 5_000;
const MAX_CACHE_ENTRIES = 100;

export interface DeviceSummary {
  physical_id: string;
  name: string;
  type: string;
}

/** The deployed leapcraft-config node `id`: its settings, stored key and running node. */
function findDeployed(RED: NodeAPI, id: string): (DeployedAccount & { node?: LeapcraftAccount }) | undefined {
  let def: Record<string, unknown> | undefined;
  RED.nodes.eachNode((n) => {
    if (n.id === id && n.type === 'leapcraft-config') def = n as unknown as Record<string, unknown>;
  });
  const running = RED.nodes.getNode(id) as LeapcraftAccount | null;
  const node = running && running.type === 'leapcraft-config' && typeof running.getClient === 'function' ? running : undefined;
  if (!def && !node) return undefined;

  const account: DeployedAccount & { node?: LeapcraftAccount } = { node, running: !!node, keyUnresolved: !node, timeoutS: positiveNumber(def?.timeout, TIMEOUT_MAX_S) };
  try {
    // Where the running account sends its key; else where its settings say it would.
    let client: LeapcraftClient | undefined;
    try {
      client = node?.getClient();
    } catch {
      // a configuration error: the settings below say which
    }
    account.baseUrl = client?.baseUrl ?? validateBaseUrl(typeof def?.baseUrl === 'string' && def.baseUrl !== '' ? def.baseUrl : DEFAULT_BASE_URL);
  } catch (err) {
    account.baseUrlError = err as LeapcraftError;
  }
  // A running node holds its credentials with ${ENV} references resolved; otherwise (a node
  // of a disabled flow) the store has them as typed.
  const creds = node ? node.credentials : (RED.nodes.getCredentials(id) as LeapcraftCredentials | undefined);
  const key = typeof creds?.apiKey === 'string' ? creds.apiKey.trim() : '';
  if (key !== '') account.apiKey = key;
  return account;
}

/**
 * Where a decided look-up goes: the running account's own client, or a short-lived one made on
 * first use (closed by release()). The key and base URL are there for the API check, which
 * makes its own requests.
 */
class Target {
  private own?: LeapcraftClient;

  constructor(readonly decision: TargetDecision, private readonly sharedClient?: LeapcraftClient) {}

  /** The deployed account's own client serves the look-up: not closed after it. */
  get shared(): boolean {
    return this.sharedClient !== undefined;
  }

  /** A key the caller typed (to any URL): needs the write permission. */
  get custom(): boolean {
    return this.decision.custom;
  }

  get cacheKey(): string {
    return this.decision.cacheKey;
  }

  get secrets(): string[] {
    return [this.decision.apiKey];
  }

  get client(): LeapcraftClient {
    if (this.sharedClient) return this.sharedClient;
    this.own ??= new LeapcraftClient({
      baseUrl: this.decision.baseUrl,
      apiKey: this.decision.apiKey,
      concurrency: Math.min(this.decision.concurrency ?? 4, 8),
      timeoutMs: Math.min(this.decision.timeoutS * 1000, LOOKUP_TIMEOUT_MS),
      maxRetries: 1,
      backoffBaseMs: 250,
      backoffMaxMs: 2000,
      maxRetryAfterMs: 5000,
    });
    return this.own;
  }

  /** Closes the short-lived client, if one was made. */
  release(): void {
    this.own?.close();
  }
}

/** The target of a look-up: the running account's own client when key and URL are its own. */
function resolveTarget(RED: NodeAPI, body: LookupBody): Target {
  const deployed = body.id ? findDeployed(RED, body.id) : undefined;
  const decision = decideTarget(body, deployed, DEFAULT_BASE_URL);
  if (decision.asDeployed && deployed?.node) {
    try {
      const client = deployed.node.getClient();
      if (client.hasApiKey && client.baseUrl === decision.baseUrl && !client.closed) return new Target(decision, client);
    } catch {
      // the deployed account has no client (configuration error): use a short-lived one
    }
  }
  return new Target(decision);
}

const HTTP_STATUS: Record<string, number> = {
  LEAPCRAFT_AUTH: 401,
  LEAPCRAFT_INVALID_INPUT: 400,
  LEAPCRAFT_NOT_FOUND: 502,
  LEAPCRAFT_RATE_LIMITED: 429,
  LEAPCRAFT_BAD_REQUEST: 502,
  LEAPCRAFT_UNAVAILABLE: 502,
  LEAPCRAFT_BAD_RESPONSE: 502,
  LEAPCRAFT_TIMEOUT: 504,
  LEAPCRAFT_ABORTED: 504,
};


function sendJson(res: Response, status: number, body: unknown, secrets: readonly string[]): void {
  if (res.headersSent) return;
  res.status(status).set('Cache-Control', 'no-store').type('application/json').send(redactSecrets(JSON.stringify(body), secrets));
}

function sendError(RED: NodeAPI, res: Response, err: unknown, secrets: readonly string[]): void {
  if (isLeapcraftError(err)) {
    const body: Record<string, unknown> = { ok: false, code: err.code, message: err.message };
    if (err instanceof LookupError && err.reason) body.reason = err.reason;
    if (err.field) body.field = err.field;
    if (err.code === 'LEAPCRAFT_RATE_LIMITED' && err.retryAfterMs) res.set('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
    sendJson(res, HTTP_STATUS[err.code] ?? 502, body, secrets);
    return;
  }
  // Not a LeapcraftError: a bug below. Its text could hold anything: neither sent nor logged.
  RED.log.warn(`leapcraft: editor look-up failed unexpectedly (${err instanceof Error ? err.name : typeof err})`);
  sendJson(res, 500, { ok: false, code: 'LEAPCRAFT_ERROR', message: 'internal error' }, secrets);
}

export function summarizeDevices(devices: readonly Device[]): DeviceSummary[] {
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return devices
    .filter((d) => d && typeof d.physical_id === 'string' && d.physical_id !== '')
    .map((d) => ({
      physical_id: d.physical_id,
      name: typeof d.name === 'string' ? d.name : '',
      type: typeof d.type === 'string' ? d.type : '',
    }))
    .sort((a, b) => collator.compare(a.name || a.physical_id, b.name || b.physical_id) || collator.compare(a.physical_id, b.physical_id));
}

export interface TopologySummary {
  gateway_id: string;
  name: string;
}

/** The gateway picker's list: id and name of each topology (nothing else of the answer), sorted by name. */
export function summarizeTopologies(topologies: readonly Topology[]): TopologySummary[] {
  const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
  return topologies
    .filter((t) => t && typeof t.gateway_id === 'string' && t.gateway_id !== '')
    .map((t) => ({ gateway_id: t.gateway_id as string, name: typeof t.name === 'string' ? t.name : '' }))
    .sort((a, b) => collator.compare(a.name || a.gateway_id, b.name || b.gateway_id) || collator.compare(a.gateway_id, b.gateway_id));
}

/** The lists the pickers read, each cached on its own. */
type ListKind = 'devices' | 'topologies';

interface CacheEntry {
  at: number;
  list: unknown[];
}

/** Calls the needsPermission middleware for one more permission; false when it has answered 401. */
function hasPermission(RED: NodeAPI, permission: string, req: Request, res: Response): Promise<boolean> {
  const check = RED.auth?.needsPermission?.(permission);
  if (typeof check !== 'function') return Promise.resolve(true);
  return new Promise((resolve) => {
    let settled = false;
    const refused = () => {
      if (!settled) { settled = true; resolve(false); }
    };
    res.once('finish', refused);
    res.once('close', refused);
    check(req, res, () => {
      res.off('finish', refused);
      res.off('close', refused);
      if (!settled) { settled = true; resolve(true); }
    });
  });
}

/** One Node-RED start's look-ups: the device-list cache and the requests in flight. */
export class EditorLookups {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly inFlight = new Map<string, Promise<unknown[]>>();

  constructor(private readonly RED: NodeAPI, private readonly now: () => number = () => Date.now()) {}

  testConnection = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, signal) => {
      // The button is how a user says "I fixed the key": try it now, not after the cool-down.
      await target.client.authenticate({ signal, retryRefusedKey: true });
      const devices = await target.client.listDevices({ signal });
      this.store('devices', target.cacheKey, summarizeDevices(devices));
      return { ok: true, devices: devices.length };
    });
  };

  devices = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, _signal, body) => ({
      devices: await this.list('devices', target, body.refresh, async (signal) => summarizeDevices(await target.client.listDevices({ signal }))),
    }));
  };

  /** The gateway picker (topology node): `[{gateway_id, name}]`, cached like the device list. */
  topologies = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, _signal, body) => ({
      topologies: await this.list('topologies', target, body.refresh, async (signal) => summarizeTopologies(await target.client.listTopologies({ signal }))),
    }));
  };

  /**
   * The account dialog's "Check API": lib/api/doctor.ts with the look-up's key and base URL, at
   * most 15 read-only requests of its own (not the account's client: its token and settings
   * stay untouched). The report is redacted by the check; sendJson redacts the key once more.
   */
  checkApi = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, signal) => {
      const { baseUrl, apiKey, timeoutS } = target.decision;
      const report = await runDoctor({ baseUrl, apiKey, signal, timeoutMs: Math.min(timeoutS * 1000, CHECK_API_REQUEST_TIMEOUT_MS) });
      // A refused key is answered as by the other look-ups (401 LEAPCRAFT_AUTH): there is nothing to report.
      if (report.outcome === 'key-refused') throw new LeapcraftAuthError('The API refused the key: check it (Check API sent no further request)');
      return { ok: true, outcome: report.outcome, requests: report.requests, report: formatDoctorReport(report), points: report.points };
    }, CHECK_API_TIMEOUT_MS);
  };

  /**
   * A picker's list from the cache, or read once however many ask: requests for the same list
   * while one is on its way share it. It is bounded by the look-up deadline only: one browser
   * going away must not fail the others' answer.
   */
  private async list<T>(kind: ListKind, target: Target, refresh: boolean, read: (signal: AbortSignal) => Promise<T[]>): Promise<T[]> {
    const cached = this.cached(kind, target.cacheKey, refresh);
    if (cached) return cached as T[];
    const key = `${kind}\n${target.cacheKey}`;
    let pending = this.inFlight.get(key);
    if (!pending) {
      const fetching = read(AbortSignal.timeout(LOOKUP_TIMEOUT_MS)).then((list) => {
        this.store(kind, target.cacheKey, list);
        return list;
      });
      const forget = () => { if (this.inFlight.get(key) === fetching) this.inFlight.delete(key); };
      fetching.then(forget, forget);
      this.inFlight.set(key, fetching);
      pending = fetching;
    }
    return (await pending) as T[];
  }

  private cached(kind: ListKind, cacheKey: string, refresh: boolean): unknown[] | undefined {
    const key = `${kind}\n${cacheKey}`;
    const entry = this.cache.get(key);
    if (!entry) return undefined;
    const age = this.now() - entry.at;
    if (age >= DEVICE_CACHE_TTL_MS) {
      this.cache.delete(key);
      return undefined;
    }
    if (refresh && age >= MIN_REFRESH_MS) return undefined;
    return entry.list;
  }

  private store(kind: ListKind, cacheKey: string, list: unknown[]): void {
    const now = this.now();
    const key = `${kind}\n${cacheKey}`;
    this.cache.delete(key);
    this.cache.set(key, { at: now, list });
    for (const [k, entry] of this.cache) {
      if (this.cache.size <= MAX_CACHE_ENTRIES && now - entry.at < DEVICE_CACHE_TTL_MS) break;
      this.cache.delete(k);
    }
  }

  /**
   * Resolves the account, checks the extra permission a custom target needs, runs `work`
   * within LOOKUP_TIMEOUT_MS (aborted early when the browser goes away) and answers.
   */
  private async run(
    req: Request,
    res: Response,
    work: (target: Target, signal: AbortSignal, body: LookupBody) => Promise<unknown>,
    deadlineMs: number = LOOKUP_TIMEOUT_MS,
  ): Promise<void> {
    let target: Target | undefined;
    let secrets: string[] = [];
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), deadlineMs);
    const onClose = () => { if (!res.writableEnded) controller.abort(); };
    res.once('close', onClose);
    try {
      const body = parseLookupBody(req.body);
      if (typeof body.apiKey === 'string') secrets = [body.apiKey];
      target = resolveTarget(this.RED, body);
      secrets = target.secrets;
      if (target.custom && !(await hasPermission(this.RED, WRITE_PERMISSION, req, res))) return;
      const result = await work(target, controller.signal, body);
      sendJson(res, 200, result, secrets);
    } catch (err) {
      // Aborted: the deadline passed (or the browser left, and then no one reads this).
      if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED') {
        err = new LeapcraftTimeoutError(`no answer within ${deadlineMs / 1000} s`);
      }
      sendError(this.RED, res, err, secrets);
    } finally {
      clearTimeout(timer);
      res.off('close', onClose);
      target?.release();
    }
  }
}

/** The admin apps routes were added to: once per Node-RED start, whatever calls this. */
const registeredOn = new WeakSet<object>();

/**
 * Adds the look-up routes (test connection, devices, topologies, check API) to RED.httpAdmin, once per
 * admin app (the config module's register function runs once per start; the test helper makes
 * a new app per flow load).
 */
export function registerAdminRoutes(RED: NodeAPI): boolean {
  const app = RED.httpAdmin as unknown as { post?: (...args: unknown[]) => unknown } | undefined;
  if (!app || typeof app.post !== 'function' || registeredOn.has(app)) return false;
  registeredOn.add(app);
  const lookups = new EditorLookups(RED);
  const needsRead = typeof RED.auth?.needsPermission === 'function'
    ? RED.auth.needsPermission(READ_PERMISSION)
    : (_req: Request, _res: Response, next: NextFunction) => next();
  app.post(TEST_CONNECTION_PATH, needsRead, lookups.testConnection);
  app.post(DEVICES_PATH, needsRead, lookups.devices);
  app.post(TOPOLOGIES_PATH, needsRead, lookups.topologies);
  app.post(CHECK_API_PATH, needsRead, lookups.checkApi);
  return true;
}
