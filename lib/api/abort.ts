/** Small helpers around AbortSignal, so every wait in the client can be cancelled on close. */

export function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new Error('aborted');
}

/** Resolves after `ms`, or rejects with the signal's reason as soon as it aborts; never leaves a timer behind. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * Runs `fn` once when `signal` aborts; returns how to stop listening. However many callbacks a
 * signal has, it carries one listener of ours: the callbacks sit in a Set, so adding and
 * removing one costs O(1). (A thousand devices of one msg each listening on the msg's signal
 * with addEventListener cost O(n) per removal, and an EventTarget listener is slow to add.)
 * Callbacks run in the order they were added; one that throws does not stop the others, and
 * its error is thrown asynchronously, as an EventTarget listener's would be.
 */
export function onAbort(signal: AbortSignal, fn: () => void): () => void {
  let hub = hubs.get(signal);
  if (!hub) {
    const callbacks = new Set<() => void>();
    hub = callbacks;
    hubs.set(signal, callbacks);
    signal.addEventListener('abort', () => {
      hubs.delete(signal);
      for (const callback of callbacks) {
        try {
          callback();
        } catch (err) {
          process.nextTick(() => { throw err; });
        }
      }
      callbacks.clear();
    }, { once: true });
  }
  const callbacks = hub;
  // Each registration is its own entry, even of a function already registered.
  const entry = callbacks.has(fn) ? () => fn() : fn;
  callbacks.add(entry);
  return () => { callbacks.delete(entry); };
}

const hubs = new WeakMap<AbortSignal, Set<() => void>>();

/** Settles with `promise`, or rejects early when `signal` aborts (the promise itself goes on). */
export function raceAbort<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const off = onAbort(signal, () => reject(abortReason(signal)));
    promise.then(
      (v) => { off(); resolve(v); },
      (e) => { off(); reject(e); },
    );
  });
}

/**
 * One signal that aborts when any of `signals` does. AbortSignal.any is missing from
 * the older Node versions this package still supports (>= 18.5). The returned dispose
 * removes the listeners once the combined signal is no longer needed.
 */
export function anySignal(signals: Array<AbortSignal | undefined>): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  const offs: Array<() => void> = [];
  const dispose = () => {
    for (const off of offs) off();
    offs.length = 0;
  };
  for (const s of signals) {
    if (s === undefined) continue;
    if (s.aborted) {
      controller.abort(s.reason);
      dispose();
      break;
    }
    offs.push(onAbort(s, () => {
      controller.abort(s.reason);
      dispose();
    }));
  }
  return { signal: controller.signal, dispose };
}
