/** Summaries of repeated measurements: median and spread, never a single run. */

export interface Spread {
  n: number;
  median: number;
  min: number;
  max: number;
  q1: number;
  q3: number;
}

/** Linear-interpolated quantile of sorted values (q in 0..1). */
function quantile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export function spread(values: number[]): Spread {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    min: sorted[0] ?? NaN,
    max: sorted[sorted.length - 1] ?? NaN,
    q1: quantile(sorted, 0.25),
    q3: quantile(sorted, 0.75),
  };
}

export function round(value: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** "1234 ms (1200–1300)": median and range. */
export function fmtMs(s: Spread, digits = 0): string {
  return `${round(s.median, digits)} ms (${round(s.min, digits)}–${round(s.max, digits)})`;
}

export const MiB = 1024 * 1024;

export function fmtMiB(bytes: number): string {
  return `${round(bytes / MiB, 2)} MiB`;
}
