/**
 * HTTP plumbing shared by the API and the control interface: replies as plain values, the
 * error body format, sending, capped body reading and request-target splitting.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** A complete response as a value, so faults can inspect, delay or mangle it before it is sent. */
export interface HttpReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export const JSON_TYPE = 'application/json';

export function jsonReply(status: number, value: unknown, headers: Record<string, string> = {}): HttpReply {
  return { status, headers: { 'Content-Type': JSON_TYPE, ...headers }, body: JSON.stringify(value) };
}

/**
 * The simulator's error body. The real API's error format is undocumented; this one is used
 * consistently for every error the simulator produces itself:
 * `{"error": "<short code>", "message": "<human text>"}` with Content-Type application/json.
 */
export function errorReply(status: number, code: string, message: string, headers: Record<string, string> = {}): HttpReply {
  return jsonReply(status, { error: code, message }, headers);
}

/** Short error code for a status produced by a fault or a guard. */
export function codeForStatus(status: number): string {
  const codes: Record<number, string> = {
    400: 'invalid_request',
    401: 'unauthorized',
    403: 'forbidden',
    404: 'not_found',
    405: 'method_not_allowed',
    408: 'request_timeout',
    409: 'conflict',
    413: 'payload_too_large',
    415: 'unsupported_media_type',
    429: 'rate_limited',
    500: 'internal_error',
    502: 'bad_gateway',
    503: 'service_unavailable',
    504: 'gateway_timeout',
  };
  return codes[status] ?? (status >= 500 ? 'server_error' : status >= 400 ? 'client_error' : 'error');
}

/** Sends a reply unless the client has gone already (then there is no one to tell). */
export function send(res: ServerResponse, reply: HttpReply): void {
  if (res.writableEnded || res.destroyed) return;
  res.writeHead(reply.status, { ...reply.headers, 'Content-Length': String(Buffer.byteLength(reply.body)) });
  res.end(reply.body);
}

export type BodyResult = { kind: 'ok'; body: string } | { kind: 'too-large' } | { kind: 'aborted' };

/**
 * Reads the request body up to `limit` bytes. Beyond the cap the rest is drained and discarded
 * (not kept in memory) so the 413 can still be delivered on the same connection.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyResult> {
  return new Promise((resolve) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) {
      req.resume();
      resolve({ kind: 'too-large' });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (result: BodyResult): void => {
      if (settled) return;
      settled = true;
      resolve(result);
    };
    req.on('data', (chunk: Buffer) => {
      if (settled) return;
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        settle({ kind: 'too-large' });
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => settle({ kind: 'ok', body: Buffer.concat(chunks).toString('utf8') }));
    req.on('error', () => settle({ kind: 'aborted' }));
    req.on('close', () => settle({ kind: 'aborted' }));
  });
}

export interface RequestTarget {
  /** Path segments, still percent-encoded: split first so an encoded "/" stays inside its segment. */
  segments: string[];
  query: URLSearchParams;
}

/** Splits a request target (origin-form, or absolute-form as sent to proxies). Never throws. */
export function parseTarget(rawUrl: string): RequestTarget {
  let path = '';
  let search = '';
  if (rawUrl.startsWith('/')) {
    const q = rawUrl.indexOf('?');
    path = q === -1 ? rawUrl : rawUrl.slice(0, q);
    search = q === -1 ? '' : rawUrl.slice(q + 1);
  } else {
    try {
      const url = new URL(rawUrl);
      path = url.pathname;
      search = url.search.slice(1);
    } catch {
      // Not a URL at all (e.g. "*"): no segments, so it ends up as an unknown path.
    }
  }
  const hash = search.indexOf('#');
  if (hash !== -1) search = search.slice(0, hash);
  const segments = path.split('/').slice(1);
  if (segments.length > 0 && segments[segments.length - 1] === '') segments.pop();
  return { segments, query: new URLSearchParams(search) };
}

/** decodeURIComponent that reports a malformed escape as null instead of throwing. */
export function decodeSegment(raw: string): string | null {
  try {
    return decodeURIComponent(raw);
  } catch {
    return null;
  }
}

/** True for IPv4/IPv6 loopback peers, including IPv4-mapped IPv6. */
export function isLoopback(address: string | undefined): boolean {
  if (address === undefined) return false;
  return address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
}
