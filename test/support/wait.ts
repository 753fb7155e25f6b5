/**
 * Waiting in tests: for an event (`waitFor`, which polls a condition), not for a time. A busy
 * machine stretches every time, so a test that sleeps and then counts breaks there; one that
 * waits for what must happen does not. `sleep` is for the few waits that are not a count: each
 * caller says why in a comment.
 */

/** Resolves after `ms` of (real, or faked while a fake clock is installed) time. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once `check` holds (it may be async), looking every `everyMs`; fails with `what` after
 * `timeoutMs`, a bound for a failure, not a figure the test measures.
 */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string, everyMs = 10): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}
