/**
 * Off-round checks ordered by time, then by the keys' order of joining: the earliest is read in
 * O(log n) instead of asking every key after every answer. Items go stale rather than being
 * removed (a key's `dueGen` moves on whenever its item is replaced or dropped); whoever reads the
 * top checks it against the key.
 */

/** What the heap needs of a key. */
export interface DueKey {
  /** Order of joining its group: ties go to the key that joined first. */
  seq: number;
  /** Bumped whenever the key's item is replaced or dropped. */
  dueGen: number;
}

export interface DueItem<K extends DueKey> {
  at: number;
  seq: number;
  key: K;
  gen: number;
}

export class DueHeap<K extends DueKey> {
  private readonly items: Array<DueItem<K>> = [];

  get size(): number {
    return this.items.length;
  }

  peek(): DueItem<K> | undefined {
    return this.items[0];
  }

  clear(): void {
    this.items.length = 0;
  }

  /** Replaces the key's item: the one it had goes stale. */
  schedule(key: K, at: number): void {
    key.dueGen++;
    if (at < Infinity) this.push({ at, seq: key.seq, key, gen: key.dueGen });
  }

  /** True while `item` is its key's current one. */
  static current<K extends DueKey>(item: DueItem<K>): boolean {
    return item.gen === item.key.dueGen;
  }

  push(item: DueItem<K>): void {
    const items = this.items;
    let i = items.length;
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(item, items[parent]!)) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = item;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && before(items[right]!, items[left]!) ? right : left;
      if (!before(items[child]!, last)) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
  }
}

function before<K extends DueKey>(a: DueItem<K>, b: DueItem<K>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
