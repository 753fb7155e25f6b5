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
 *        | 4xx/5xx as above (the account dialog's "Check API": lib/doctor/)
 *
 * All need the `leapcraft-config.read` permission; a typed key also needs
 * `leapcraft-config.write` (which key may go where: key-policy.ts; the client that serves a
 * look-up: lookup-target.ts).
 *
 * The API key and tokens never leave the server and are never logged: responses carry
 * counts, device names/ids/types, error codes and LeapcraftError messages (already redacted,
 * and redacted once more by admin-http.ts); the check's report carries field names, types,
 * counts, statuses and timings only. Device and gateway lists are cached for 30 s per account,
 * base URL and key (lookup-cache.ts), so a user typing in a picker does not hammer the API.
 */
import type { NextFunction, Request, Response } from 'express';
import { isLeapcraftError, LeapcraftAuthError, LeapcraftTimeoutError } from '../../lib';
import type { Device, Topology } from '../../lib';
import { formatDoctorReport, runDoctor } from '../../lib/doctor';
import type { NodeAPI } from '../common/types';
import { hasPermission, sendError, sendJson } from './admin-http';
import { LookupBody, parseLookupBody } from './key-policy';
import { LookupCache } from './lookup-cache';
import { LOOKUP_TIMEOUT_MS, LookupTarget, resolveTarget } from './lookup-target';
import { summarize } from './picker-lists';

export { CREDENTIAL_PLACEHOLDER } from './key-policy';
export { LOOKUP_TIMEOUT_MS } from './lookup-target';

export const TEST_CONNECTION_PATH = '/leapcraft/test-connection';
export const DEVICES_PATH = '/leapcraft/devices';
export const TOPOLOGIES_PATH = '/leapcraft/topologies';
export const CHECK_API_PATH = '/leapcraft/check-api';
export const READ_PERMISSION = 'leapcraft-config.read';
export const WRITE_PERMISSION = 'leapcraft-config.write';
/** The API check (at most 15 requests, one at a time) answers within this. */
export const CHECK_API_TIMEOUT_MS = 45_000;
/** Each request of the API check, at most (the account's timeout when shorter). */
export const CHECK_API_REQUEST_TIMEOUT_MS = 10_000;
export const DEVICE_CACHE_TTL_MS = 30_000;
/** A refresh (the picker's button) re-reads the list only when the cached one is older than this. */
export const MIN_REFRESH_MS = 5_000;
/** Cached lists of each kind, at most. */
const MAX_CACHE_ENTRIES = 100;

/** The device picker's list: `[{physical_id, name, type}]`. */
const devicePickerList = (devices: readonly Device[]) => summarize(devices, 'physical_id', ['type']);
/** The gateway picker's list: `[{gateway_id, name}]`. */
const gatewayPickerList = (topologies: readonly Topology[]) => summarize(topologies, 'gateway_id');

/**
 * A cached list's read is bounded by the look-up deadline only, not by the request that
 * started it: one browser going away must not fail the others' answer.
 */
const sharedReadSignal = () => AbortSignal.timeout(LOOKUP_TIMEOUT_MS);

/** One Node-RED start's look-ups: the cached lists of each picker, and the routes' handlers. */
export class EditorLookups {
  private readonly deviceLists: LookupCache<ReturnType<typeof devicePickerList>>;
  private readonly topologyLists: LookupCache<ReturnType<typeof gatewayPickerList>>;

  constructor(private readonly RED: NodeAPI, now: () => number = () => Date.now()) {
    const options = { ttlMs: DEVICE_CACHE_TTL_MS, minRefreshMs: MIN_REFRESH_MS, maxEntries: MAX_CACHE_ENTRIES, now };
    this.deviceLists = new LookupCache(options);
    this.topologyLists = new LookupCache(options);
  }

  testConnection = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, signal) => {
      // The button is how a user says "I fixed the key": try it now, not after the cool-down.
      await target.client.authenticate({ signal, retryRefusedKey: true });
      const devices = await target.client.listDevices({ signal });
      this.deviceLists.set(target.cacheKey, devicePickerList(devices));
      return { ok: true, devices: devices.length };
    });
  };

  devices = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, _signal, body) => ({
      devices: await this.deviceLists.get(target.cacheKey, body.refresh, async () => devicePickerList(await target.client.listDevices({ signal: sharedReadSignal() }))),
    }));
  };

  /** The gateway picker (topology node): `[{gateway_id, name}]`, cached like the device list. */
  topologies = (req: Request, res: Response): void => {
    void this.run(req, res, async (target, _signal, body) => ({
      topologies: await this.topologyLists.get(target.cacheKey, body.refresh, async () => gatewayPickerList(await target.client.listTopologies({ signal: sharedReadSignal() }))),
    }));
  };

  /**
   * The account dialog's "Check API": lib/doctor/ with the look-up's key and base URL, at
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
   * Resolves the account, checks the extra permission a custom target needs, runs `work`
   * within `deadlineMs` (aborted early when the browser goes away) and answers.
   */
  private async run(
    req: Request,
    res: Response,
    work: (target: LookupTarget, signal: AbortSignal, body: LookupBody) => Promise<unknown>,
    deadlineMs: number = LOOKUP_TIMEOUT_MS,
  ): Promise<void> {
    let target: LookupTarget | undefined;
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
