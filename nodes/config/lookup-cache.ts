/**
 * A small cache for the editor's look-ups, so a user typing in a picker does not hammer the
 * API: look-ups of the same key while one read is on its way share that read, and its answer
 * is kept for `ttlMs`. A refresh (the picker's button) reads again only an answer older than
 * `minRefreshMs`. At most `maxEntries` answers, the oldest dropped first.
 */
export interface LookupCacheOptions {
  ttlMs: number;
  minRefreshMs: number;
  maxEntries: number;
  now?: () => number;
}

export class LookupCache<T> {
  private readonly entries = new Map<string, { at: number; value: T }>();
  private readonly inFlight = new Map<string, Promise<T>>();
  private readonly now: () => number;

  constructor(private readonly options: LookupCacheOptions) {
    this.now = options.now ?? (() => Date.now());
  }

  /** The cached answer, the read on its way, or a new read (kept once it answers). */
  get(key: string, refresh: boolean, read: () => Promise<T>): Promise<T> {
    const entry = this.fresh(key, refresh);
    if (entry) return Promise.resolve(entry.value);
    let pending = this.inFlight.get(key);
    if (!pending) {
      const reading = read().then((value) => {
        this.set(key, value);
        return value;
      });
      const forget = () => { if (this.inFlight.get(key) === reading) this.inFlight.delete(key); };
      reading.then(forget, forget);
      this.inFlight.set(key, reading);
      pending = reading;
    }
    return pending;
  }

  /** An answer read elsewhere (Test connection reads the device list anyway). */
  set(key: string, value: T): void {
    const now = this.now();
    this.entries.delete(key);
    this.entries.set(key, { at: now, value });
    // In insertion order: the oldest first, so the sweep stops at the first one to keep.
    for (const [k, e] of this.entries) {
      if (this.entries.size <= this.options.maxEntries && now - e.at < this.options.ttlMs) break;
      this.entries.delete(k);
    }
  }

  private fresh(key: string, refresh: boolean): { value: T } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const age = this.now() - entry.at;
    if (age >= this.options.ttlMs) {
      this.entries.delete(key);
      return undefined;
    }
    return refresh && age >= this.options.minRefreshMs ? undefined : entry;
  }
}
