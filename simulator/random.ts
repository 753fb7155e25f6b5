/**
 * Deterministic randomness. Everything the simulator invents (ids, names, sensor noise) comes
 * from here so that the same seed always yields the same world and the same readings, which is
 * what lets tests assert on concrete values without recording fixtures.
 */

/** The murmur3 finaliser: a cheap, well-mixing 32-bit integer hash. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const TWO_32 = 0x1_0000_0000;

/**
 * Hashes a list of numbers to an unsigned 32-bit integer. Each number is split into its low and
 * high 32 bits so millisecond timestamps (> 2^32) influence the result fully.
 */
export function hashInts(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const part of parts) {
    const v = Math.floor(part);
    const lo = ((v % TWO_32) + TWO_32) % TWO_32;
    const hi = Math.floor(v / TWO_32);
    h = fmix32((h ^ lo) >>> 0);
    h = fmix32((h + (hi >>> 0) + 0x6d2b79f5) >>> 0);
  }
  return h;
}

/** FNV-1a over UTF-16 code units: a stable number for a string (e.g. a device id). */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Maps a 32-bit hash to [0, 1). */
export function unit(h: number): number {
  return (h >>> 0) / TWO_32;
}

/** Maps a 32-bit hash to [-1, 1). */
export function signedUnit(h: number): number {
  return unit(h) * 2 - 1;
}

/** A small seeded generator (mulberry32) for sequences such as world generation. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    this.state = hashInts(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO_32;
  }

  /** Uniform integer in [min, max], both inclusive. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** Uniform float in [min, max). */
  range(min: number, max: number): number {
    return min + this.next() * (max - min);
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Lowercase hex string of `bytes` random bytes. */
  hex(bytes: number): string {
    let out = '';
    for (let i = 0; i < bytes; i++) out += this.int(0, 255).toString(16).padStart(2, '0');
    return out;
  }

  /** Fisher–Yates shuffle into a new array. */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.next() * (i + 1));
      const tmp = out[i] as T;
      out[i] = out[j] as T;
      out[j] = tmp;
    }
    return out;
  }
}
