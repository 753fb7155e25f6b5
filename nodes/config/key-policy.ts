/**
 * Which API key an editor look-up may send, and where: the decision behind the account
 * dialog's Test connection and the device pickers, kept apart from the Express code that
 * serves them (nodes/config/admin-routes.ts), so it can be read and tested on its own.
 *
 * The deployed account's stored key (`apiKey` empty or `__PWRD__`) goes only to its deployed
 * base URL, never to another. A typed key makes the server talk to a URL with a key of the
 * caller's choosing, which needs `leapcraft-config.write` as deploying it would. An
 * `${ENV_VAR}` key is resolved only by a running account.
 */
import { createHash } from 'node:crypto';
import { CONCURRENCY_MAX, TIMEOUT_DEFAULT_S, TIMEOUT_MAX_S } from '../../lib/api/account-settings';
import { LeapcraftError, LeapcraftInvalidInputError, MAX_ID_LENGTH, validateBaseUrl } from '../../lib';

/** What the editor shows in a password field that holds a stored credential. */
export const CREDENTIAL_PLACEHOLDER = '__PWRD__';
const MAX_KEY_LENGTH = 4096;
const MAX_URL_LENGTH = 2048;
const ENV_REFERENCE = /\$\{[^}]*\}/;

/** Why a look-up cannot run, for the editor's hints (beside the error code). */
export type LookupReason = 'noKey' | 'envKey' | 'storedKeyElsewhere';

/** A refusal of the look-up itself, with the HTTP status to answer. */
export class LookupError extends LeapcraftInvalidInputError {
  constructor(message: string, readonly reason?: LookupReason, field?: string) {
    super(message, { field });
  }
}

export interface LookupBody {
  id?: string;
  baseUrl?: string;
  apiKey?: string;
  timeoutS?: number;
  concurrency?: number;
  refresh: boolean;
}

function optionalString(value: unknown, field: string, max: number): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new LookupError(`Invalid ${field}: expected a string`, undefined, field);
  const s = value.trim();
  if (s.length > max) throw new LookupError(`Invalid ${field}: longer than ${max} characters`, undefined, field);
  return s === '' ? undefined : s;
}

export function positiveNumber(value: unknown, max: number): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n > 0 && n <= max ? n : undefined;
}

/** The POST body; RED.httpAdmin has parsed the JSON already (size-capped by Node-RED). */
export function parseLookupBody(raw: unknown): LookupBody {
  const body = raw && typeof raw === 'object' && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
  const id = optionalString(body.id, 'id', MAX_ID_LENGTH);
  const rawUrl = optionalString(body.baseUrl, 'baseUrl', MAX_URL_LENGTH);
  const baseUrl = rawUrl === undefined ? undefined : validateBaseUrl(rawUrl);
  const key = optionalString(body.apiKey, 'apiKey', MAX_KEY_LENGTH);
  const concurrency = positiveNumber(body.concurrency, CONCURRENCY_MAX);
  return {
    id,
    baseUrl,
    apiKey: key === CREDENTIAL_PLACEHOLDER ? undefined : key,
    timeoutS: positiveNumber(body.timeout, TIMEOUT_MAX_S),
    concurrency: concurrency === undefined ? undefined : Math.max(1, Math.floor(concurrency)),
    refresh: body.refresh === true,
  };
}

/** A leapcraft-config node as deployed: its settings, its stored key, its running node if any. */
export interface DeployedAccount {
  /** A running account node whose client may serve the look-up. */
  running: boolean;
  baseUrl?: string;
  baseUrlError?: LeapcraftError;
  apiKey?: string;
  timeoutS?: number;
  /** The key came from the credential store without the runtime's ${ENV} substitution. */
  keyUnresolved: boolean;
}

/** Where a look-up goes and with which key; the client is made from it by the routes. */
export interface TargetDecision {
  baseUrl: string;
  apiKey: string;
  /** A key the caller typed (to any URL): needs the write permission. */
  custom: boolean;
  /** Key and URL are the running account's own: its client may serve the look-up. */
  asDeployed: boolean;
  cacheKey: string;
  /** For a short-lived client: the account's timeout unless the dialog says otherwise. */
  timeoutS: number;
  concurrency?: number;
}

/**
 * Decides the target of a look-up from its body and the deployed account (if `body.id`
 * names one), or throws a LookupError that tells the editor why not.
 */
export function decideTarget(body: LookupBody, deployed: DeployedAccount | undefined, defaultBaseUrl: string): TargetDecision {
  const typedKey = body.apiKey;
  if (typedKey !== undefined && ENV_REFERENCE.test(typedKey)) {
    throw new LookupError('An API key given as ${ENV_VAR} is resolved only in the deployed account: deploy it, then test the stored key', 'envKey', 'apiKey');
  }

  let baseUrl = body.baseUrl;
  if (baseUrl === undefined) {
    if (deployed?.baseUrlError) throw deployed.baseUrlError;
    baseUrl = deployed?.baseUrl ?? defaultBaseUrl;
  }

  let apiKey = typedKey;
  if (apiKey === undefined) {
    if (!deployed?.apiKey) {
      throw new LookupError(
        deployed ? 'The deployed account has no API key: type one' : 'No API key: type the key, or deploy the account first',
        'noKey', 'apiKey',
      );
    }
    // The stored key goes only where the deployed account sends it.
    if (baseUrl !== deployed.baseUrl) {
      throw new LookupError('The stored API key is sent only to the deployed base URL: type the key to test another URL, or deploy first', 'storedKeyElsewhere', 'baseUrl');
    }
    if (deployed.keyUnresolved && ENV_REFERENCE.test(deployed.apiKey)) {
      throw new LookupError('The stored API key is an ${ENV_VAR} reference that only a running account resolves', 'envKey', 'apiKey');
    }
    apiKey = deployed.apiKey;
  }

  const asDeployed = deployed !== undefined && apiKey === deployed.apiKey && baseUrl === deployed.baseUrl;
  const cacheKey = createHash('sha256').update(`${body.id ?? ''}\n${baseUrl}\n${apiKey}`).digest('hex');
  return {
    baseUrl,
    apiKey,
    // A typed key always needs the write permission, even when it equals the stored one: the
    // answer must not tell a read-only user whether a guess is the stored key.
    custom: typedKey !== undefined,
    asDeployed: asDeployed && deployed.running && !deployed.keyUnresolved,
    cacheKey,
    timeoutS: body.timeoutS ?? deployed?.timeoutS ?? TIMEOUT_DEFAULT_S,
    concurrency: body.concurrency,
  };
}
