/**
 * leapcraft-config: one Leapcraft account (base URL + API key credential). It owns the
 * account's client and poll scheduler, so every flow node using it shares one token, one
 * concurrency cap, one set of keep-alive sockets and one request per polled key. Flow nodes
 * only look it up (nodes/common/account.ts): each reports its own trouble, since every
 * failure of the account reaches each node through its own requests or polls.
 */
import { LeapcraftClient, LeapcraftError, PollScheduler, isLeapcraftError, redactUrlCredentials } from '../lib';
import { budgetSetting, concurrencySetting, timeoutMsSetting } from '../lib/api/account-settings';
import { unsetEnvVariable } from './common/env';
import { registerAdminRoutes } from './config/admin-routes';
import type { LeapcraftAccount, LeapcraftConfigDef, LeapcraftCredentials, NodeAPI } from './common/types';

export = function register(RED: NodeAPI): void {
  // The editor's look-ups (test connection, device pickers): POST leapcraft/test-connection, leapcraft/devices.
  registerAdminRoutes(RED);

  function LeapcraftConfigNode(this: LeapcraftAccount & { configError?: LeapcraftError }, def: LeapcraftConfigDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let client: LeapcraftClient | undefined;
    const scheduler = new PollScheduler({
      onListenerError: (err) => node.error(`listener failed: ${err instanceof Error ? err.message : String(err)}`),
    });

    // ${LEAPCRAFT_BASE_URL} and ${LEAPCRAFT_API_KEY} (every example's account) with the variable
    // not set: said so, rather than a URL refused or a key the API refuses.
    const unsetUrl = unsetEnvVariable(def.baseUrl);
    const unsetKey = unsetEnvVariable(node.credentials?.apiKey);
    try {
      if (unsetUrl) {
        throw new LeapcraftError('LEAPCRAFT_INVALID_INPUT', RED._('leapcraft-config.errors.envUnset', { name: unsetUrl, setting: RED._('leapcraft-config.label.baseUrl') }), { field: 'env' });
      }
      client = new LeapcraftClient({
        baseUrl: def.baseUrl || undefined,
        apiKey: unsetKey ? undefined : node.credentials?.apiKey,
        concurrency: concurrencySetting(def.concurrency),
        timeoutMs: timeoutMsSetting(def.timeout),
        // A full deploy restarts this node: the account's token outlives it (in memory only).
        shareToken: true,
        onWarning: (message) => node.warn(message),
        // The account's request budget learns from the API: each 429, and its rate-limit headers.
        onRateLimited: () => scheduler.noteRateLimited(),
        onRateLimit: (info) => scheduler.noteApiLimit(info),
      });
      scheduler.setBudget(budgetSetting(def.budget));
      if (unsetKey) {
        node.warn(RED._('leapcraft-config.errors.envUnset', { name: unsetKey, setting: RED._('leapcraft-config.label.apiKey') }));
      } else if (!client.hasApiKey) {
        node.warn(RED._('leapcraft-config.errors.noApiKey', { name: def.name || def.id }));
      }
    } catch (err) {
      node.configError = isLeapcraftError(err) ? err : new LeapcraftError('LEAPCRAFT_INVALID_INPUT', String(err));
      node.error(node.configError.field === 'baseUrl'
        ? RED._('leapcraft-config.errors.insecureBaseUrl', { url: redactUrlCredentials(String(def.baseUrl)) }) + ` (${node.configError.message})`
        : node.configError.message);
    }

    node.getClient = () => {
      if (!client) throw node.configError;
      return client;
    };
    node.getScheduler = () => scheduler;

    node.on('close', (_removed: boolean, done: () => void) => {
      // Stops every poll, aborts in-flight requests and pending retries, clears their
      // timers and frees the sockets.
      scheduler.close();
      client?.close();
      done();
    });
  }

  RED.nodes.registerType<LeapcraftAccount, LeapcraftConfigDef, unknown, LeapcraftCredentials>(
    'leapcraft-config',
    LeapcraftConfigNode as never,
    { credentials: { apiKey: { type: 'password' } } },
  );
};
