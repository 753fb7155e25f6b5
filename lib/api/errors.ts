/**
 * Typed errors of the Leapcraft client. Each carries a stable `code` that flows can
 * switch on (a Catch node sees it as `msg.error.code`). Messages name the endpoint and
 * the HTTP status and carry the API's own error text where there is one; they never
 * carry the API key or a token, and no error keeps a reference to the request that
 * produced it (an axios error holds the Authorization header and the form body).
 */
export type LeapcraftErrorCode =
  | 'LEAPCRAFT_AUTH'
  | 'LEAPCRAFT_NOT_FOUND'
  | 'LEAPCRAFT_RATE_LIMITED'
  | 'LEAPCRAFT_BAD_REQUEST'
  | 'LEAPCRAFT_UNAVAILABLE'
  | 'LEAPCRAFT_TIMEOUT'
  | 'LEAPCRAFT_INVALID_INPUT'
  | 'LEAPCRAFT_BAD_RESPONSE'
  | 'LEAPCRAFT_ABORTED';

export interface ErrorDetails {
  /** The endpoint, as `GET /devices/{physical_id}`: a template, never a concrete URL. */
  endpoint?: string;
  status?: number;
  /** For rate limits: how long the API asked us to wait. */
  retryAfterMs?: number;
  /** For invalid input: the offending field. */
  field?: string;
}

export class LeapcraftError extends Error {
  readonly code: LeapcraftErrorCode;
  readonly endpoint?: string;
  readonly status?: number;
  readonly retryAfterMs?: number;
  readonly field?: string;

  constructor(code: LeapcraftErrorCode, message: string, details: ErrorDetails = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    if (details.endpoint !== undefined) this.endpoint = details.endpoint;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
    if (details.field !== undefined) this.field = details.field;
  }
}

export class LeapcraftAuthError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_AUTH', message, details); }
}
export class LeapcraftNotFoundError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_NOT_FOUND', message, details); }
}
export class LeapcraftRateLimitError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_RATE_LIMITED', message, details); }
}
export class LeapcraftBadRequestError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_BAD_REQUEST', message, details); }
}
export class LeapcraftUnavailableError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_UNAVAILABLE', message, details); }
}
export class LeapcraftTimeoutError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_TIMEOUT', message, details); }
}
export class LeapcraftInvalidInputError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_INVALID_INPUT', message, details); }
}
export class LeapcraftBadResponseError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_BAD_RESPONSE', message, details); }
}
/** The request was cancelled by its owner (a node closing, a redeploy): not a failure of the API. */
export class LeapcraftAbortedError extends LeapcraftError {
  constructor(message: string, details?: ErrorDetails) { super('LEAPCRAFT_ABORTED', message, details); }
}

export function isLeapcraftError(err: unknown): err is LeapcraftError {
  return err instanceof LeapcraftError;
}
