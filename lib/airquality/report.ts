/**
 * The report: for each device and for all of them, over occupied time only, how long the air
 * was in each category, the ppm·hours above the profile's limit, the highest CO2 and when,
 * and how long there was no data. Each reading counts for the time it held (until the next
 * one, at most the gap setting), so a sensor reporting twice as often does not count double.
 */
import { Totals } from './history';
import { AqMonitor } from './monitor';
import { AqCategory } from './profiles';
import { HOUR_MS } from './zone';

export type AqReportKind = 'daily' | 'requested';

export interface AqCategoryTime extends AqCategory {
  hours: number;
  /** Of the occupied time with data (0 … 1). */
  share: number;
}

export interface AqTimeTotals {
  /** Occupied hours with a reading that held. */
  dataHours: number;
  /** Occupied hours without. */
  noDataHours: number;
  categories: AqCategoryTime[];
  /** ∫ (CO2 − limit) dt over occupied time above the limit, ppm·h. */
  ppmHoursAbove: number;
}

export interface AqDeviceReport extends AqTimeTotals {
  device: string;
  name: string;
  max: { co2: number; at: string } | null;
}

export interface AqReport {
  kind: AqReportKind;
  from: string;
  to: string;
  timeZone: string;
  profile: string;
  /** The profile's limit in ppm; above the outdoor CO2 when `limitAboveOutdoor`. */
  limit: number;
  limitAboveOutdoor: boolean;
  /** Length of the period, and the occupied hours in it (each device's). */
  hours: number;
  occupiedHours: number;
  devices: AqDeviceReport[];
  all: AqTimeTotals & { devices: number; max: { co2: number; at: string; device: string; name: string } | null };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const hours = (ms: number) => round(ms / HOUR_MS, 3);

function timeTotals(categories: AqCategory[], seconds: number[], over: number, occupiedMs: number): AqTimeTotals {
  const dataS = seconds.reduce((a, b) => a + b, 0);
  return {
    dataHours: hours(dataS * 1000),
    noDataHours: hours(Math.max(0, occupiedMs - dataS * 1000)),
    categories: categories.map((c, i) => ({ ...c, hours: hours(seconds[i] * 1000), share: dataS > 0 ? round(seconds[i] / dataS, 4) : 0 })),
    ppmHoursAbove: round(over / 3600, 1),
  };
}

/** The report of [from, to) as of `now` (a `to` after `now` ends at `now`). */
export function buildReport(monitor: AqMonitor, kind: AqReportKind, from: number, to: number, now: number): AqReport {
  const end = Math.min(to, now);
  const occupiedMs = monitor.occupancy.length(from, end);
  const categories = monitor.profile.categories;
  const levels = categories.length;
  const sum: Totals = { seconds: new Array<number>(levels).fill(0), over: 0 };
  let max: AqReport['all']['max'] = null;
  const devices: AqDeviceReport[] = [];
  for (const [id, device] of monitor.devices()) {
    const totals = monitor.totals(device, from, end, now);
    totals.seconds.forEach((s, i) => { sum.seconds[i] += s; });
    sum.over += totals.over;
    const name = device.name ?? id;
    const deviceMax = totals.max ? { co2: totals.max.co2, at: new Date(totals.max.at).toISOString() } : null;
    if (totals.max && (!max || totals.max.co2 > max.co2)) max = { ...deviceMax!, device: id, name };
    devices.push({ device: id, name, ...timeTotals(categories, totals.seconds, totals.over, occupiedMs), max: deviceMax });
  }
  devices.sort((a, b) => a.name.localeCompare(b.name) || a.device.localeCompare(b.device));
  return {
    kind,
    from: new Date(from).toISOString(),
    to: new Date(end).toISOString(),
    timeZone: monitor.occupancy.zone.name,
    profile: monitor.profile.id,
    limit: monitor.profile.limit,
    limitAboveOutdoor: monitor.profile.relative,
    hours: hours(end - from),
    occupiedHours: hours(occupiedMs),
    devices,
    all: { devices: devices.length, ...timeTotals(categories, sum.seconds, sum.over, occupiedMs * devices.length), max },
  };
}
