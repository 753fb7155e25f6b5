/**
 * What a msg into the air-quality node means: a request for a report, or CO2 readings, from
 * leapcraft-telemetry in any output mode (a device's reading, an array of them, one metric) or
 * from any flow that puts `co2` in `msg.payload` and names the device in `msg.physical_id` or
 * `msg.topic`. Everything is checked; a msg that is neither is refused with
 * LEAPCRAFT_INVALID_INPUT. The other metrics of the metric mode are no error: they pass by.
 */
import { parseApiTime } from '../api/time';
import { invalid, parseDateTime, requireId } from '../api/validation';
import { findLatestReading } from '../telemetry/answer';
import { pointReadings, telemetryPoints } from '../telemetry/readings';
import { AQ_LIMITS } from './settings';
import { HOUR_MS } from './zone';

export interface AqReading {
  device: string;
  /** The device's name when the msg tells it (msg.device from leapcraft-telemetry). */
  name?: string;
  co2: number;
  temperature?: number;
  humidity?: number;
  /** The reading's own time (epoch ms); the time it arrived when it has none. */
  at: number;
  /** msg.outdoorCo2: the outdoor CO2 for this reading (EN 16798-1 counts above it). */
  outdoorCo2?: number;
}

export type AqInput =
  | { kind: 'report'; from?: number; to?: number }
  | { kind: 'readings'; readings: AqReading[] }
  /** Another metric of the telemetry node's metric mode. */
  | { kind: 'ignored' };

export const AQ_MAX_READINGS_PER_MSG = 10_000;
/** 10 % by volume: beyond any sensor's range. */
export const AQ_MAX_CO2 = 100_000;
/** A reading stamped further ahead than this is refused (a clock that is off would hold every later reading back). */
export const AQ_FUTURE_TOLERANCE_MS = HOUR_MS;

type Msg = Record<string, unknown>;
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const given = (v: unknown) => v !== undefined && v !== null;

function number(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value.trim() !== '') return Number(value);
  return undefined;
}

function co2Of(value: unknown, field: string): number {
  const n = number(value);
  if (n === undefined || !Number.isFinite(n) || n < 0 || n > AQ_MAX_CO2) throw invalid(field, `expected a CO2 value in ppm (0 to ${AQ_MAX_CO2}), got ${JSON.stringify(value)}`);
  return n;
}

function optional(value: unknown): number | undefined {
  const n = number(value);
  return n !== undefined && Number.isFinite(n) ? n : undefined;
}

function timeOf(value: unknown, now: number, field: string): number {
  const at = parseApiTime(value) ?? now;
  if (at > now + AQ_FUTURE_TOLERANCE_MS) throw invalid(field, `${new Date(at).toISOString()} lies more than an hour ahead: check the sensor's or this host's clock`);
  return at;
}

/** The device a msg names: msg.physical_id (one id), else msg.topic. */
function msgDevice(msg: Msg): string | undefined {
  const id = typeof msg.physical_id === 'string' || typeof msg.physical_id === 'number' ? msg.physical_id : undefined;
  if (id !== undefined) return requireId(id, 'msg.physical_id');
  return typeof msg.topic === 'string' && msg.topic.trim() !== '' ? requireId(msg.topic, 'msg.topic') : undefined;
}

function nameFor(msg: Msg, id: string, only: boolean): string | undefined {
  const device = msg.device;
  if (!isObject(device) || typeof device.name !== 'string' || device.name.trim() === '') return undefined;
  return device.physical_id === id || (only && device.physical_id === undefined) ? device.name : undefined;
}

function outdoorOf(msg: Msg): number | undefined {
  if (!given(msg.outdoorCo2)) return undefined;
  const n = number(msg.outdoorCo2);
  const { min, max } = AQ_LIMITS.outdoorCo2;
  if (n === undefined || !Number.isFinite(n) || n < min || n > max) throw invalid('msg.outdoorCo2', `expected the outdoor CO2 in ppm (${min} to ${max}), got ${JSON.stringify(msg.outdoorCo2)}`);
  return n;
}

function reportRequest(msg: Msg, now: number): AqInput {
  if (msg.report !== true) throw invalid('msg.report', 'expected true (a report of the time so far, or of msg.from to msg.to)');
  const time = (field: 'from' | 'to') => (given(msg[field]) ? parseDateTime(msg[field], `msg.${field}`, now).getTime() : undefined);
  const from = time('from');
  const to = time('to');
  if (from !== undefined && to !== undefined && from >= to) throw invalid('msg.from', 'must be before msg.to');
  return { kind: 'report', ...(from !== undefined ? { from } : {}), ...(to !== undefined ? { to } : {}) };
}

/** One msg, checked; throws LEAPCRAFT_INVALID_INPUT naming what is wrong. */
export function parseAqInput(msg: Msg, now: number): AqInput {
  if (given(msg.report) && msg.report !== false) return reportRequest(msg, now);
  const outdoorCo2 = outdoorOf(msg);
  const extra = outdoorCo2 !== undefined ? { outdoorCo2 } : {};
  const payload = msg.payload;

  // The metric mode: a number, named by msg.metric.
  if (typeof payload === 'number' || typeof payload === 'string') {
    if (given(msg.metric) && msg.metric !== 'co2') return { kind: 'ignored' };
    const device = msgDevice(msg);
    if (!device) throw invalid('msg.physical_id', 'name the device in msg.physical_id or msg.topic');
    const name = nameFor(msg, device, true);
    const at = timeOf(msg.timestamp, now, 'msg.timestamp');
    return { kind: 'readings', readings: [{ device, ...(name ? { name } : {}), co2: co2Of(payload, 'msg.payload'), at, ...extra }] };
  }
  if (!isObject(payload) && !Array.isArray(payload)) {
    throw invalid('msg.payload', 'expected a reading with co2 (from leapcraft-telemetry, or {co2, temperature, humidity}), an array of readings, or a number');
  }
  // A reading as the API may wrap it ({result: point}, {data: point}) is read where the docs put it.
  const source = isObject(payload) && !Array.isArray(payload.data) ? findLatestReading(payload)?.value ?? payload : payload;
  const points = telemetryPoints(source);
  if (points.length > AQ_MAX_READINGS_PER_MSG) throw invalid('msg.payload', `more than ${AQ_MAX_READINGS_PER_MSG} readings in one msg`);
  const only = points.length === 1;
  const readings: AqReading[] = [];
  points.forEach((point, i) => {
    // pointReadings takes a flat point's numbers only; a flow may send "850" as text.
    const values = isObject(point.data) ? pointReadings(point) : { ...pointReadings(point), co2: point.co2, temperature: point.temperature, humidity: point.humidity };
    if (!given(values.co2)) return;
    const field = only ? 'msg.payload' : `msg.payload[${i}]`;
    const named = given(point.physical_id) ? requireId(point.physical_id, `${field}.physical_id`) : only ? msgDevice(msg) : undefined;
    if (!named) throw invalid(`${field}.physical_id`, 'name the device in the reading\'s physical_id, msg.physical_id or msg.topic');
    const name = nameFor(msg, named, only);
    const temperature = optional(values.temperature);
    const humidity = optional(values.humidity);
    readings.push({
      device: named,
      ...(name ? { name } : {}),
      co2: co2Of(values.co2, `${field}.co2`),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(humidity !== undefined ? { humidity } : {}),
      at: timeOf(point.timestamp ?? point.created_at ?? msg.timestamp, now, `${field}.timestamp`),
      ...extra,
    });
  });
  if (readings.length === 0) throw invalid('msg.payload', 'holds no co2 reading');
  return { kind: 'readings', readings };
}
