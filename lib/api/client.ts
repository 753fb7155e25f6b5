/**
 * The Leapcraft Client API for one account. Methods validate their input before
 * anything is sent, encode every path parameter, and answer with the API's objects as
 * they came or with a typed LeapcraftError.
 */
import { TokenManager } from './auth';
import {
  LeapcraftAuthError, LeapcraftBadRequestError, LeapcraftBadResponseError, LeapcraftError,
  LeapcraftNotFoundError, LeapcraftRateLimitError, LeapcraftUnavailableError,
} from './errors';
import { Transport, TransportCounters, WireRequest, WireResponse } from './transport';
import { apiErrorText, expectObject, extractList, parseJsonBody } from './response';
import { parseRetryAfter } from './retry';
import { Alert, Device, DeviceDetails, TelemetryResponse, Thing, Topology } from './types';
import { packageInfo } from '../package';
import { redactSecrets } from './redact';
import {
  formatApiDateTime, integerInRange, limitOrAll, optionalId, requireId, telemetryQuery,
  TelemetryQueryInput, validateBaseUrl, NOTIFICATIONS_MAX_LIMIT,
} from './validation';

export const DEFAULT_BASE_URL = 'https://api.leapcraft.com/v1';

export interface ClientOptions {
  baseUrl?: string;
  apiKey?: string;
  timeoutMs?: number;
  concurrency?: number;
  maxRetries?: number;
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  maxRetryAfterMs?: number;
  authRetryBaseMs?: number;
  authRetryMaxMs?: number;
  /** Page size used to walk the device list; -1 asks for everything in one request. */
  devicePageSize?: number;
  userAgent?: string;
  random?: () => number;
}

export interface CallOptions {
  /** Cancels this call (a node closing) without touching the account's other work. */
  signal?: AbortSignal;
}

export interface ClientStats extends TransportCounters {
  tokenExchanges: number;
  inFlight: number;
}


/** A path segment that cannot leave its segment: `/`, `?`, `#`, `%` and the rest are escaped. */
export function encodeSegment(id: string): string {
  return encodeURIComponent(id);
}

export class LeapcraftClient {
  readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly tokens: TokenManager;
  private readonly apiKey?: string;
  private readonly devicePageSize: number;
  /** Every token this client received, so that none can slip into an error message. */
  private readonly secrets = new Set<string>();

  constructor(options: ClientOptions = {}) {
    this.baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.apiKey = options.apiKey && options.apiKey.trim() !== '' ? options.apiKey.trim() : undefined;
    if (this.apiKey) this.secrets.add(this.apiKey);
    this.devicePageSize = limitOrAll(options.devicePageSize ?? 100, 'devicePageSize');
    this.transport = new Transport({
      baseUrl: this.baseUrl,
      timeoutMs: options.timeoutMs ?? 30_000,
      concurrency: integerInRange(options.concurrency ?? 8, 'concurrency', 1, 1024),
      maxRetries: options.maxRetries ?? 3,
      backoffBaseMs: options.backoffBaseMs ?? 500,
      backoffMaxMs: options.backoffMaxMs ?? 15_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      userAgent: options.userAgent ?? `node-red-contrib-leapcraft/${packageInfo.version}`,
      random: options.random,
    });
    this.tokens = new TokenManager(() => this.exchangeToken(), {
      authRetryBaseMs: options.authRetryBaseMs ?? 30_000,
      authRetryMaxMs: options.authRetryMaxMs ?? 5 * 60_000,
    });
  }

  get hasApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  stats(): ClientStats {
    return { ...this.transport.counters, tokenExchanges: this.tokens.exchanges, inFlight: this.transport.inFlight };
  }

  /** How long the API asked this account to pause (HTTP 429), in ms; 0 when it did not. */
  rateLimitRemainingMs(): number {
    return this.transport.rateLimitRemainingMs();
  }

  /** Aborts every request and wait of this account; later calls fail with LEAPCRAFT_ABORTED. */
  close(): void {
    this.transport.close();
  }

  // ---- endpoints -------------------------------------------------------------------

  /**
   * Exchanges the key now (normally this happens lazily); resolves when a token is held.
   * `retryRefusedKey`: try a key the API refused even within the cool-down (a user who has just
   * fixed the key presses Test connection; on success every poll of the account resumes at once).
   */
  async authenticate(options: CallOptions & { retryRefusedKey?: boolean } = {}): Promise<void> {
    await this.tokens.get(options.signal, { retryRefusedKey: options.retryRefusedKey });
  }

  /**
   * The full device list, walking pages until the last one. `onPage` is handed each page's
   * new devices as it arrives, so a caller can start on them while the next page loads.
   */
  async listDevices(options: CallOptions & { pageSize?: number; onPage?: (devices: Device[]) => void } = {}): Promise<Device[]> {
    const pageSize = options.pageSize === undefined ? this.devicePageSize : limitOrAll(options.pageSize, 'pageSize');
    const endpoint = 'GET /devices';
    const all: Device[] = [];
    const seen = new Set<string>();
    for (let page = 1; page <= 100_000; page++) {
      // A page goes ahead of queued requests: the work on its devices cannot start before it.
      const items = await this.getList(endpoint, '/devices', { limit: pageSize, page }, options.signal, true);
      const added: Device[] = [];
      for (const item of items) {
        if (!item || typeof item !== 'object' || Array.isArray(item)) {
          throw new LeapcraftBadResponseError(`${endpoint} returned a list item that is not an object`, { endpoint });
        }
        const key = typeof (item as Device).physical_id === 'string' ? (item as Device).physical_id : JSON.stringify(item);
        if (seen.has(key)) continue;
        seen.add(key);
        added.push(item as Device);
      }
      all.push(...added);
      if (added.length > 0) options.onPage?.(added);
      // Done on a short page, on everything at once, or when a server that ignores
      // `page` hands back items we already have.
      if (pageSize === -1 || items.length < pageSize || added.length === 0) break;
    }
    return all;
  }

  async getDevice(physicalId: unknown, options: CallOptions = {}): Promise<DeviceDetails> {
    const id = requireId(physicalId, 'physical_id');
    const endpoint = 'GET /devices/{physical_id}';
    const res = await this.call({ method: 'GET', path: `/devices/${encodeSegment(id)}`, endpoint, signal: options.signal });
    return expectObject(parseJsonBody(res.body, endpoint, res.status), endpoint, res.status) as DeviceDetails;
  }

  async getTelemetry(physicalId: unknown, query: TelemetryQueryInput = {}, options: CallOptions = {}): Promise<TelemetryResponse> {
    const id = requireId(physicalId, 'physical_id');
    const q = telemetryQuery(query);
    const endpoint = 'GET /telemetry/{physical_id}';
    const params: Record<string, string> =
      q.type === 'latest'
        ? { type: 'latest' }
        : { type: 'averages', resolution: q.resolution, from: formatApiDateTime(q.from), to: formatApiDateTime(q.to) };
    const res = await this.call({ method: 'GET', path: `/telemetry/${encodeSegment(id)}`, query: params, endpoint, signal: options.signal });
    const body = parseJsonBody(res.body, endpoint, res.status);
    if (Array.isArray(body)) return body as TelemetryResponse;
    return expectObject(body, endpoint, res.status) as TelemetryResponse;
  }

  async listTopologies(options: CallOptions = {}): Promise<Topology[]> {
    return (await this.getList('GET /topologies', '/topologies', undefined, options.signal)) as Topology[];
  }

  async getTopology(topologyId: unknown, options: CallOptions = {}): Promise<Topology> {
    const id = requireId(topologyId, 'topology_id');
    const endpoint = 'GET /topologies/{topology_id}';
    const res = await this.call({ method: 'GET', path: `/topologies/${encodeSegment(id)}`, endpoint, signal: options.signal });
    return expectObject(parseJsonBody(res.body, endpoint, res.status), endpoint, res.status) as Topology;
  }

  async listNotifications(
    query: { physical_id?: unknown; limit?: unknown; offset?: unknown } = {},
    options: CallOptions = {},
  ): Promise<Alert[]> {
    const physicalId = optionalId(query.physical_id, 'physical_id');
    const limit = query.limit === undefined ? undefined : integerInRange(query.limit, 'limit', 1, NOTIFICATIONS_MAX_LIMIT);
    const offset = query.offset === undefined ? undefined : integerInRange(query.offset, 'offset', 0, Number.MAX_SAFE_INTEGER);
    // Alerts go ahead of queued requests: a CO2 alarm must not wait behind a thousand readings.
    return (await this.getList('GET /notifications', '/notifications', { physical_id: physicalId, limit, offset }, options.signal, true)) as Alert[];
  }

  async listThings(query: { limit?: unknown } = {}, options: CallOptions = {}): Promise<Thing[]> {
    const limit = query.limit === undefined ? undefined : limitOrAll(query.limit, 'limit');
    return (await this.getList('GET /things', '/things', { limit }, options.signal)) as Thing[];
  }

  // ---- plumbing --------------------------------------------------------------------

  private async getList(endpoint: string, path: string, query: WireRequest['query'], signal?: AbortSignal, first = false): Promise<unknown[]> {
    const res = await this.call({ method: 'GET', path, query, endpoint, signal, first });
    return extractList(parseJsonBody(res.body, endpoint, res.status), endpoint, res.status);
  }

  /**
   * An authenticated request that answered 2xx. A 401 drops that token and the request
   * is replayed once with a fresh one; a second 401 is final.
   */
  private async call(req: Omit<WireRequest, 'headers'>): Promise<WireResponse> {
    if (!this.apiKey) {
      throw new LeapcraftAuthError(`${req.endpoint}: no API key is set for this Leapcraft account`, { endpoint: req.endpoint });
    }
    for (let replay = 0; ; replay++) {
      // The token is taken when the request gets its slot, not when it is queued (see RequestAuth).
      let token: string | undefined;
      const res = await this.transport.send({
        ...req,
        auth: {
          headers: async (signal) => {
            token = await this.tokens.get(signal);
            return { Authorization: `Bearer ${token}` };
          },
          stale: () => this.tokens.current !== token,
          refused: () => {
            if (token !== undefined) this.tokens.invalidate(token);
          },
        },
      });
      if (res.status === 401 && replay === 0) continue;
      if (res.status >= 200 && res.status < 300) return res;
      throw this.statusError(req.endpoint, res);
    }
  }

  private async exchangeToken(): Promise<string> {
    const endpoint = 'POST /auth/client/token';
    const res = await this.transport.send({
      method: 'POST',
      path: '/auth/client/token',
      form: { api_key: this.apiKey ?? '' },
      endpoint,
    });
    if (res.status === 401 || res.status === 403) {
      throw new LeapcraftAuthError(
        this.redact(`${endpoint} refused the API key (HTTP ${res.status}${this.apiText(res)}): check the key in the Leapcraft account settings`),
        { endpoint, status: res.status },
      );
    }
    if (res.status < 200 || res.status >= 300) throw this.statusError(endpoint, res);
    const body = expectObject(parseJsonBody(res.body, endpoint, res.status), endpoint, res.status);
    const token = body.token;
    if (typeof token !== 'string' || token.trim() === '') {
      throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${res.status} without a token`, { endpoint, status: res.status });
    }
    this.secrets.add(token);
    if (this.secrets.size > 1000) this.trimSecrets();
    return token;
  }

  private trimSecrets(): void {
    // Keep the key and the most recent tokens; a long-lived account renews many times.
    const keep = [...this.secrets].slice(-100);
    this.secrets.clear();
    if (this.apiKey) this.secrets.add(this.apiKey);
    for (const s of keep) this.secrets.add(s);
  }

  private apiText(res: WireResponse): string {
    // Redact before the text is clipped: a secret cut in half by the clip would no longer
    // match, and its first half would be shown.
    const text = apiErrorText(this.redact(res.body));
    return text ? `: ${text}` : '';
  }

  private statusError(endpoint: string, res: WireResponse): LeapcraftError {
    const { status } = res;
    const message = this.redact(`${endpoint} failed with HTTP ${status}${this.apiText(res)}`);
    const details = { endpoint, status };
    if (status === 401 || status === 403) return new LeapcraftAuthError(message, details);
    if (status === 404) return new LeapcraftNotFoundError(message, details);
    if (status === 429) {
      const retryAfterMs = parseRetryAfter(res.headers['retry-after']) ?? this.transport.rateLimitRemainingMs();
      return new LeapcraftRateLimitError(message, { ...details, retryAfterMs });
    }
    if (status >= 500) return new LeapcraftUnavailableError(message, details);
    if (status >= 400) return new LeapcraftBadRequestError(message, details);
    return new LeapcraftBadResponseError(message, details);
  }

  /** The API's own error text could echo what we sent; never let a secret through. */
  private redact(text: string): string {
    return redactSecrets(text, this.secrets);
  }
}
