/**
 * Root hooks for every test file, loaded by mocha from its configs (.mocharc.json,
 * .mocharc.unit.json). A hook registered at the top level of a shared module would reach only
 * the first file of each of mocha's parallel workers (a module is loaded once per process);
 * a root hook plugin reaches every file, in every worker.
 */
import { forgetSharedTokens } from '../../lib';

export const mochaHooks = {
  // Each test's simulator may get a port an earlier one had, and an account's token is shared
  // across redeploys by base URL and key (lib/api/auth.ts). An earlier simulator's token would
  // then cost one renewal and a replay, which request counts would show.
  afterEach(): void {
    forgetSharedTokens();
  },
};
