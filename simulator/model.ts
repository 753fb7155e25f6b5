/**
 * The sensor model: what a device reads at a given instant. Readings are a pure function of
 * (device, time, seed), so any reading can be recomputed at will (latest, averages, alert
 * evaluation all agree) and nothing has to be stored.
 *
 * The building runs on UTC: people arrive at 08:00, leave at 18:00, Monday to Friday.
 */
import type { SimDevice } from './data';
import { meetingCo2, type MeetingPlan } from './meetings';
import { hashInts, signedUnit, unit } from './random';
import { bucketStart, DAY, HOUR, isoUtc, MINUTE, nextBucketStart, SECOND } from './time';
import type { AverageBucket, AveragesObject, LatestTelemetry, Readings, ReadingsWithMeta, Resolution } from './types';

export interface ModelParams {
  seed: number;
  reportIntervalMs: number;
  /** Each report comes up to this long after its slot (ms, uniform, seeded per device and report); default 0. */
  reportJitterMs?: number;
  /** The share of reports that never come (seeded per device and report); default 0. */
  lossRate?: number;
  /** Meetings that fill rooms at any hour (simulator option meetingEveryMs); none when absent. */
  meetings?: MeetingPlan;
}

/** How far back a report is looked for among lost ones: a loss rate near 1 must not loop for long. */
const MAX_LOST_IN_A_ROW = 200;

/** CO2 of well-ventilated outdoor-like air, where every room settles at night. */
const BASELINE_CO2 = 420;
/** CO2 rise of a room at full occupancy. */
const PEAK_CO2_RISE = 950;

const CHANNEL = { co2: 1, temperature: 2, humidity: 3, pm2_5: 4, noise: 5, rssi: 6 } as const;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}

/** Per-second jitter in [-1, 1): a sensor's measurement noise. */
function jitter(seed: number, device: SimDevice, channel: number, t: number): number {
  return signedUnit(hashInts(seed, device.index, channel, Math.floor(t / SECOND)));
}

/** Smooth value noise in [-1, 1): slow drift with knots every `scaleMs`. */
function drift(seed: number, device: SimDevice, channel: number, t: number, scaleMs: number): number {
  const k = Math.floor(t / scaleMs);
  const f = t / scaleMs - k;
  const a = signedUnit(hashInts(seed, device.index, channel, k, 0xd1f7));
  const b = signedUnit(hashInts(seed, device.index, channel, k + 1, 0xd1f7));
  const s = f * f * (3 - 2 * f);
  return a + (b - a) * s;
}

/**
 * Share of the room's capacity in use (0..1, before the room's own `busy` factor): people arrive
 * from 08:00, CO2-wise the room fills with a 2.5 h time constant, dips over lunch and airs out
 * after 18:00 with a 1.2 h time constant. Weekends are empty.
 */
export function occupancy(t: number): number {
  const date = new Date(t);
  const dow = date.getUTCDay();
  if (dow === 0 || dow === 6) return 0;
  const h = (((t % DAY) + DAY) % DAY) / HOUR;
  const rise = (x: number): number => 1 - Math.exp(-(x - 8) / 2.5);
  if (h < 8) return 0;
  if (h < 18) {
    const lunchDip = 1 - 0.2 * Math.exp(-((h - 12.5) ** 2) / 0.5);
    return rise(h) * lunchDip;
  }
  return rise(18) * Math.exp(-(h - 18) / 1.2);
}

/** Unrounded readings at instant t. */
function rawReadings(device: SimDevice, t: number, seed: number, meetings?: MeetingPlan): Readings {
  const occ = occupancy(t) * device.busy;
  const own = BASELINE_CO2 + PEAK_CO2_RISE * occ + 8 * drift(seed, device, CHANNEL.co2, t, 20 * MINUTE) + 4 * jitter(seed, device, CHANNEL.co2, t);
  const temperature = clamp(
    21.2 + 1.1 * drift(seed, device, CHANNEL.temperature, t, 6 * HOUR) + 1.4 * occ + 0.1 * jitter(seed, device, CHANNEL.temperature, t),
    20,
    24,
  );
  const humidity = clamp(
    44 + 7 * drift(seed, device, CHANNEL.humidity, t, 12 * HOUR) + 4 * occ + 0.4 * jitter(seed, device, CHANNEL.humidity, t),
    35,
    55,
  );
  const meeting = meetingCo2(meetings, device.index, t);
  const co2 = meeting === undefined ? own : Math.max(own, meeting + 4 * jitter(seed, device, CHANNEL.co2, t));
  const readings: Readings = { temperature, humidity, co2: Math.max(380, co2) };
  if (device.item.type === 'ambinode') {
    readings.pm2_5 = clamp(5.5 + 3.5 * drift(seed, device, CHANNEL.pm2_5, t, 3 * HOUR) + 4 * occ + 0.3 * jitter(seed, device, CHANNEL.pm2_5, t), 2, 15);
    readings.noise = clamp(33 + 24 * occ + 2 * drift(seed, device, CHANNEL.noise, t, 30 * MINUTE) + jitter(seed, device, CHANNEL.noise, t), 30, 60);
  } else {
    // A battery lasts about two years and is then swapped; each device is somewhere in that cycle.
    const cycleDays = 700;
    const age = (((t / DAY + (device.phaseSeed % cycleDays)) % cycleDays) + cycleDays) % cycleDays;
    readings.battery = 100 - (97 * age) / cycleDays;
  }
  return readings;
}

/** Rounds as a real sensor reports: one decimal, CO2 and battery as integers. */
function rounded(r: Readings): Readings {
  const out: Readings = { temperature: round1(r.temperature), humidity: round1(r.humidity), co2: Math.round(r.co2) };
  if (r.pm2_5 !== undefined) out.pm2_5 = round1(r.pm2_5);
  if (r.noise !== undefined) out.noise = round1(r.noise);
  if (r.battery !== undefined) out.battery = Math.round(r.battery);
  return out;
}

/**
 * The instant of the device's most recent report at or before `now`. Report k is due at its slot
 * (the device's phase + k periods); with `reportJitterMs` it comes up to that long after it, and
 * with `lossRate` some never come (the previous reading stays the latest). Both are drawn from
 * (seed, device, k), so a run repeats and every request within one report agrees.
 */
export function reportInstant(device: SimDevice, now: number, params: ModelParams): number {
  const period = params.reportIntervalMs;
  const periodSeconds = Math.floor(period / SECOND);
  const phase = periodSeconds > 0 ? (device.phaseSeed % periodSeconds) * SECOND : 0;
  // Below one period, so reports never overtake each other.
  const jitter = Math.min(Math.max(0, params.reportJitterMs ?? 0), period - 1);
  const loss = params.lossRate ?? 0;
  let k = Math.floor((now - phase) / period);
  for (let back = 0; back < MAX_LOST_IN_A_ROW; back++, k--) {
    if (loss > 0 && unit(hashInts(params.seed, device.index, k, 0x1055)) < loss) continue;
    const at = k * period + phase + jitterOf(params.seed, device, k, jitter);
    if (at <= now) return at;
  }
  return Math.floor((now - phase) / period) * period + phase;
}

/** How late report k comes: whole seconds when the jitter spans a second or more, as sensors stamp their readings. */
function jitterOf(seed: number, device: SimDevice, k: number, jitter: number): number {
  if (jitter <= 0) return 0;
  const late = unit(hashInts(seed, device.index, k, 0x7177)) * jitter;
  return jitter >= SECOND ? Math.floor(late / SECOND) * SECOND : Math.floor(late);
}

function readingMeta(device: SimDevice, t: number, seed: number): Record<string, unknown> {
  return { firmware: device.firmware, rssi: device.rssi + Math.round(2 * jitter(seed, device, CHANNEL.rssi, t)) };
}

/** Readings as of the device's last report: identical for every request within one report period. */
export function latestTelemetry(device: SimDevice, now: number, params: ModelParams): LatestTelemetry {
  const t = reportInstant(device, now, params);
  const data: ReadingsWithMeta = { ...rounded(rawReadings(device, t, params.seed, params.meetings)), meta: readingMeta(device, t, params.seed) };
  return {
    physical_id: device.item.physical_id,
    timestamp: isoUtc(t),
    data,
    created_at: isoUtc(t + 2 * SECOND),
  };
}

/** Sample points per full bucket: hourly for a day, 4-hourly for a week, 12-hourly for a month. */
const SAMPLES_PER_BUCKET: Record<Resolution, number> = { daily: 24, weekly: 42, monthly: 60 };

export type AveragesResult = { ok: true; buckets: AverageBucket[] } | { ok: false; buckets: number };

/**
 * Averages per day / ISO week / calendar month over [from, to]. Each bucket averages a handful
 * of evenly spread instants of the part of it inside [from, to] and not in the future; buckets
 * wholly in the future are left out, as a real API has no data for them. Refuses (ok: false)
 * when more than `maxBuckets` buckets overlap the range, so a huge range cannot hang the server.
 */
export function averages(
  device: SimDevice,
  from: number,
  to: number,
  resolution: Resolution,
  now: number,
  params: ModelParams,
  maxBuckets: number,
): AveragesResult {
  const starts: number[] = [];
  for (let start = bucketStart(from, resolution); start <= to; start = nextBucketStart(start, resolution)) {
    starts.push(start);
    if (starts.length > maxBuckets) return { ok: false, buckets: starts.length };
  }
  const buckets: AverageBucket[] = [];
  for (const start of starts) {
    const end = nextBucketStart(start, resolution);
    const lo = Math.max(start, from);
    const hi = Math.min(end, to, now);
    if (lo > hi) continue;
    const n = Math.max(1, Math.round((SAMPLES_PER_BUCKET[resolution] * (hi - lo)) / (end - start)));
    const sum: Required<Readings> = { temperature: 0, humidity: 0, co2: 0, pm2_5: 0, noise: 0, battery: 0 };
    let r: Readings = rawReadings(device, lo, params.seed, params.meetings);
    for (let k = 0; k < n; k++) {
      r = rawReadings(device, lo + ((k + 0.5) * (hi - lo)) / n, params.seed, params.meetings);
      sum.temperature += r.temperature;
      sum.humidity += r.humidity;
      sum.co2 += r.co2;
      sum.pm2_5 += r.pm2_5 ?? 0;
      sum.noise += r.noise ?? 0;
      sum.battery += r.battery ?? 0;
    }
    const avg: Readings = { temperature: sum.temperature / n, humidity: sum.humidity / n, co2: sum.co2 / n };
    if (r.pm2_5 !== undefined) avg.pm2_5 = sum.pm2_5 / n;
    if (r.noise !== undefined) avg.noise = sum.noise / n;
    if (r.battery !== undefined) avg.battery = sum.battery / n;
    buckets.push({
      physical_id: device.item.physical_id,
      resolution,
      timestamp: isoUtc(start),
      from: isoUtc(lo),
      to: isoUtc(hi),
      data: { ...rounded(avg), meta: { firmware: device.firmware } },
      samples: n,
    });
  }
  return { ok: true, buckets };
}

const READING_KEYS = ['temperature', 'humidity', 'co2', 'pm2_5', 'noise', 'battery'] as const;

/**
 * The 'object' averages dialect: the buckets of one request folded into one point for the whole
 * range, each reading averaged over the buckets weighted by their samples and rounded as a sensor
 * reports. No buckets (the range lies wholly in the future): no readings, an empty meta.
 */
export function averagesObject(physicalId: string, buckets: readonly AverageBucket[], from: number, now: number): AveragesObject {
  const total = buckets.reduce((n, b) => n + b.samples, 0);
  if (buckets.length === 0 || total === 0) {
    return { physical_id: physicalId, timestamp: isoUtc(from), data: { meta: {} }, created_at: isoUtc(now) };
  }
  const sums: Partial<Record<(typeof READING_KEYS)[number], number>> = {};
  for (const b of buckets) {
    for (const key of READING_KEYS) {
      const v = b.data[key];
      if (v !== undefined) sums[key] = (sums[key] ?? 0) + v * b.samples;
    }
  }
  const avg: Readings = { temperature: (sums.temperature ?? 0) / total, humidity: (sums.humidity ?? 0) / total, co2: (sums.co2 ?? 0) / total };
  if (sums.pm2_5 !== undefined) avg.pm2_5 = sums.pm2_5 / total;
  if (sums.noise !== undefined) avg.noise = sums.noise / total;
  if (sums.battery !== undefined) avg.battery = sums.battery / total;
  const last = buckets[buckets.length - 1] as AverageBucket;
  return {
    physical_id: physicalId,
    timestamp: isoUtc(from),
    data: { ...rounded(avg), meta: structuredClone(last.data.meta) },
    created_at: isoUtc(now),
  };
}
