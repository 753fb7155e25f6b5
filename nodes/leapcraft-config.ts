/**
 * leapcraft-config: one Leapcraft account (base URL + API key credential). It owns the
 * account's client and poll scheduler, so every flow node using it shares one token, one
 * concurrency cap, one set of keep-alive sockets and one request per polled key. Flow nodes
 * only look it up (nodes/common/account.ts): each reports its own trouble, since every
 * failure of the account reaches each node through its own requests or polls.
 */
import {
  AccountState, DEFAULT_BASE_URL, LeapcraftClient, LeapcraftError, PollScheduler, isLeapcraftError, redactRedisUrl, redactUrlCredentials, redisUrlSetting,
  SharedAccount, shareAccount, validateBaseUrl,
} from '../lib';
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
    let shared: SharedAccount | undefined;
    const onListenerError = (err: unknown) => node.error(`listener failed: ${err instanceof Error ? err.message : String(err)}`);
    // Shared through Redis, the scheduler polls only while this process leads the account (or works alone).
    const scheduler = new PollScheduler({
      onListenerError,
      fetching: false,
      mayFetch: () => shared?.coordinator.mayFetch() ?? true,
      onAnswer: (answer) => shared?.coordinator.publish(answer),
      onNewKey: (key, intervalMs) => shared?.coordinator.newKey(key, intervalMs),
    });
    // What every node of the account shows of it, pushed to them when it changes.
    const state = new AccountState(Date.now, onListenerError);
    scheduler.onBudgetChange((budget) => state.pace(budget.stretch, budget.alertsStretch, budget.reason));

    // ${LEAPCRAFT_BASE_URL} and ${LEAPCRAFT_API_KEY} (every example's account) with the variable
    // not set: said so, rather than a URL refused or a key the API refuses.
    const unsetUrl = unsetEnvVariable(def.baseUrl);
    const unsetKey = unsetEnvVariable(node.credentials?.apiKey);
    try {
      if (unsetUrl) {
        throw new LeapcraftError('LEAPCRAFT_INVALID_INPUT', RED._('leapcraft-config.errors.envUnset', { name: unsetUrl, setting: RED._('leapcraft-config.label.baseUrl') }), { field: 'env' });
      }
      const apiKey = unsetKey ? undefined : node.credentials?.apiKey?.trim();
      const redisUrl = redisUrlSetting(def.redisUrl);
      if (redisUrl && apiKey) {
        const baseUrl = validateBaseUrl(def.baseUrl || DEFAULT_BASE_URL);
        shared = shareAccount({
          url: redisUrl, password: node.credentials?.redisPassword, baseUrl, apiKey, state,
          onWarning: (m) => node.warn(m),
          onRole: (role, fence) => node.log(RED._(`leapcraft-config.log.${role}`, { fence })),
          onFollowing: () => { client?.adoptSharedToken().catch(() => undefined); },
        });
        node.log(RED._('leapcraft-config.log.shared', { url: redactRedisUrl(redisUrl) }));
      }
      client = new LeapcraftClient({
        baseUrl: def.baseUrl || undefined,
        apiKey,
        concurrency: concurrencySetting(def.concurrency),
        timeoutMs: timeoutMsSetting(def.timeout),
        // A full deploy restarts this node: the account's token outlives it (in memory only).
        shareToken: true,
        onWarning: (message) => node.warn(message),
        // The account's request budget learns from the API: each 429, and its rate-limit headers.
        onRateLimited: () => {
          scheduler.noteRateLimited();
          state.rateLimitedUntil(Date.now() + (client?.rateLimitRemainingMs() ?? 0));
        },
        onRateLimit: (info) => scheduler.noteApiLimit(info),
        onKeyState: (refusal) => state.keyRefused(refusal),
        tokenStore: shared?.tokens,
      });
      scheduler.setBudget(budgetSetting(def.budget));
      if (shared) shared.coordinator.attach(scheduler);
      else scheduler.setFetching(true);
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
    node.register = (user, listener) => state.register(user, listener);
    node.acting = () => shared?.coordinator.acting() ?? true;
    node.alertRelay = (nodeId) => shared?.coordinator.alertRelay(nodeId);
    node.deregister = (user) => state.deregister(user);

    node.on('close', (_removed: boolean, done: () => void) => {
      // Stops every poll, aborts in-flight requests and pending retries, clears their
      // timers and frees the sockets.
      scheduler.close();
      shared?.close();
      state.close();
      client?.close();
      done();
    });
  }

  RED.nodes.registerType<LeapcraftAccount, LeapcraftConfigDef, unknown, LeapcraftCredentials>(
    'leapcraft-config',
    LeapcraftConfigNode as never,
    { credentials: { apiKey: { type: 'password' }, redisPassword: { type: 'password' } } },
  );
};
