/**
 * Injected faults: which request a fault hits, and what the broken response looks like.
 *
 * Faults are tried in the order they were injected; the first one that matches the request's
 * endpoint, has hits left and whose `every` counter comes round takes the request. A fault's
 * counter only advances for requests that reach it (an earlier fault that hits stops the search).
 */
import { codeForStatus, errorReply, type HttpReply, JSON_TYPE } from './http';
import { ENDPOINTS, RESET_HEADERS, type Endpoint, type Fault, type FaultKind, type ResetHeaders } from './types';

const KINDS: readonly FaultKind[] = ['status', 'rate-limit', 'hang', 'reset', 'malformed', 'html', 'empty'];

/** Validates a fault from an untyped source (the control interface, or JS callers). */
export function checkFault(input: unknown): Fault {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new TypeError('a fault must be a JSON object');
  const f = input as Record<string, unknown>;
  if (!KINDS.includes(f.kind as FaultKind)) throw new TypeError(`fault.kind must be one of ${KINDS.join(', ')}`);
  const out: Fault = { kind: f.kind as FaultKind };
  if (f.endpoint !== undefined && f.endpoint !== null) {
    if (!ENDPOINTS.includes(f.endpoint as Endpoint)) throw new TypeError(`fault.endpoint must be one of ${ENDPOINTS.join(', ')}`);
    out.endpoint = f.endpoint as Endpoint;
  }
  // null stands for Infinity in JSON, which has no Infinity.
  if (f.times !== undefined && f.times !== null) {
    if (typeof f.times !== 'number' || !(Number.isInteger(f.times) || f.times === Infinity) || f.times < 1) {
      throw new TypeError('fault.times must be a positive integer');
    }
    out.times = f.times;
  }
  if (f.every !== undefined && f.every !== null) {
    if (typeof f.every !== 'number' || !Number.isInteger(f.every) || f.every < 1) throw new TypeError('fault.every must be a positive integer');
    out.every = f.every;
  }
  if (f.status !== undefined && f.status !== null) {
    if (typeof f.status !== 'number' || !Number.isInteger(f.status) || f.status < 200 || f.status > 599) {
      throw new TypeError('fault.status must be an integer 200..599');
    }
    out.status = f.status;
  }
  if (f.retryAfter !== undefined && f.retryAfter !== null) {
    const ra = f.retryAfter;
    const okNumber = typeof ra === 'number' && Number.isFinite(ra) && ra >= 0;
    // A header value must not contain control characters (Node would throw when sending it).
    const okString = typeof ra === 'string' && ra.length > 0 && !/[\u0000-\u001f\u007f]/.test(ra);
    if (!okNumber && !okString) throw new TypeError('fault.retryAfter must be seconds (>= 0) or an HTTP-date string');
    out.retryAfter = ra as number | string;
  }
  if (f.resetAfter !== undefined && f.resetAfter !== null) {
    if (typeof f.resetAfter !== 'number' || !Number.isFinite(f.resetAfter) || f.resetAfter < 0) throw new TypeError('fault.resetAfter must be seconds (>= 0)');
    out.resetAfter = f.resetAfter;
  }
  if (f.resetHeaders !== undefined && f.resetHeaders !== null) {
    if (!RESET_HEADERS.includes(f.resetHeaders as ResetHeaders)) throw new TypeError(`fault.resetHeaders must be one of ${RESET_HEADERS.join(', ')}`);
    out.resetHeaders = f.resetHeaders as ResetHeaders;
  }
  if (f.body !== undefined && f.body !== null) {
    if (typeof f.body !== 'string') throw new TypeError('fault.body must be a string');
    out.body = f.body;
  }
  return out;
}

interface ActiveFault {
  id: string;
  fault: Fault;
  remaining: number;
  seen: number;
}

export class FaultList {
  private active: ActiveFault[] = [];
  private nextId = 1;

  add(input: Fault): string {
    const fault = checkFault(input);
    const id = `fault-${this.nextId++}`;
    this.active.push({ id, fault, remaining: fault.times ?? Infinity, seen: 0 });
    return id;
  }

  clear(): void {
    this.active = [];
    this.reset.clear();
  }

  /** The reset a 429 announced, while it has not passed. */
  readonly reset = new AnnouncedReset();

  get count(): number {
    return this.active.length;
  }

  /** The fault that hits a request to `endpoint`, if any; consumes one of its hits. */
  take(endpoint: Endpoint): Fault | undefined {
    for (const entry of this.active) {
      if (entry.fault.endpoint !== undefined && entry.fault.endpoint !== endpoint) continue;
      entry.seen += 1;
      if (entry.seen % (entry.fault.every ?? 1) !== 0) continue;
      entry.remaining -= 1;
      if (entry.remaining <= 0) this.active = this.active.filter((e) => e !== entry);
      return entry.fault;
    }
    return undefined;
  }
}

const PROXY_ERROR_PAGE =
  '<!DOCTYPE html>\n<html><head><title>502 Bad Gateway</title></head>\n' +
  '<body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>\n';

/** How the simulator answers a request a fault has hit. */
export type FaultAction =
  | { kind: 'reply'; reply: HttpReply }
  | { kind: 'hang' }
  /** Send status line, headers (with the full Content-Length) and `partial`, then reset the connection. */
  | { kind: 'reset'; reply: HttpReply; partial: string };

/** A body given by the fault is sent as JSON when it parses as JSON, else as text. */
function customBody(status: number, body: string): HttpReply {
  let type = 'text/plain; charset=utf-8';
  try {
    JSON.parse(body);
    type = JSON_TYPE;
  } catch {
    // not JSON: plain text
  }
  return { status, headers: { 'Content-Type': type }, body };
}

/** Cuts a JSON text so it no longer parses (a strict prefix of an object or array never does). */
function truncate(body: string): string {
  const cut = body.slice(0, Math.max(1, Math.floor(body.length * 0.6)));
  try {
    JSON.parse(cut);
    return `${cut}{`; // a prefix that still parses (e.g. a bare number): break it for sure
  } catch {
    return cut;
  }
}

/**
 * Builds the faulty response. `normal` yields what the request would have got; malformed and
 * reset mangle that (or a stand-in when it is an error) so the broken body looks like real data.
 */
export function faultAction(fault: Fault, normal: () => HttpReply, announce: (afterMs: number, form: ResetHeaders) => Record<string, string>): FaultAction {
  switch (fault.kind) {
    case 'status': {
      const status = fault.status ?? 503;
      if (fault.body !== undefined) return { kind: 'reply', reply: customBody(status, fault.body) };
      return { kind: 'reply', reply: errorReply(status, codeForStatus(status), `Simulated ${status} response`) };
    }
    case 'rate-limit': {
      const headers: Record<string, string> = {};
      if (fault.retryAfter !== undefined) {
        headers['Retry-After'] = typeof fault.retryAfter === 'number' ? String(Math.ceil(fault.retryAfter)) : fault.retryAfter;
      }
      if (fault.resetAfter !== undefined) Object.assign(headers, announce(fault.resetAfter * 1000, fault.resetHeaders ?? 'x-ratelimit-epoch'));
      return { kind: 'reply', reply: rateLimited(fault.body, headers) };
    }
    case 'hang':
      return { kind: 'hang' };
    case 'html':
      return {
        kind: 'reply',
        reply: { status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: fault.body ?? PROXY_ERROR_PAGE },
      };
    case 'empty':
      return { kind: 'reply', reply: { status: 200, headers: { 'Content-Type': JSON_TYPE }, body: '' } };
    case 'malformed': {
      const body = fault.body ?? goodBody(normal);
      return { kind: 'reply', reply: { status: 200, headers: { 'Content-Type': JSON_TYPE }, body: truncate(body) } };
    }
    case 'reset': {
      const body = fault.body ?? goodBody(normal);
      const reply: HttpReply = { status: 200, headers: { 'Content-Type': JSON_TYPE }, body };
      return { kind: 'reset', reply, partial: body.slice(0, Math.floor(body.length / 2)) };
    }
  }
}

function rateLimited(body: string | undefined, headers: Record<string, string>): HttpReply {
  const reply = body !== undefined ? customBody(429, body) : errorReply(429, 'rate_limited', 'Too many requests');
  return { ...reply, headers: { ...reply.headers, ...headers } };
}

/**
 * The reset a rate-limit fault announced: until it, the window is spent and every request (any
 * endpoint: a rate limit is the account's) is answered 429 again with the same reset, in the same
 * form; such a request does not count towards any fault. Cleared with the faults.
 */
export class AnnouncedReset {
  private announced?: { at: number; form: ResetHeaders };

  /** A 429 announces a reset `afterMs` from `now`: its headers, and the instant they name. */
  announce(afterMs: number, form: ResetHeaders, now: number): { headers: Record<string, string>; resetAt: number } {
    // Headers in whole seconds name the next whole second at or after the reset: never earlier.
    const at = form === 'x-ratelimit-epoch' ? Math.ceil((now + afterMs) / 1000) * 1000
      : form === 'x-ratelimit-epoch-ms' ? Math.ceil(now + afterMs)
        : now + Math.ceil(afterMs / 1000) * 1000;
    if (!this.announced || at > this.announced.at) this.announced = { at, form };
    return { headers: resetHeaders(form, at, now), resetAt: at };
  }

  /** The 429 a request before the announced reset gets, and the instant its headers name; undefined once it passed. */
  pending(now: number): { reply: HttpReply; resetAt: number } | undefined {
    const a = this.announced;
    if (!a) return undefined;
    if (now >= a.at) {
      this.announced = undefined;
      return undefined;
    }
    const headers = resetHeaders(a.form, a.at, now);
    const named = a.form === 'x-ratelimit-epoch' || a.form === 'x-ratelimit-epoch-ms' ? a.at : now + Math.ceil((a.at - now) / 1000) * 1000;
    return { reply: rateLimited(undefined, headers), resetAt: named };
  }

  clear(): void {
    this.announced = undefined;
  }
}

/** Nothing remains until `at`, in `form` (seconds-from-now forms round up, so they never name an earlier instant). */
function resetHeaders(form: ResetHeaders, at: number, now: number): Record<string, string> {
  const seconds = String(Math.max(0, Math.ceil((at - now) / 1000)));
  switch (form) {
    case 'x-ratelimit-epoch':
      return { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(at / 1000)) };
    case 'x-ratelimit-epoch-ms':
      return { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': String(Math.ceil(at)) };
    case 'x-ratelimit-seconds':
      return { 'X-RateLimit-Remaining': '0', 'X-RateLimit-Reset': seconds };
    case 'ratelimit-reset':
      return { 'RateLimit-Remaining': '0', 'RateLimit-Reset': seconds };
    case 'ratelimit':
      return { RateLimit: `"default";r=0;t=${seconds}` };
  }
}

/** The normal body when it is a success, else a plausible stand-in with the same shape as a list. */
function goodBody(normal: () => HttpReply): string {
  const reply = normal();
  if (reply.status >= 200 && reply.status < 300 && reply.body.length > 2) return reply.body;
  return JSON.stringify([{ physical_id: 'D2:C1:AA:FF:3E:09', name: 'Conference Room B', type: 'airbird', meta: {} }]);
}
