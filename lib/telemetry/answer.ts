/**
 * Finding the reading in a telemetry answer. The docs' sample is the point itself:
 * `{physical_id, timestamp, data: {temperature, …, meta}, created_at}` (its `data` holds the
 * readings). Servers that keep to every word of the docs may also wrap it: in an array of one,
 * or under `data`, `result` or `reading` (`{data: {physical_id, timestamp, data: {…}}}`), and
 * averages likewise (docs/API.md). The client hands on what is found here, so every flow, the
 * metric mode and the history find the reading where the docs put it.
 */
import { pointReadings } from './readings';
import { parseApiTime } from '../api/time';
import { TelemetryReading } from '../api/types';

/** Keys a server may wrap a point (or a list of them) under, in the order looked at. */
export const WRAPPER_KEYS = ['data', 'result', 'reading'] as const;
export type WrapperKey = (typeof WRAPPER_KEYS)[number];

/** One step from the answer to the reading: the only (or newest) item of an array, or a wrapper key. */
export type WrapStep = 'array' | WrapperKey;

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Fields only a point has (a wrapper has none of them). */
const POINT_MARKS = ['physical_id', 'timestamp', 'created_at'] as const;

const marked = (o: Record<string, unknown>): boolean => POINT_MARKS.some((k) => o[k] !== undefined);

/** A point's readings hold a number (as the sample's `data`, or beside `timestamp`). */
const hasNumbers = (o: Record<string, unknown>): boolean =>
  Object.values(pointReadings(o as TelemetryReading)).some((v) => typeof v === 'number' && Number.isFinite(v));

/** Wrappers are looked through this deep at most: an answer is never nested further by any server seen. */
const MAX_DEPTH = 4;

export interface Found<T> {
  value: T;
  /** How it was wrapped, outermost first; empty for the point itself. */
  via: WrapStep[];
}

/**
 * The wrapper key of `o` holding what a point (or list) must be looked for in, if `o` is a
 * wrapper. The sample's own `data` holds readings, not a point, so a key counts only when `o`
 * itself is not a point: no id or times of its own, and (for a key holding an object that is
 * not marked as a point either) no readings of its own.
 */
function wrapperKey(o: Record<string, unknown>): WrapperKey | undefined {
  if (marked(o)) return undefined;
  for (const key of WRAPPER_KEYS) {
    const inner = o[key];
    if (Array.isArray(inner) || (isObject(inner) && marked(inner))) return key;
  }
  if (hasNumbers(o)) return undefined;
  return WRAPPER_KEYS.find((key) => isObject(o[key]));
}

const timeOf = (p: TelemetryReading): number => parseApiTime(p.timestamp) ?? parseApiTime(p.created_at) ?? -Infinity;

/** What was found inside a wrapper, with the wrapper's step in front. */
const within = <T>(step: WrapStep, inner: Found<T> | undefined): Found<T> | undefined => inner && { value: inner.value, via: [step, ...inner.via] };

/** An object: a wrapper looked through with `find`, or the point itself, or nothing readable. */
function inObject<T>(o: Record<string, unknown>, depth: number, find: (v: unknown, depth: number) => Found<T> | undefined): Found<T> | undefined {
  const key = wrapperKey(o);
  if (key !== undefined) return within(key, find(o[key], depth + 1));
  return marked(o) || hasNumbers(o) ? { value: o as T, via: [] } : undefined;
}

/**
 * The latest reading in an answer: the point itself, the only item of an array (the newest by
 * its time when there are several), or the point under `data`, `result` or `reading`.
 * Undefined when there is none: an empty array, an object that is neither point nor wrapper.
 */
export function findLatestReading(body: unknown, depth = 0): Found<TelemetryReading> | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(body)) {
    const found = body.map((item) => findLatestReading(item, depth + 1)).filter((f): f is Found<TelemetryReading> => f !== undefined);
    if (found.length === 0) return undefined;
    return within('array', found.reduce((a, b) => (timeOf(b.value) > timeOf(a.value) ? b : a)));
  }
  return isObject(body) ? inObject(body, depth, findLatestReading) : undefined;
}

/**
 * The averages in an answer: an array of points as it came, one point (the docs' sample shape
 * for the whole range), or either of them wrapped like a latest reading (`{data: [...]}`
 * included). An empty array is an answer (no data in the range); undefined when there is none.
 */
export function findAverages(body: unknown, depth = 0): Found<TelemetryReading | TelemetryReading[]> | undefined {
  if (depth > MAX_DEPTH) return undefined;
  if (Array.isArray(body)) {
    // An array of one wrapped point, [{data: {…}}], is the point wrapped; an array of points stays one.
    if (body.length === 1 && isObject(body[0]) && wrapperKey(body[0]) !== undefined) return within('array', findAverages(body[0], depth + 1));
    return { value: body.filter(isObject) as TelemetryReading[], via: [] };
  }
  return isObject(body) ? inObject(body, depth, findAverages) : undefined;
}
