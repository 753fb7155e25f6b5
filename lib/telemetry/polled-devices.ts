/**
 * The devices a node polls, kept in step with the device list: a device that leaves the
 * list stops being polled, a new one starts, and the others keep their subscription (and
 * with it their place in the scheduler's round).
 */

/** Told of each change, so an array round under way knows whom to wait for. */
export interface PolledDevicesObserver {
  joined(id: string): void;
  left(id: string): void;
}

export class PolledDevices {
  private readonly subscriptions = new Map<string, () => void>();

  /** `subscribe` starts polling a device and returns how to stop. */
  constructor(private readonly subscribe: (id: string) => () => void, private readonly observer?: PolledDevicesObserver) {}

  get size(): number {
    return this.subscriptions.size;
  }

  /** In the order the devices started being polled. */
  ids(): IterableIterator<string> {
    return this.subscriptions.keys();
  }

  /** Polls exactly `ids` from now on. */
  set(ids: string[]): void {
    const wanted = new Set(ids);
    for (const [id, unsubscribe] of this.subscriptions) {
      if (wanted.has(id)) continue;
      unsubscribe();
      this.subscriptions.delete(id);
      this.observer?.left(id);
    }
    for (const id of ids) {
      if (this.subscriptions.has(id)) continue;
      // Before subscribing: a key already polled hands its last value over at once.
      this.observer?.joined(id);
      this.subscriptions.set(id, this.subscribe(id));
    }
  }

  clear(): void {
    for (const unsubscribe of this.subscriptions.values()) unsubscribe();
    this.subscriptions.clear();
  }
}
