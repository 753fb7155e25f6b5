/**
 * The Leapcraft Client API for one account. Methods validate their input before
 * anything is sent, encode every path parameter, and answer with the API's objects as
 * they came or with a typed LeapcraftError.
 */
import { accountTokenKey, IssuedToken, TokenManager, TokenStore } from './auth';
import { readTokenAnswer } from './token-answer';
import { findAverages, findLatestReading } from '../telemetry/answer';
import { describeTelemetryShape } from '../telemetry/readings';
import {
  isLeapcraftError, LeapcraftAuthError, LeapcraftBadRequestError, LeapcraftBadResponseError, LeapcraftError,
  LeapcraftNotFoundError, LeapcraftRateLimitError, LeapcraftUnavailableError, refusesToken,
} from './errors';
import { Transport, TransportCounters, WireRequest, WireResponse } from './transport';
import { apiErrorText, expectObject, extractList, parseJsonBody } from './response';
import { parseRetryAfter } from './retry';
import { Alert, Device, DeviceDetails, TelemetryResponse, Thing, Topology } from './types';
import { packageInfo } from '../package';
import { RateLimitInfo } from './rate-limit';
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
  /** Page size of the device list; -1 (the default) asks for everything in one request. */
  devicePageSize?: number;
  /** Told of what the API did that the client worked around but a user should know (a truncated list). */
  onWarning?: (message: string) => void;
  /** Told of every HTTP 429 (the account's request budget lowers itself). */
  onRateLimited?: () => void;
  /** Told of what the API's rate-limit headers say (the budget stays under it). */
  onRateLimit?: (info: RateLimitInfo) => void;
  /** Told when the API refuses the key (with the error) and when it takes it again (undefined). */
  onKeyState?: (refusal: LeapcraftError | undefined) => void;
  /** A cluster's shared token (lib/cluster/token-store.ts). */
  tokenStore?: TokenStore;
  /**
   * Keep the token in this process's memory for the next client of the same account (base URL
   * and key): a redeployed config node then needs no new exchange. For an account's own client.
   */
  shareToken?: boolean;
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


const DEVICES_ENDPOINT = 'GET /devices';
/** The documented default `limit` of GET /devices: what a server that ignores -1 answers with. */
const API_DEFAULT_DEVICE_LIMIT = 100;

/** The device list as it is collected: objects only, each physical id once. */
class DeviceList {
  readonly devices: Device[] = [];
  private readonly seen = new Set<string>();

  constructor(private readonly onPage?: (devices: Device[]) => void) {}

  /** Adds a page; returns how many of its devices were new. */
  add(items: unknown[]): number {
    const added: Device[] = [];
    for (const item of items) {
      if (!item || typeof item !== 'object' || Array.isArray(item)) {
        throw new LeapcraftBadResponseError(`${DEVICES_ENDPOINT} returned a list item that is not an object`, { endpoint: DEVICES_ENDPOINT });
      }
      const key = typeof (item as Device).physical_id === 'string' ? (item as Device).physical_id : JSON.stringify(item);
      if (this.seen.has(key)) continue;
      this.seen.add(key);
      added.push(item as Device);
    }
    this.devices.push(...added);
    if (added.length > 0) this.onPage?.(added);
    return added.length;
  }
}

/** A 4xx from the token endpoint, but for a rate limit (429) or a timeout (408). */
function isKeyRefusal(status: number): boolean {
  return status >= 400 && status < 500 && status !== 429 && status !== 408;
}

/** A path segment that cannot leave its segment: `/`, `?`, `#`, `%` and the rest are escaped. */
export function encodeSegment(id: string): string {
  return encodeURIComponent(id);
}

/** `GET /telemetry/D2:C1:AA:FF:3E:09`: a request as error messages name it, its ids decoded. */
function requestLabel(req: Pick<WireRequest, 'method' | 'path'>): string {
  const path = req.path.split('/').map((segment) => {
    try {
      return decodeURIComponent(segment);
    } catch {
      return segment;
    }
  }).join('/');
  return `${req.method} ${path}`;
}

export class LeapcraftClient {
  readonly baseUrl: string;
  private readonly transport: Transport;
  private readonly tokens: TokenManager;
  private readonly apiKey?: string;
  private readonly devicePageSize: number;
  private readonly onWarning?: (message: string) => void;
  /** The server refused `limit=-1` once: the device list is walked page by page from then on. */
  private allDevicesRefused = false;
  /** The server refused the docs' zone-less date-times and took them with a Z: sent with a Z from then on. */
  private zonedDateTimes = false;
  /** Every token this client received, so that none can slip into an error message. */
  private readonly secrets = new Set<string>();

  constructor(options: ClientOptions = {}) {
    this.baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.apiKey = options.apiKey && options.apiKey.trim() !== '' ? options.apiKey.trim() : undefined;
    if (this.apiKey) this.secrets.add(this.apiKey);
    this.devicePageSize = limitOrAll(options.devicePageSize ?? -1, 'devicePageSize');
    this.onWarning = options.onWarning;
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
      onRateLimited: options.onRateLimited,
      onRateLimit: options.onRateLimit,
    });
    this.tokens = new TokenManager(() => this.exchangeToken(), {
      authRetryBaseMs: options.authRetryBaseMs ?? 30_000,
      authRetryMaxMs: options.authRetryMaxMs ?? 5 * 60_000,
      sharedKey: options.shareToken && this.apiKey ? accountTokenKey(this.baseUrl, this.apiKey) : undefined,
      onKeyState: options.onKeyState,
      store: options.tokenStore,
    });
  }

  /** Requests on the wire at once, at most (the account's setting). */
  get concurrency(): number {
    return this.transport.concurrency;
  }

  get hasApiKey(): boolean {
    return this.apiKey !== undefined;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  /** A cluster's follower takes the token the cluster holds now (see TokenManager.adopt). */
  adoptSharedToken(): Promise<void> {
    return this.tokens.adopt();
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
   * The full device list, de-duplicated. Asked for with `limit=-1` (the docs' own way: one
   * request); a server that refuses that is walked page by page instead, from then on, and one
   * that answers -1 with a default-sized page is walked on from page 2. Paging copes with
   * every reading of `page` a server may have (docs/API.md): offset pages, cumulative pages
   * (page N = the first N·limit items: the page number then doubles, so traffic stays linear)
   * and a `page` that is ignored (said in a warning, since the list is then incomplete).
   * `onPage` is handed each page's new devices as it arrives, so a caller can start on them
   * while the next page loads.
   */
  async listDevices(options: CallOptions & { pageSize?: number; onPage?: (devices: Device[]) => void } = {}): Promise<Device[]> {
    let pageSize = options.pageSize === undefined ? this.devicePageSize : limitOrAll(options.pageSize, 'pageSize');
    const list = new DeviceList(options.onPage);
    let page = 1;
    if (pageSize === -1) {
      if (!this.allDevicesRefused) {
        try {
          const items = await this.getList(DEVICES_ENDPOINT, '/devices', { limit: -1 }, options.signal, true);
          list.add(items);
          if (items.length !== API_DEFAULT_DEVICE_LIMIT) return list.devices;
          page = 2;
        } catch (err) {
          if (!(isLeapcraftError(err) && err.code === 'LEAPCRAFT_BAD_REQUEST')) throw err;
          this.allDevicesRefused = true;
          this.warn(`${DEVICES_ENDPOINT} refused limit=-1 (HTTP ${err.status ?? 400}): the device list is read page by page instead`);
        }
      }
      pageSize = API_DEFAULT_DEVICE_LIMIT;
    }
    let cumulative = false;
    for (; page <= 100_000; page = cumulative ? page * 2 : page + 1) {
      // A page goes ahead of queued requests: the work on its devices cannot start before it.
      const items = await this.getList(DEVICES_ENDPOINT, '/devices', { limit: pageSize, page }, options.signal, true);
      const added = list.add(items);
      if (items.length > pageSize) cumulative = true;
      if (items.length < (cumulative ? page * pageSize : pageSize)) break;
      if (added === 0) {
        if (items.length > 0) this.warn(`${DEVICES_ENDPOINT} answered page ${page} with devices already listed: the server ignores page=, so only the first ${list.devices.length} devices are known`);
        break;
      }
    }
    return list.devices;
  }

  private warn(message: string): void {
    try {
      this.onWarning?.(message);
    } catch {
      // a logger that throws must not fail the request
    }
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
    const path = `/telemetry/${encodeSegment(id)}`;
    let res: WireResponse;
    if (q.type === 'latest') {
      res = await this.call({ method: 'GET', path, query: { type: 'latest' }, endpoint, signal: options.signal });
    } else {
      const averages = (zoned: boolean) => this.call({
        method: 'GET', path, endpoint, signal: options.signal,
        query: { type: 'averages', resolution: q.resolution, from: formatApiDateTime(q.from, zoned), to: formatApiDateTime(q.to, zoned) },
      });
      const zoned = this.zonedDateTimes;
      try {
        res = await averages(zoned);
      } catch (err) {
        // The docs' own example is zone-less; a server that wants RFC 3339 refuses it with a 400
        // (docs/API.md). Try once with an explicit Z, and keep that form if the server takes it.
        if (zoned || !(isLeapcraftError(err) && err.status === 400)) throw err;
        res = await averages(true);
        this.zonedDateTimes = true;
      }
    }
    // The reading where the docs put it, however the server wrapped it (lib/telemetry/answer.ts).
    const body = parseJsonBody(res.body, endpoint, res.status);
    const found = q.type === 'latest' ? findLatestReading(body) : findAverages(body);
    if (found === undefined) {
      throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${res.status} without a reading (${describeTelemetryShape(body)})`, { endpoint, status: res.status });
    }
    return found.value;
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
   * An authenticated request that answered 2xx. A 401 or 403 (servers differ on how they
   * refuse an expired token: docs/API.md) drops that token and the request is replayed once
   * with a fresh one. A refusal of the fresh token is final for this request only: the token
   * is kept, since it is the resource that is refused, and the account's other requests go
   * on with it.
   */
  private async call(req: Omit<WireRequest, 'headers' | 'label'>): Promise<WireResponse> {
    const label = () => this.redact(requestLabel(req));
    if (!this.apiKey) {
      throw new LeapcraftAuthError(`${label()}: no API key is set for this Leapcraft account`, { endpoint: req.endpoint });
    }
    for (let replay = 0; ; replay++) {
      // The token is taken when the request gets its slot, not when it is queued (see RequestAuth).
      let token: string | undefined;
      const res = await this.transport.send({
        ...req,
        label,
        auth: {
          headers: async (signal) => {
            token = await this.tokens.get(signal);
            return { Authorization: `Bearer ${token}` };
          },
          stale: () => this.tokens.current !== token,
          refused: () => {
            if (token !== undefined && replay === 0) this.tokens.invalidate(token);
          },
        },
      });
      if (refusesToken(res.status) && replay === 0) continue;
      if (res.status >= 200 && res.status < 300) return res;
      throw this.statusError(req.endpoint, res, label());
    }
  }

  private async exchangeToken(): Promise<IssuedToken> {
    const endpoint = 'POST /auth/client/token';
    const askedAt = Date.now();
    const res = await this.transport.send({
      method: 'POST',
      path: '/auth/client/token',
      form: { api_key: this.apiKey ?? '' },
      endpoint,
    });
    // Servers refuse a wrong key with 401, 400 or 403, or even a 200 without a token
    // (docs/API.md): each is a refused key, and the cool-down keeps polls from hammering it.
    if (isKeyRefusal(res.status)) {
      throw new LeapcraftAuthError(
        this.redact(`${endpoint} refused the API key (HTTP ${res.status}${this.apiText(res)}): check the key in the Leapcraft account settings`),
        { endpoint, status: res.status },
      );
    }
    if (res.status < 200 || res.status >= 300) throw this.statusError(endpoint, res);
    // The docs' {type, token}, OAuth 2's {access_token, expires_in} and the like (token-answer.ts).
    const answer = readTokenAnswer(parseJsonBody(res.body, endpoint, res.status), askedAt);
    if (answer === undefined) {
      throw new LeapcraftAuthError(
        this.redact(`${endpoint} answered HTTP ${res.status} without a token${this.apiText(res)}: the API key was probably refused; check it in the Leapcraft account settings`),
        { endpoint, status: res.status },
      );
    }
    this.secrets.add(answer.token);
    if (this.secrets.size > 1000) this.trimSecrets();
    return { token: answer.token, lifetimeMs: answer.lifetimeMs };
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

  /**
   * The error of an answer that is not 2xx: the request with its ids (`label`, e.g. `GET
   * /telemetry/no-such-device`), the status and the API's own text, short enough for the first
   * line of Node-RED's debug sidebar (80 characters) with ids of usual length.
   */
  private statusError(endpoint: string, res: WireResponse, label = endpoint): LeapcraftError {
    const { status } = res;
    const message = this.redact(`${label}: HTTP ${status}${this.apiText(res)}`);
    const details = { endpoint, status };
    if (refusesToken(status)) return new LeapcraftAuthError(message, details);
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
