/**
 * Readings as points for a time-series database, in the shape node-red-contrib-influxdb's
 * batch node writes: `{measurement, tags, fields, timestamp}`. The time is the reading's own,
 * never the time it was fetched, and the tags say only who measured (they do not change from
 * reading to reading), so writing the same reading again is the same point: InfluxDB keeps
 * one, a SQL table with a (device, time) key refuses the second.
 */
import { parseApiTime } from '../api/time';
import { Device, TelemetryReading } from '../api/types';
import { CONTROL_CHARS } from '../api/validation';
import { describesPoint, telemetryPoints } from '../telemetry/readings';
import { HistoryTag } from './settings';

export interface HistoryPoint {
  measurement: string;
  tags: Record<string, string>;
  /** Numbers only: a field whose type changed between writes would be refused by InfluxDB. */
  fields: Record<string, number>;
  timestamp: Date;
}

/** The points of one answer, and what could not be written. */
export interface ShapedPoints {
  points: HistoryPoint[];
  /** Values left out: `meta`, anything not a number, names a tag or the time already use. */
  skipped: number;
  /** Points without a time of their own (no `timestamp`, no `created_at`): not written. */
  undated: number;
}

/** A decimal number as text ("21.5", "-3", "1e3"): what a server that sends numbers as strings sends. */
const DECIMAL = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$/;

/** The number a reading's value stands for, or undefined when it is not one. */
export function numericValue(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (!DECIMAL.test(text)) return undefined;
  const n = Number(text);
  return Number.isFinite(n) ? n : undefined;
}

/** Longer tag values are cut: a tag is a label, and InfluxDB keeps every distinct one in memory. */
const MAX_TAG_LENGTH = 256;
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, 'g');

/** A tag value from the API: text without control characters (a newline would end InfluxDB's line), or none. */
function tagValue(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') return undefined;
  const text = value.replace(CONTROL_CHARS_ALL, ' ').trim().slice(0, MAX_TAG_LENGTH);
  return text === '' ? undefined : text;
}

/** The chosen tags of a device; a tag the device list does not give is left out. */
export function deviceTags(id: string, device: Device | undefined, chosen: readonly HistoryTag[]): Record<string, string> {
  const source: Record<HistoryTag, unknown> = { device: id, name: device?.name, model: device?.type, gateway: device?.topology_id };
  const tags: Record<string, string> = {};
  for (const tag of chosen) {
    const value = tagValue(source[tag]);
    if (value !== undefined) tags[tag] = value;
  }
  return tags;
}

/**
 * A point's numeric values by name: its `data` (nested readings) or its own fields beside
 * those that describe it (flat readings). `reserved` names are left out: the time and the
 * tags, whose columns and keys they would collide with.
 */
export function pointFields(point: TelemetryReading, reserved: ReadonlySet<string>): { fields: Record<string, number>; skipped: number } {
  const nested = point.data !== null && typeof point.data === 'object' && !Array.isArray(point.data);
  const source = nested ? (point.data as Record<string, unknown>) : point;
  const fields: Record<string, number> = {};
  let skipped = 0;
  for (const [key, value] of Object.entries(source)) {
    if (!nested && describesPoint(key) && key !== 'meta') continue;
    const n = key === 'meta' || reserved.has(key) ? undefined : numericValue(value);
    if (n === undefined) skipped++;
    else fields[key] = n;
  }
  return { fields, skipped };
}

/** When a point was measured: its `timestamp`, else when the API stored it. */
export function pointTime(point: TelemetryReading): number | undefined {
  return parseApiTime(point.timestamp) ?? parseApiTime(point.created_at);
}

/** Field names a point may not use: the time, and every tag name. */
export function reservedNames(chosen: readonly HistoryTag[]): ReadonlySet<string> {
  return new Set<string>(['time', ...chosen]);
}

export interface PointTarget {
  id: string;
  device: Device | undefined;
  tags: readonly HistoryTag[];
  measurement: string;
}

/**
 * The points of a telemetry answer (one point, an array, `{data: [...]}`), each at its own time;
 * a point without one is at `fallbackTime` when given, else left out (counted in `undated`).
 */
export function answerPoints(value: unknown, target: PointTarget, fallbackTime?: number): ShapedPoints {
  const tags = deviceTags(target.id, target.device, target.tags);
  const reserved = reservedNames(target.tags);
  const out: ShapedPoints = { points: [], skipped: 0, undated: 0 };
  for (const point of telemetryPoints(value)) {
    const { fields, skipped } = pointFields(point, reserved);
    out.skipped += skipped;
    const time = pointTime(point) ?? fallbackTime;
    if (time === undefined) {
      out.undated++;
      continue;
    }
    // InfluxDB has no point without a field; a point of only `meta` is nothing to write.
    if (Object.keys(fields).length > 0) out.points.push({ measurement: target.measurement, tags: { ...tags }, fields, timestamp: new Date(time) });
  }
  return out;
}
