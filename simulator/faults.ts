/**
 * Injected faults: which request a fault hits, and what the broken response looks like.
 *
 * Faults are tried in the order they were injected; the first one that matches the request's
 * endpoint, has hits left and whose `every` counter comes round takes the request. A fault's
 * counter only advances for requests that reach it (an earlier fault that hits stops the search).
 */
import { codeForStatus, errorReply, type HttpReply, JSON_TYPE } from './http';
import { ENDPOINTS, type Endpoint, type Fault, type FaultKind } from './types';

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
  }

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
export function faultAction(fault: Fault, normal: () => HttpReply): FaultAction {
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
      const reply = fault.body !== undefined ? customBody(429, fault.body) : errorReply(429, 'rate_limited', 'Too many requests');
      return { kind: 'reply', reply: { ...reply, headers: { ...reply.headers, ...headers } } };
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

/** The normal body when it is a success, else a plausible stand-in with the same shape as a list. */
function goodBody(normal: () => HttpReply): string {
  const reply = normal();
  if (reply.status >= 200 && reply.status < 300 && reply.body.length > 2) return reply.body;
  return JSON.stringify([{ physical_id: 'D2:C1:AA:FF:3E:09', name: 'Conference Room B', type: 'airbird', meta: {} }]);
}
