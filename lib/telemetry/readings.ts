/**
 * Turning telemetry objects into what charts, gauges and change detection need, without
 * assuming more of the API's shape than the docs show: a single point
 * (`{timestamp, data: {...}}`) or, for averages, a series of such points.
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

function points(value: unknown): TelemetryReading[] {
  if (Array.isArray(value)) return value.filter((p): p is TelemetryReading => !!p && typeof p === 'object');
  if (value && typeof value === 'object') return [value as TelemetryReading];
  return [];
}

function timeOf(point: TelemetryReading, fallback: number): number {
  return parseApiTime(point.timestamp) ?? parseApiTime(point.created_at) ?? fallback;
}

/**
 * One entry per numeric reading. `data.meta` is information about the sensor, not a
 * reading; non-numeric values are skipped rather than turned into NaN.
 */
export function extractMetrics(value: unknown, now: number = Date.now()): Metric[] {
  const out: Metric[] = [];
  for (const point of points(value)) {
    const data = point.data;
    if (!data || typeof data !== 'object' || Array.isArray(data)) continue;
    const timestamp = timeOf(point, now);
    for (const [metric, raw] of Object.entries(data)) {
      if (metric === 'meta') continue;
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
