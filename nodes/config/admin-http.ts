/**
 * The HTTP side of the editor's look-ups: JSON answers that never carry a secret, errors as
 * `{ok: false, code, message}` with a status that fits, and Node-RED's permission check for a
 * permission beyond the route's own.
 */
import type { Request, Response } from 'express';
import { isLeapcraftError, redactSecrets } from '../../lib';
import type { NodeAPI } from '../common/types';
import { LookupError } from './key-policy';

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

/** Not cached, and with every secret redacted (a message that quotes one, a report). */
export function sendJson(res: Response, status: number, body: unknown, secrets: readonly string[]): void {
  if (res.headersSent) return;
  res.status(status).set('Cache-Control', 'no-store').type('application/json').send(redactSecrets(JSON.stringify(body), secrets));
}

/** A LeapcraftError as its code, message, field and reason; anything else as an internal error, its text neither sent nor logged. */
export function sendError(RED: NodeAPI, res: Response, err: unknown, secrets: readonly string[]): void {
  if (isLeapcraftError(err)) {
    const body: Record<string, unknown> = { ok: false, code: err.code, message: err.message };
    if (err instanceof LookupError && err.reason) body.reason = err.reason;
    if (err.field) body.field = err.field;
    if (err.code === 'LEAPCRAFT_RATE_LIMITED' && err.retryAfterMs) res.set('Retry-After', String(Math.ceil(err.retryAfterMs / 1000)));
    sendJson(res, HTTP_STATUS[err.code] ?? 502, body, secrets);
    return;
  }
  // Not a LeapcraftError: a bug below. Its text could hold anything.
  RED.log.warn(`leapcraft: editor look-up failed unexpectedly (${err instanceof Error ? err.name : typeof err})`);
  sendJson(res, 500, { ok: false, code: 'LEAPCRAFT_ERROR', message: 'internal error' }, secrets);
}

/** Calls the needsPermission middleware for one more permission; false when it has answered 401. */
export function hasPermission(RED: NodeAPI, permission: string, req: Request, res: Response): Promise<boolean> {
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
