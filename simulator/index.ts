/**
 * LeapcraftSimulator: an in-process stand-in for the Leapcraft Client API (1.0.0), for tests,
 * demos and benchmarks. It keeps to the documented contract (see docs/API.md)
 * and fills what the docs leave open with one consistent choice, documented where it is made.
 *
 * This module wires the parts together (server, sockets, timers, knobs); each part lives in its
 * own module: data (estate), model (readings), api (endpoints), faults, alerts, tokens, stats,
 * control (the simulator-only /__sim/ interface).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

import { AlertStore } from './alerts';
import { handleApi, matchRoute, type ApiRequest } from './api';
import { AutoAlerts } from './auto-alerts';
import { handleControl, type SimControl } from './control';
import { generateWorld, listItem, type World } from './data';
import { faultAction, FaultList, type FaultAction } from './faults';
import { errorReply, type HttpReply, isLoopback, parseTarget, readBody, send } from './http';
import { checkOptions, DEFAULT_OPTIONS, mergeOptions, type CheckedOptions, type ResolvedOptions } from './options';
import type { ModelParams } from './model';
import { StatsRecorder } from './stats';
import { TokenStore } from './tokens';
import type { Alert, DeviceListItem, Dialect, Endpoint, Fault, RequestLogEntry, ResetHeaders, SimulatorOptions, SimulatorStats } from './types';

export * from './types';
export { DEFAULT_OPTIONS } from './options';
export { DEFAULT_DIALECT, describeDialect, DIALECT_POINTS, DIALECTS, dialectFromNames, dialectNames, type DialectReading } from './dialect';
export { MAX_AVERAGE_BUCKETS } from './api';

/** Request bodies beyond this are refused with 413 (the token form is a few dozen bytes). */
export const MAX_BODY_BYTES = 64 * 1024;

/** The point of a latest-telemetry body: itself, the only item of an array, or under data/result/reading. */
function servedPoint(body: unknown): { physical_id?: unknown; timestamp?: unknown } | undefined {
  if (Array.isArray(body)) return body.length === 1 ? servedPoint(body[0]) : undefined;
  if (!body || typeof body !== 'object') return undefined;
  const o = body as Record<string, unknown>;
  if (typeof o.physical_id === 'string') return o;
  for (const key of ['data', 'result', 'reading']) if (o[key] && typeof o[key] === 'object') return servedPoint(o[key]);
  return undefined;
}

/** The reading a normal 200 latest-telemetry reply carries (averages, whatever their shape: none). */
function servedReading(endpoint: Endpoint, query: URLSearchParams, reply: HttpReply): RequestLogEntry['reading'] {
  if (endpoint !== 'telemetry' || reply.status !== 200 || query.get('type') !== 'latest') return undefined;
  try {
    const point = servedPoint(JSON.parse(reply.body));
    if (point && typeof point.physical_id === 'string' && typeof point.timestamp === 'string') {
      return { physical_id: point.physical_id, timestamp: point.timestamp };
    }
  } catch {
    // not JSON: no reading to log
  }
  return undefined;
}

/** How long a 'reset' fault lets the partial response travel before resetting the connection. */
const RESET_GRACE_MS = 10;

/** The host to put in a URL: wildcard binds are reached over loopback; IPv6 needs brackets. */
function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

interface PendingDelay {
  timer: NodeJS.Timeout;
  done: (proceed: boolean) => void;
}

export class LeapcraftSimulator implements SimControl {
  private opts: ResolvedOptions;
  private world: World;
  private readonly tokens: TokenStore;
  private readonly alertStore: AlertStore;
  private readonly autoAlerts = new AutoAlerts();
  private readonly faults = new FaultList();
  private readonly recorder = new StatsRecorder();
  private keyValid = true;
  /** Devices told to stop reporting, and when they stopped. */
  private readonly silenced = new Map<string, number>();
  private server: Server | undefined;
  private boundPort: number | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly delays = new Set<PendingDelay>();
  private alertTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** When meeting 0 starts (see meetings.ts): the start, so a demo sees the first one at once. */
  private meetingOrigin: number;

  constructor(options: SimulatorOptions = {}) {
    this.opts = mergeOptions(DEFAULT_OPTIONS, checkOptions(options));
    this.world = this.generate();
    this.tokens = new TokenStore(() => this.opts.now(), this.opts.tokenLifetimeMs);
    this.alertStore = new AlertStore(this.opts.seed, this.opts.maxAlerts);
    this.alertStore.seedBacklog(this.opts.initialAlerts, this.world, this.opts.now(), this.opts.co2Threshold);
    this.meetingOrigin = this.opts.now();
  }

  /** Listens; resolves with the base URL, e.g. `http://127.0.0.1:8787/v1`. */
  async start(): Promise<string> {
    if (this.stopping) await this.stopping;
    if (this.server) throw new Error('simulator already started');
    const server = createServer((req, res) => this.onRequest(req, res));
    server.on('connection', (socket: Socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.opts.port, this.opts.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // Errors after listening (e.g. EMFILE on accept) must not crash the host process.
    server.on('error', () => undefined);
    this.server = server;
    this.boundPort = (server.address() as AddressInfo).port;
    this.meetingOrigin = this.opts.now();
    this.scheduleAutoAlerts();
    return this.baseUrl;
  }

  /**
   * Closes the server, destroys every open socket (hung requests included) and clears every
   * timer. Resolves once the server is closed; safe to call more than once.
   */
  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this.alertTimer) clearInterval(this.alertTimer);
    this.alertTimer = undefined;
    for (const pending of this.delays) {
      clearTimeout(pending.timer);
      pending.done(false);
    }
    this.delays.clear();
    const server = this.server;
    if (!server) return Promise.resolve();
    this.stopping = new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const socket of this.sockets) socket.destroy();
      // Destroyed sockets are gone for our purposes, though their 'close' events come later.
      this.sockets.clear();
    }).finally(() => {
      this.server = undefined;
      this.stopping = undefined;
    });
    return this.stopping;
  }

  get baseUrl(): string {
    if (this.boundPort === undefined) throw new Error('simulator not started');
    return `http://${urlHost(this.opts.host)}:${this.boundPort}/v1`;
  }

  get apiKey(): string {
    return this.opts.apiKey;
  }

  /** The bound port once started, else the configured one. */
  get port(): number {
    return this.boundPort ?? this.opts.port;
  }

  /** The dialect in force (a copy): how the simulator reads each point the docs leave open. */
  get dialect(): Dialect {
    return { ...this.opts.dialect };
  }

  /**
   * Changes knobs at runtime. Changing seed, deviceCount, gateways or thingCount regenerates the
   * estate (device i stays the same device); tokenLifetimeMs applies to existing tokens too;
   * host and port take effect at the next start(); initialAlerts only matters at construction.
   * `dialect` is merged: only the points it names change (pass DEFAULT_DIALECT to go back).
   */
  set(options: Partial<SimulatorOptions>): void {
    this.apply(checkOptions(options));
  }

  /** For the control interface: the JSON-serialisable options only. */
  setRemote(options: unknown): void {
    this.apply(checkOptions(options, true));
  }

  /** Adds a fault; returns its id. Faults apply in injection order (see faults.ts). */
  injectFault(fault: Fault): string {
    return this.faults.add(fault);
  }

  clearFaults(): void {
    this.faults.clear();
  }

  /** Every token issued so far becomes invalid (401, or 403 per dialect.expiredToken); the key still exchanges for new ones. */
  revokeTokens(): void {
    this.tokens.revokeAll();
  }

  /** false: the key is refused by the token exchange (as dialect.refusedKey says) and existing tokens are revoked. */
  setKeyValid(valid: boolean): void {
    this.keyValid = valid;
    if (!valid) this.tokens.revokeAll();
  }

  /** Raises an alert (random device and co2_high unless given); returns it, id included. */
  raiseAlert(partial: Partial<Alert> = {}): Alert {
    return this.alertStore.raise(partial, this.world, this.opts.now(), this.opts.co2Threshold);
  }

  /**
   * The device stops reporting (a flat battery, out of radio range): its latest reading stays the
   * one it made before now, until `silence(id, false)`, when it reports on its usual rhythm again.
   */
  silence(physicalId: string, silent = true): void {
    if (!this.world.byId.has(physicalId)) throw new Error(`No device with physical_id ${JSON.stringify(physicalId)}`);
    if (!silent) this.silenced.delete(physicalId);
    else if (!this.silenced.has(physicalId)) this.silenced.set(physicalId, this.opts.now());
  }

  /** The current device list, as GET /devices?limit=-1 returns it (a copy). */
  devices(): DeviceListItem[] {
    return this.world.devices.map(listItem);
  }

  /** A snapshot of the request accounting; API requests only (/__sim/ ones are not counted). */
  get stats(): SimulatorStats {
    return this.recorder.snapshot();
  }

  resetStats(): void {
    this.recorder.reset();
  }

  /** Highest number of API requests in flight at the same time since the last resetStats(). */
  get maxConcurrent(): number {
    return this.recorder.maxConcurrent;
  }

  /** Sockets currently open (keep-alive ones included). */
  openConnections(): number {
    return this.sockets.size;
  }

  controlStats(): Record<string, unknown> {
    return {
      ...this.recorder.snapshot(),
      maxConcurrent: this.recorder.maxConcurrent,
      inFlight: this.recorder.inFlight,
      openConnections: this.sockets.size,
      activeFaults: this.faults.count,
    };
  }

  private generate(): World {
    const { seed, deviceCount, gateways, thingCount } = this.opts;
    return generateWorld({ seed, deviceCount, gateways, thingCount });
  }

  private apply(changes: CheckedOptions): void {
    const before = this.opts;
    this.opts = mergeOptions(before, changes);
    const estateChanged = (['seed', 'deviceCount', 'gateways', 'thingCount'] as const).some((k) => this.opts[k] !== before[k]);
    if (estateChanged) {
      this.world = this.generate();
      this.autoAlerts.reset();
    }
    this.tokens.lifetimeMs = this.opts.tokenLifetimeMs;
    this.alertStore.maxAlerts = this.opts.maxAlerts;
    this.alertStore.trim();
    if (this.opts.meetingEveryMs !== before.meetingEveryMs) this.meetingOrigin = this.opts.now();
    if (this.opts.autoAlerts !== before.autoAlerts || this.opts.reportIntervalMs !== before.reportIntervalMs) {
      this.scheduleAutoAlerts();
    }
  }

  private keyAccepted(key: string): boolean {
    return this.keyValid && (key === this.opts.apiKey || this.opts.apiKeys.includes(key));
  }

  private scheduleAutoAlerts(): void {
    if (this.alertTimer) clearInterval(this.alertTimer);
    this.alertTimer = undefined;
    if (!this.server || !this.opts.autoAlerts) return;
    // Evaluate once now so the first tick compares against the state at start, not nothing.
    this.evaluateAlerts();
    this.alertTimer = setInterval(() => this.evaluateAlerts(), this.opts.reportIntervalMs);
    this.alertTimer.unref();
  }

  /**
   * What the sensor model needs: the seed, the report interval, the sensors' habits (the jitter is
   * `reportJitterMs` plus `reportJitterShare` of the period; the lost reports) and the meetings, if any.
   */
  private modelParams(): ModelParams {
    const { seed, reportIntervalMs, reportJitterMs, reportJitterShare, lossRate, meetingEveryMs } = this.opts;
    const meetings = meetingEveryMs > 0
      ? { everyMs: meetingEveryMs, origin: this.meetingOrigin, rooms: this.world.devices.length, seed }
      : undefined;
    return { seed, reportIntervalMs, reportJitterMs: reportJitterMs + reportJitterShare * reportIntervalMs, lossRate, meetings };
  }

  private evaluateAlerts(): void {
    try {
      this.autoAlerts.evaluate(this.world, this.alertStore, this.opts.now(), this.modelParams(), this.opts.co2Threshold);
    } catch {
      // A model bug must not take the host process down; the next tick tries again.
    }
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const target = parseTarget(req.url ?? '/');
    if (target.segments[0] === '__sim') {
      this.onControl(req, res, target.segments.slice(1)).catch(() => res.destroy());
      return;
    }
    this.recorder.requestStarted();
    let ended = false;
    res.on('close', () => {
      if (ended) return;
      ended = true;
      this.recorder.requestEnded();
    });
    this.onApi(req, res, target).catch(() => {
      if (!res.headersSent) send(res, errorReply(500, 'internal_error', 'Simulator error'));
      else res.destroy();
    });
  }

  private async onApi(req: IncomingMessage, res: ServerResponse, target: ReturnType<typeof parseTarget>): Promise<void> {
    const method = req.method ?? 'GET';
    const route = matchRoute(target.segments);
    const record = (status: number, extra: Partial<RequestLogEntry> = {}): void =>
      this.recorder.record({ method, rawUrl: req.url ?? '', endpoint: route.endpoint, status, at: this.opts.now(), ...extra });

    const body = await readBody(req, MAX_BODY_BYTES);
    if (body.kind === 'aborted') {
      record(0);
      return;
    }
    let action: FaultAction;
    let faulted = false;
    let resetAt: number | undefined;
    const early = this.faults.reset.pending(this.opts.now());
    if (early) {
      // The window a 429 announced is spent until its reset: the same answer again.
      record(429, { resetAt: early.resetAt, beforeReset: true });
      if (await this.delay(this.opts.latencyMs)) send(res, early.reply);
      return;
    }
    if (body.kind === 'too-large') {
      action = {
        kind: 'reply',
        reply: errorReply(413, 'payload_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }),
      };
    } else {
      const request: ApiRequest = { route, method, headers: req.headers, query: target.query, body: body.body };
      const normal = (): HttpReply => this.handle(request);
      const fault = this.faults.take(route.endpoint);
      faulted = fault !== undefined;
      const announce = (afterMs: number, form: ResetHeaders) => {
        const announced = this.faults.reset.announce(afterMs, form, this.opts.now());
        resetAt = announced.resetAt;
        return announced.headers;
      };
      action = fault ? faultAction(fault, normal, announce) : { kind: 'reply', reply: normal() };
    }
    const reading = action.kind === 'reply' && !faulted ? servedReading(route.endpoint, target.query, action.reply) : undefined;
    record(action.kind === 'reply' ? action.reply.status : 0, { ...(reading ? { reading } : {}), ...(resetAt !== undefined ? { resetAt } : {}) });
    // A hang never answers: the socket stays open until the client gives up or stop() runs.
    if (action.kind === 'hang') return;

    if (!(await this.delay(this.opts.latencyMs))) return;
    if (action.kind === 'reply') {
      send(res, action.reply);
      return;
    }
    this.sendThenReset(res, action.reply, action.partial);
  }

  private handle(request: ApiRequest): HttpReply {
    try {
      return handleApi(request, {
        now: this.opts.now(),
        world: this.world,
        options: this.opts,
        model: this.modelParams(),
        tokens: this.tokens,
        alerts: this.alertStore,
        keyAccepted: (key) => this.keyAccepted(key),
        tokenIssued: (token) => this.recorder.tokenIssued(token),
        silencedAt: (id) => this.silenced.get(id),
      });
    } catch {
      return errorReply(500, 'internal_error', 'Simulator error');
    }
  }

  /** Status line, headers (promising the whole body) and part of it, then a TCP reset. */
  private sendThenReset(res: ServerResponse, reply: HttpReply, partial: string): void {
    if (res.writableEnded || res.destroyed) return;
    res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)) });
    res.write(partial, () => {
      void this.delay(RESET_GRACE_MS).then(() => {
        const socket = res.socket;
        if (socket && !socket.destroyed) socket.resetAndDestroy();
      });
    });
  }

  /** Waits `ms` on a timer stop() can cancel; resolves false when the simulator stopped meanwhile. */
  private delay(ms: number): Promise<boolean> {
    if (ms <= 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const pending: PendingDelay = {
        timer: setTimeout(() => {
          this.delays.delete(pending);
          resolve(true);
        }, ms),
        done: resolve,
      };
      this.delays.add(pending);
    });
  }

  private async onControl(req: IncomingMessage, res: ServerResponse, segments: string[]): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      req.resume();
      send(res, errorReply(403, 'forbidden', 'The simulator control interface answers loopback clients only'));
      return;
    }
    const body = await readBody(req, MAX_BODY_BYTES);
    if (body.kind === 'aborted') return;
    if (body.kind === 'too-large') {
      send(res, errorReply(413, 'payload_too_large', `Request bodies are limited to ${MAX_BODY_BYTES} bytes`, { Connection: 'close' }));
      return;
    }
    send(res, handleControl(segments, req.method ?? 'GET', body.body, this));
  }
}
