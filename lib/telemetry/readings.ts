/**
 * Turning telemetry objects into what charts, gauges and change detection need, without
 * assuming more of the API's shape than the docs show. Servers may answer (docs/API.md) one
 * point, an array of points or an envelope `{data: [points]}`; a point's readings may sit
 * under `data` or beside its `timestamp`.
 */
import { createHash } from 'node:crypto';
import { parseApiTime } from '../api/time';
import { TelemetryReading } from '../api/types';

export interface Metric {
  metric: string;
  value: number;
  /** Epoch milliseconds of the reading (or of the average's bucket). */
  timestamp: number;
  unit?: string;
}

/** Units of the readings the Leapcraft sensors are known to send. */
export const METRIC_UNITS: Record<string, string> = {
  co2: 'ppm',
  temperature: '°C',
  humidity: '%',
  pm2_5: 'µg/m³',
  pm10: 'µg/m³',
  noise: 'dB(A)',
  battery: '%',
};

/** A point's fields that describe it rather than measure something (flat points). */
const POINT_FIELDS = new Set([
  'physical_id', 'timestamp', 'created_at', 'updated_at', 'time', 'date', 'from', 'to', 'start', 'end',
  'resolution', 'type', 'id', 'serial', 'name', 'topology_id', 'gateway_id', 'meta', 'count', 'samples',
]);

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** The points of a telemetry answer: one point, an array of points, or `{data: [points]}`. */
export function telemetryPoints(value: unknown): TelemetryReading[] {
  if (Array.isArray(value)) return value.filter(isObject) as TelemetryReading[];
  if (!isObject(value)) return [];
  if (Array.isArray(value.data)) return value.data.filter(isObject) as TelemetryReading[];
  return [value as TelemetryReading];
}

/**
 * A point's readings by name: its `data` object, or (a flat point) its own numeric fields
 * beside the ones that describe it. `meta` is information about the sensor, never a reading.
 */
export function pointReadings(point: TelemetryReading): Record<string, unknown> {
  const source = isObject(point.data) ? point.data : undefined;
  const out: Record<string, unknown> = {};
  if (source) {
    for (const [key, value] of Object.entries(source)) if (key !== 'meta') out[key] = value;
    return out;
  }
  for (const [key, value] of Object.entries(point)) {
    if (!POINT_FIELDS.has(key) && typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

/** What an answer looked like, by its keys and types only (no values): for a warning. */
export function describeTelemetryShape(value: unknown): string {
  const keysOf = (o: Record<string, unknown>) => `{${Object.keys(o).slice(0, 8).join(', ')}${Object.keys(o).length > 8 ? ', …' : ''}}`;
  if (Array.isArray(value)) {
    const first = value.find(isObject);
    return value.length === 0 ? 'an empty array' : `an array of ${value.length} (first ${first ? keysOf(first) : typeof value[0]})`;
  }
  if (isObject(value)) return Array.isArray(value.data) ? `{data: [${value.data.length}]} with ${keysOf(value)}` : `an object ${keysOf(value)}`;
  return value === null ? 'null' : typeof value;
}

function timeOf(point: TelemetryReading, fallback: number): number {
  return parseApiTime(point.timestamp) ?? parseApiTime(point.created_at) ?? fallback;
}

/**
 * One entry per numeric reading, whatever the answer's shape; non-numeric values are
 * skipped rather than turned into NaN.
 */
export function extractMetrics(value: unknown, now: number = Date.now()): Metric[] {
  const out: Metric[] = [];
  for (const point of telemetryPoints(value)) {
    const timestamp = timeOf(point, now);
    for (const [metric, raw] of Object.entries(pointReadings(point))) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
      if (!Number.isFinite(n)) continue;
      const unit = METRIC_UNITS[metric];
      out.push(unit ? { metric, value: n, timestamp, unit } : { metric, value: n, timestamp });
    }
  }
  return out;
}

/** JSON with sorted keys: the same content always gives the same text. */
export function stableStringify(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'undefined';
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(',')}]`;
  const keys = Object.keys(value as Record<string, unknown>).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function fingerprint(value: unknown): string {
  return createHash('sha1').update(stableStringify(value)).digest('hex');
}

/**
 * What identifies a reading for "only on change": its time and values. `created_at`
 * (when the API stored it) is left out, so a re-stored identical reading is no change.
 */
export function readingFingerprint(value: unknown): string {
  const strip = (p: unknown) => {
    if (!p || typeof p !== 'object' || Array.isArray(p)) return p;
    const { created_at: _ignored, ...rest } = p as Record<string, unknown>;
    return rest;
  };
  return fingerprint(Array.isArray(value) ? value.map(strip) : strip(value));
}

/**
 * Answers that held no reading the node can read (a shape no server was thought to send):
 * each shape is reported once, so a user learns of it without a warning at every poll.
 */
export class UnreadableAnswers {
  private readonly reported = new Set<string>();

  /** Undefined when `value` has readings; else its shape, and whether this is the first time. */
  check(value: unknown): { shape: string; first: boolean } | undefined {
    if (extractMetrics(value).length > 0) return undefined;
    const shape = describeTelemetryShape(value);
    const first = !this.reported.has(shape);
    if (first && this.reported.size < 100) this.reported.add(shape);
    return { shape, first };
  }
}

/** The time of a latest reading (its first point's `timestamp`), for cadence-aware polling. */
export function readingTime(value: unknown): number | undefined {
  const point = telemetryPoints(value)[0];
  return point ? parseApiTime(point.timestamp) ?? parseApiTime(point.created_at) : undefined;
}

/** True for a flat point's fields that describe the point (its id, times, `meta`, …) rather than measure something. */
export function describesPoint(key: string): boolean {
  return POINT_FIELDS.has(key);
}
