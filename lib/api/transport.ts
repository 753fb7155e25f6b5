/**
 * The account's wire: one axios instance on keep-alive agents, a concurrency cap, a
 * per-attempt timeout, and retries of what is transient (5xx, resets, timeouts; a 429 after the
 * server's word: Retry-After or the reset of its rate-limit headers, no request of the account
 * going out before it). It knows nothing of tokens or endpoints' meanings: it returns the
 * final status and body, and throws only when no response could be had at all.
 */
import { setMaxListeners } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import axios, { AxiosInstance } from 'axios';
import { HttpsProxyAgent } from 'hpagent';
import { getProxyForUrl } from 'proxy-from-env';
import { parseRateLimitHeaders, RateLimitInfo } from './rate-limit';
import { sleep } from './abort';
import { LeapcraftAbortedError, LeapcraftError, LeapcraftRateLimitError, LeapcraftTimeoutError, LeapcraftUnavailableError, refusesToken } from './errors';
import { backoffDelay, parseRetryAfter } from './retry';
import { Cancellation, Semaphore } from './semaphore';
import { isLoopbackHost } from './validation';

export interface TransportOptions {
  baseUrl: string;
  /** Per attempt, in ms. */
  timeoutMs: number;
  /** Requests on the wire at once for this account. */
  concurrency: number;
  /** Retries after the first attempt for transient failures. */
  maxRetries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /**
   * The longest Retry-After a request waits out by itself. A longer one fails the
   * request with LEAPCRAFT_RATE_LIMITED (carrying the wait) so a scheduler can defer it
   * instead of a flow hanging for minutes.
   */
  maxRetryAfterMs: number;
  userAgent: string;
  random?: () => number;
  /** Told of every HTTP 429, retried here or not: a request budget learns from each. */
  onRateLimited?: () => void;
  /** Told of what an answer's rate-limit headers say (`RateLimit-*`, `X-RateLimit-*`). */
  onRateLimit?: (info: RateLimitInfo) => void;
}

export interface WireRequest {
  method: 'GET' | 'POST';
  /** Path below baseUrl, every parameter already encoded. */
  path: string;
  query?: Record<string, string | number | undefined>;
  form?: Record<string, string>;
  headers?: Record<string, string>;
  /** Credentials that can go stale while the request waits for a slot (the bearer token). */
  auth?: RequestAuth;
  /** Goes ahead of the requests queued for a slot: other work waits for its answer. */
  first?: boolean;
  /** `GET /devices/{physical_id}`: the endpoint without its parameters (an error's `endpoint`). */
  endpoint: string;
  /**
   * `GET /devices/D2:C1:AA:FF:3E:09`: the request with its ids, what error messages name (the
   * endpoint without it). A function: it is worked out only for an error, not for every request.
   */
  label?: () => string;
  signal?: AbortSignal;
}

/**
 * A bearer token, resolved before each attempt waits for its slot and checked again once
 * the slot is there: when the token was renewed or refused meanwhile, the request gives
 * the slot on and takes the current token, rather than going out with one the API will
 * refuse. (Without this, every request queued behind an expiry met a 401 and was replayed:
 * a cycle of N devices cost up to 2N requests.)
 */
export interface RequestAuth {
  headers(signal: AbortSignal): Promise<Record<string, string>>;
  /** The token used has been renewed or dropped since headers() resolved. */
  stale(): boolean;
  /** The API refused the token (HTTP 401 or 403): dropped before the slot passes to a waiting request. */
  refused(): void;
}

export interface WireResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

export interface TransportCounters {
  attempts: number;
  retries: number;
  rateLimited: number;
}

const RETRYABLE_NETWORK_CODES = new Set([
  'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN', 'ENETUNREACH',
  'EHOSTUNREACH', 'ECONNABORTED', 'ERR_BAD_RESPONSE', 'ERR_NETWORK', 'UND_ERR_SOCKET',
]);

class TimeoutMarker extends Error {}
class ClosedMarker extends Error {}

/** What an error message calls the request. */
const nameOf = (req: WireRequest): string => req.label?.() ?? req.endpoint;

/**
 * One send() under way, cancelled when its caller's signal aborts or the transport closes.
 * The cancellation reaches what the request waits for directly: its place in the slot queue
 * (as a Cancellation, see semaphore.ts) and the AbortController of its request on the wire,
 * made once it has a slot. No AbortSignal is combined per request, none exists while it is
 * queued, and the transport's close reaches the sends under way through a Set, not through a
 * listener each: a thousand queued requests hold no AbortController and add no listener to the
 * account's shared close signal.
 */
class Call implements Cancellation {
  aborted = false;
  reason: unknown;
  private current?: AbortController;
  private hook?: () => void;
  private readonly onOuterAbort?: () => void;

  constructor(private readonly outer: AbortSignal | undefined, closer: AbortSignal) {
    // The caller's signal first, as when both had aborted before the send.
    if (outer?.aborted) this.cancel(outer.reason);
    else if (closer.aborted) this.cancel(closer.reason);
    if (outer && !this.aborted) {
      this.onOuterAbort = () => this.cancel(outer.reason);
      outer.addEventListener('abort', this.onOuterAbort, { once: true });
    }
  }

  /** A controller for the next wait (a pause, a request on the wire): aborted at once when the call is cancelled already. */
  controller(): AbortController {
    const controller = new AbortController();
    this.current = controller;
    if (this.aborted) controller.abort(this.reason);
    return controller;
  }

  onCancel(fn: () => void): () => void {
    this.hook = fn;
    return () => {
      if (this.hook === fn) this.hook = undefined;
    };
  }

  cancel(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    // What an AbortController makes of abort(undefined), so the reason is the one a signal would carry.
    this.reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    this.current?.abort(this.reason);
    const hook = this.hook;
    this.hook = undefined;
    hook?.();
  }

  dispose(): void {
    if (this.onOuterAbort) this.outer?.removeEventListener('abort', this.onOuterAbort);
    this.current = undefined;
    this.hook = undefined;
  }
}

export class Transport {
  readonly counters: TransportCounters = { attempts: 0, retries: 0, rateLimited: 0 };
  private readonly axios: AxiosInstance;
  private readonly httpAgent: http.Agent;
  private readonly httpsAgent: https.Agent;
  private readonly viaProxy: boolean;
  private readonly slots: Semaphore;
  private readonly closer = new AbortController();
  /** The sends under way, cancelled on close. */
  private readonly calls = new Set<Call>();
  private blockedUntil = 0;

  constructor(private readonly options: TransportOptions) {
    const agentOptions = { keepAlive: true, maxSockets: options.concurrency, maxFreeSockets: options.concurrency };
    this.httpAgent = new http.Agent(agentOptions);
    this.httpsAgent = httpsAgentFor(options.baseUrl, agentOptions, options.timeoutMs);
    this.viaProxy = this.httpsAgent instanceof HttpsProxyAgent;
    this.slots = new Semaphore(options.concurrency);
    // Every request in flight listens on the close signal: hundreds at once is normal.
    setMaxListeners(0, this.closer.signal);
    this.axios = axios.create({
      httpAgent: this.httpAgent,
      httpsAgent: this.httpsAgent,
      // The proxy, if any, is in the https agent (see httpsAgentFor).
      proxy: false,
      // A redirect could carry the bearer token or the key to another host: never follow.
      maxRedirects: 0,
      responseType: 'text',
      transformResponse: [(data: unknown) => data],
      validateStatus: () => true,
      maxContentLength: 64 * 1024 * 1024,
      headers: { Accept: 'application/json', 'User-Agent': options.userAgent },
    });
  }

  get closed(): boolean {
    return this.closer.signal.aborted;
  }

  /** Requests on the wire at once, at most. */
  get concurrency(): number {
    return this.slots.limit;
  }

  get inFlight(): number {
    return this.slots.inUse;
  }

  /** Cancels every wait and request of this account and frees its sockets. */
  close(): void {
    if (!this.closer.signal.aborted) {
      this.closer.abort(new ClosedMarker('client closed'));
      for (const call of this.calls) call.cancel(this.closer.signal.reason);
    }
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  /** Remaining time of the account-wide pause a 429 asked for (Retry-After or reset), 0 when none. */
  rateLimitRemainingMs(now: number = Date.now()): number {
    return Math.max(0, this.blockedUntil - now);
  }

  async send(req: WireRequest): Promise<WireResponse> {
    const call = new Call(req.signal, this.closer.signal);
    this.calls.add(call);
    try {
      for (let attempt = 0; ; attempt++) {
        const outcome = await this.attempt(req, call);
        const isLast = attempt >= this.options.maxRetries;
        if ('response' in outcome) {
          const { response, waitMs } = outcome;
          if (response.status === 429) {
            if (isLast || (waitMs ?? 0) > this.options.maxRetryAfterMs) return response;
            this.counters.retries++;
            // The retry waits for the server's word when it gave one (attempt() waits out the pause), else backs off.
            await this.pause(waitMs ?? this.backoff(attempt), call);
            continue;
          }
          this.noteLimits(response);
          if (response.status >= 500 && !isLast) {
            this.counters.retries++;
            await this.pause(this.backoff(attempt), call);
            continue;
          }
          return response;
        }
        if (isLast) throw outcome.error;
        this.counters.retries++;
        await this.pause(this.backoff(attempt), call);
      }
    } catch (err) {
      throw this.translateAbort(err, req, call.aborted);
    } finally {
      call.dispose();
      this.calls.delete(call);
    }
  }

  private noteLimits(response: WireResponse): void {
    if (!this.options.onRateLimit || !hasRateLimitHeader(response.headers)) return;
    const info = parseRateLimitHeaders(response.headers);
    if (info) this.notify(() => this.options.onRateLimit?.(info));
  }

  /**
   * A 429: how long the server asked to wait, by Retry-After or by the reset of any rate-limit
   * header family (the later of the two when it sends both); undefined when it said neither. No
   * request of the account goes out before then: the pause holds every request, and the
   * listeners hear that nothing remains until then.
   */
  private rateLimited(response: WireResponse): number | undefined {
    this.counters.rateLimited++;
    const now = Date.now();
    const retryAfterMs = parseRetryAfter(response.headers['retry-after'], now);
    const info = hasRateLimitHeader(response.headers) ? parseRateLimitHeaders(response.headers, now) : undefined;
    const waits = [retryAfterMs, info?.resetMs].filter((x): x is number => x !== undefined);
    const waitMs = waits.length > 0 ? Math.max(...waits) : undefined;
    if (waitMs !== undefined) this.blockedUntil = Math.max(this.blockedUntil, now + waitMs);
    const limits = waitMs !== undefined ? { ...info, remaining: 0, resetMs: waitMs } : info;
    if (limits) this.notify(() => this.options.onRateLimit?.(limits));
    // Told after the pause is noted: a listener may ask how long it lasts.
    this.notify(() => this.options.onRateLimited?.());
    return waitMs;
  }

  /** A listener that throws (a bug elsewhere) must not fail the request. */
  private notify(call: () => void): void {
    try {
      call();
    } catch {
      // ignored: see above
    }
  }

  private backoff(attempt: number): number {
    return backoffDelay(attempt, this.options.backoffBaseMs, this.options.backoffMaxMs, this.options.random);
  }

  private async pause(ms: number, call: Call): Promise<void> {
    await sleep(ms, call.controller().signal);
  }

  /**
   * Waits out the account's pause (a 429's Retry-After or reset); a pause longer than
   * maxRetryAfterMs fails the request unsent with LEAPCRAFT_RATE_LIMITED carrying the wait.
   */
  private async waitOutPause(req: WireRequest, call: Call): Promise<void> {
    for (let blockedMs = this.rateLimitRemainingMs(); blockedMs > 0; blockedMs = this.rateLimitRemainingMs()) {
      if (blockedMs > this.options.maxRetryAfterMs) {
        throw new LeapcraftRateLimitError(
          `${nameOf(req)}: the API asked to pause for ${Math.ceil(blockedMs / 1000)} s (HTTP 429); not sent`,
          { endpoint: req.endpoint, status: 429, retryAfterMs: blockedMs },
        );
      }
      // Again after the sleep: a timer may fire a little before the clock reaches the reset.
      await sleep(blockedMs, call.controller().signal);
    }
  }

  /** One try: waits out an account-wide pause, takes a slot, sends. */
  private async attempt(req: WireRequest, call: Call): Promise<{ response: WireResponse; waitMs?: number } | { error: LeapcraftError }> {
    // A slot, with auth headers that are still current once the slot is this request's. The
    // token is resolved before queueing: waiting for a renewal while holding a slot could
    // starve the token exchange of the slot it needs. A wait for the token ends with the
    // caller's signal, or with the close (which also ends the exchange itself). A 429 that
    // came while this request queued for its slot holds it too.
    const authSignal = req.signal ?? this.closer.signal;
    let authHeaders: Record<string, string>;
    let release: () => void;
    for (;;) {
      // Not awaited when there is no pause: a request takes its slot in the same turn as before.
      if (this.rateLimitRemainingMs() > 0) await this.waitOutPause(req, call);
      try {
        authHeaders = req.auth ? await req.auth.headers(authSignal) : {};
      } catch (err) {
        if (call.aborted) throw call.reason;
        throw err;
      }
      release = await this.slots.acquire(call, req.first);
      if (!req.auth?.stale() && this.rateLimitRemainingMs() === 0) break;
      release();
    }
    // The request on the wire: the call's cancellation and the timeout abort it.
    const controller = call.controller();
    const { signal } = controller;
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort(new TimeoutMarker('timeout'));
    }, this.options.timeoutMs);
    try {
      this.counters.attempts++;
      const res = await this.axios.request<string>({
        method: req.method,
        url: this.url(req),
        data: req.form ? new URLSearchParams(req.form).toString() : undefined,
        // The auth headers are a fresh object per request: used as they are when nothing joins them.
        headers: req.form || req.headers
          ? { ...(req.form ? { 'Content-Type': 'application/x-www-form-urlencoded' } : {}), ...req.headers, ...authHeaders }
          : authHeaders,
        signal,
      });
      if (refusesToken(res.status)) req.auth?.refused();
      const response: WireResponse = {
        status: res.status,
        headers: res.headers as Record<string, unknown>,
        body: typeof res.data === 'string' ? res.data : '',
      };
      // The pause is noted before the slot passes on: the request queued next must not go out.
      return response.status === 429 ? { response, waitMs: this.rateLimited(response) } : { response };
    } catch (err) {
      if (call.aborted) throw call.reason;
      if (timedOut) {
        return { error: new LeapcraftTimeoutError(`${nameOf(req)} timed out after ${this.options.timeoutMs} ms`, { endpoint: req.endpoint }) };
      }
      const code = (err as { code?: string }).code;
      const proxyStatus = /^Bad response: (\d{3})$/.exec((err as Error).message ?? '')?.[1];
      if (this.viaProxy && proxyStatus) {
        // The proxy agent's answer to a refused CONNECT. The proxy URL is not quoted: it may hold a password.
        const refused = new LeapcraftUnavailableError(
          `${nameOf(req)}: the proxy refused the tunnel to the API with HTTP ${proxyStatus}; check HTTPS_PROXY (and its credentials) and NO_PROXY`,
          { endpoint: req.endpoint },
        );
        if (Number(proxyStatus) < 500) throw refused;
        return { error: refused };
      }
      if (code && !RETRYABLE_NETWORK_CODES.has(code)) {
        // Not a transient network fault (a bad URL, a TLS error): retrying will not help.
        throw new LeapcraftUnavailableError(`${nameOf(req)} could not be sent (${code})`, { endpoint: req.endpoint });
      }
      return {
        error: new LeapcraftUnavailableError(`${nameOf(req)} failed: ${code ?? 'connection error'}`, { endpoint: req.endpoint }),
      };
    } finally {
      clearTimeout(timer);
      release();
    }
  }

  private url(req: WireRequest): string {
    let url = this.options.baseUrl + req.path;
    if (req.query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(req.query)) if (v !== undefined) params.append(k, String(v));
      const qs = params.toString();
      if (qs) url += `?${qs}`;
    }
    return url;
  }

  private translateAbort(err: unknown, req: WireRequest, cancelled: boolean): unknown {
    if (err instanceof LeapcraftError) return err;
    if (cancelled) {
      const why = err instanceof ClosedMarker ? 'the Leapcraft account was closed' : 'the request was cancelled';
      return new LeapcraftAbortedError(`${nameOf(req)}: ${why}`, { endpoint: req.endpoint });
    }
    return err;
  }
}

/**
 * Whether an answer carries a header parseRateLimitHeaders reads (every one has `ratelimit` in
 * its name): most APIs send none, and then the parse, run for every answer, finds nothing.
 */
function hasRateLimitHeader(headers: Record<string, unknown>): boolean {
  for (const name of Object.keys(headers)) if (name.toLowerCase().includes('ratelimit')) return true;
  return false;
}

/**
 * The account's https agent: through the proxy that HTTPS_PROXY / NO_PROXY select for the API,
 * if any (never for a loopback simulator). axios's own proxy support opens a new CONNECT tunnel
 * and TLS session for every request; this agent keeps tunnels alive and pooled like direct
 * sockets, capped by the account's concurrency, and closes them with the account. TLS runs
 * end to end through the tunnel, so the proxy never sees the key or a token.
 */
function httpsAgentFor(baseUrl: string, agentOptions: https.AgentOptions, timeoutMs: number): https.Agent {
  const url = new URL(baseUrl);
  const proxy = url.protocol === 'https:' && !isLoopbackHost(url.hostname) ? getProxyForUrl(url) : '';
  // The timeout also bounds the CONNECT: a request given up on does not own that socket, so
  // only the timeout ends it when the proxy never answers.
  return proxy ? new HttpsProxyAgent({ ...agentOptions, timeout: timeoutMs, proxy }) : new https.Agent(agentOptions);
}
