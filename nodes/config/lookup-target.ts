/**
 * Where an editor look-up goes: the deployed account the body names (its settings, stored key
 * and running node), the key policy's decision (key-policy.ts: which key may be sent where),
 * and the client that serves it: the running account's own when key and URL are its own, else
 * a short-lived one made for the look-up.
 */
import { DEFAULT_BASE_URL, LeapcraftClient, LeapcraftError, validateBaseUrl } from '../../lib';
import { TIMEOUT_MAX_S } from '../../lib/api/account-settings';
import type { LeapcraftAccount, LeapcraftCredentials, NodeAPI } from '../common/types';
import { decideTarget, DeployedAccount, LookupBody, positiveNumber, TargetDecision } from './key-policy';

/** A look-up answers within this, whatever the account's own timeout. */
export const LOOKUP_TIMEOUT_MS = 15_000;

/** The deployed leapcraft-config node `id`: its settings, stored key and running node. */
function findDeployed(RED: NodeAPI, id: string): (DeployedAccount & { node?: LeapcraftAccount }) | undefined {
  let def: Record<string, unknown> | undefined;
  RED.nodes.eachNode((n) => {
    if (n.id === id && n.type === 'leapcraft-config') def = n as unknown as Record<string, unknown>;
  });
  const running = RED.nodes.getNode(id) as LeapcraftAccount | null;
  const node = running && running.type === 'leapcraft-config' && typeof running.getClient === 'function' ? running : undefined;
  if (!def && !node) return undefined;

  const account: DeployedAccount & { node?: LeapcraftAccount } = { node, running: !!node, keyUnresolved: !node, timeoutS: positiveNumber(def?.timeout, TIMEOUT_MAX_S) };
  try {
    // Where the running account sends its key; else where its settings say it would.
    let client: LeapcraftClient | undefined;
    try {
      client = node?.getClient();
    } catch {
      // a configuration error: the settings below say which
    }
    account.baseUrl = client?.baseUrl ?? validateBaseUrl(typeof def?.baseUrl === 'string' && def.baseUrl !== '' ? def.baseUrl : DEFAULT_BASE_URL);
  } catch (err) {
    account.baseUrlError = err as LeapcraftError;
  }
  // A running node holds its credentials with ${ENV} references resolved; otherwise (a node
  // of a disabled flow) the store has them as typed.
  const creds = node ? node.credentials : (RED.nodes.getCredentials(id) as LeapcraftCredentials | undefined);
  const key = typeof creds?.apiKey === 'string' ? creds.apiKey.trim() : '';
  if (key !== '') account.apiKey = key;
  return account;
}

/**
 * A decided look-up: the running account's own client, or a short-lived one made on first use
 * (closed by release()). The decision keeps key and base URL for the API check, which makes
 * its own requests.
 */
export class LookupTarget {
  private own?: LeapcraftClient;

  constructor(readonly decision: TargetDecision, private readonly sharedClient?: LeapcraftClient) {}

  /** A key the caller typed (to any URL): needs the write permission. */
  get custom(): boolean {
    return this.decision.custom;
  }

  /** Which cached lists this look-up may be answered from: the account, base URL and key, hashed. */
  get cacheKey(): string {
    return this.decision.cacheKey;
  }

  /** What no answer may contain. */
  get secrets(): string[] {
    return [this.decision.apiKey];
  }

  get client(): LeapcraftClient {
    if (this.sharedClient) return this.sharedClient;
    this.own ??= new LeapcraftClient({
      baseUrl: this.decision.baseUrl,
      apiKey: this.decision.apiKey,
      concurrency: Math.min(this.decision.concurrency ?? 4, 8),
      timeoutMs: Math.min(this.decision.timeoutS * 1000, LOOKUP_TIMEOUT_MS),
      maxRetries: 1,
      backoffBaseMs: 250,
      backoffMaxMs: 2000,
      maxRetryAfterMs: 5000,
    });
    return this.own;
  }

  /** Closes the short-lived client, if one was made (the account's own stays open). */
  release(): void {
    this.own?.close();
  }
}

/** The target of a look-up, or a LookupError that tells the editor why there is none. */
export function resolveTarget(RED: NodeAPI, body: LookupBody): LookupTarget {
  const deployed = body.id ? findDeployed(RED, body.id) : undefined;
  const decision = decideTarget(body, deployed, DEFAULT_BASE_URL);
  if (decision.asDeployed && deployed?.node) {
    try {
      const client = deployed.node.getClient();
      if (client.hasApiKey && client.baseUrl === decision.baseUrl && !client.closed) return new LookupTarget(decision, client);
    } catch {
      // the deployed account has no client (configuration error): use a short-lived one
    }
  }
  return new LookupTarget(decision);
}
