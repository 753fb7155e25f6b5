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

  /**
   * The message alone: Node-RED puts `String(err)` in a Catch node's msg.error.message, and the
   * debug sidebar shows its first 80 characters on the first line; `code` says the kind.
   */
  override toString(): string {
    return this.message;
  }
}

/** A LeapcraftError class for one code: `new LeapcraftAuthError(message)`, `err instanceof LeapcraftAuthError`. */
function errorWithCode(code: LeapcraftErrorCode) {
  return class extends LeapcraftError {
    constructor(message: string, details?: ErrorDetails) {
      super(code, message, details);
    }
  };
}

export class LeapcraftAuthError extends errorWithCode('LEAPCRAFT_AUTH') {}
export class LeapcraftNotFoundError extends errorWithCode('LEAPCRAFT_NOT_FOUND') {}
export class LeapcraftRateLimitError extends errorWithCode('LEAPCRAFT_RATE_LIMITED') {}
export class LeapcraftBadRequestError extends errorWithCode('LEAPCRAFT_BAD_REQUEST') {}
export class LeapcraftUnavailableError extends errorWithCode('LEAPCRAFT_UNAVAILABLE') {}
export class LeapcraftTimeoutError extends errorWithCode('LEAPCRAFT_TIMEOUT') {}
export class LeapcraftInvalidInputError extends errorWithCode('LEAPCRAFT_INVALID_INPUT') {}
export class LeapcraftBadResponseError extends errorWithCode('LEAPCRAFT_BAD_RESPONSE') {}
/** The request was cancelled by its owner (a node closing, a redeploy): not a failure of the API. */
export class LeapcraftAbortedError extends errorWithCode('LEAPCRAFT_ABORTED') {}

/**
 * The API refused the credentials a request carried: a token no longer valid (servers answer an
 * expired one with 401 or 403: docs/API.md). The one place that decides it.
 */
export function refusesToken(status: number): boolean {
  return status === 401 || status === 403;
}

export function isLeapcraftError(err: unknown): err is LeapcraftError {
  return err instanceof LeapcraftError;
}
