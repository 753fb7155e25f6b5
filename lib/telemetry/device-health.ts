/**
 * Device health, for the telemetry node's second output: which devices went silent (no new
 * reading for some reporting periods), came back, or report a low battery, each said once per
 * change and never per poll. Pure: it is told each poll answer of a device with the period the
 * account's scheduler learnt for it, and reads the time from the clock it is given.
 *
 * A device is **silent** once `now` lies more than `silentPeriods` periods after its last new
 * reading (the reading's own time; without one, when it was first seen). The period is the one
 * the scheduler learnt; while it learns, the longest gap between two of the device's readings
 * the node has seen (never less than the poll interval); before a second reading shows any
 * rhythm, the interval but at least UNKNOWN_PERIOD_FLOOR_MS, so a sensor reporting every few
 * minutes is not called silent while it is being learnt. It has **recovered** with its next new
 * reading. Its **battery** is low below `batteryLow` percent and ok again from `batteryLow` +
 * BATTERY_HYSTERESIS, so a level wobbling around the threshold is one event, not one per poll.
 */
import { integerInRange } from '../api/validation';
import { pointReadings, readingFingerprint, readingTime, telemetryPoints } from './readings';

export const HEALTH_EVENTS = ['silent', 'recovered', 'battery_low', 'battery_ok'] as const;
export type HealthEventName = (typeof HEALTH_EVENTS)[number];

export interface HealthSettings {
  /** Reporting periods without a new reading after which a device is silent. */
  silentPeriods: number;
  /** A battery level (percent) below this is low. */
  batteryLow: number;
}

export const HEALTH_DEFAULTS: Readonly<HealthSettings> = Object.freeze({ silentPeriods: 3, batteryLow: 20 });
export const HEALTH_LIMITS = Object.freeze({ silentPeriods: { min: 2, max: 100 }, batteryLow: { min: 1, max: 99 } });
/** Percentage points above the threshold a low battery must reach to be ok again. */
export const BATTERY_HYSTERESIS = 5;
/** The period assumed before anything shows a device's rhythm. */
export const UNKNOWN_PERIOD_FLOOR_MS = 15 * 60_000;

/** The settings as the editor stores them (numbers or text; empty for the default). */
export function parseHealthSettings(def: { silentPeriods?: unknown; batteryLow?: unknown }): HealthSettings {
  const read = (value: unknown, field: keyof HealthSettings) => (value === undefined || value === null || value === ''
    ? HEALTH_DEFAULTS[field]
    : integerInRange(value, field, HEALTH_LIMITS[field].min, HEALTH_LIMITS[field].max));
  return { silentPeriods: read(def.silentPeriods, 'silentPeriods'), batteryLow: read(def.batteryLow, 'batteryLow') };
}

export interface HealthEvent {
  event: HealthEventName;
  device: string;
  /** When the new state began: the moment the device became overdue (silent), or the reading's time. */
  since: number;
  /** The time of the device's last new reading. */
  lastReadingAt: number;
  /** The reporting period the device was judged by. */
  periodMs: number;
  /** The battery level of the last reading, when it carries one. */
  battery?: number;
}

/** What is remembered per device (plain JSON: carried across a redeploy). */
export interface DeviceHealthState {
  /** The last new reading's time, and what identifies it. */
  at: number;
  id: string;
  /** The longest gap between two readings seen while the device was not silent. */
  gapMs?: number;
  /** Silent since (the moment it became overdue). */
  silentSince?: number;
  batteryLow?: boolean;
  battery?: number;
}

function batteryOf(value: unknown): number | undefined {
  const point = telemetryPoints(value)[0];
  const raw = point ? pointReadings(point).battery : undefined;
  const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

export class DeviceHealth {
  private readonly devices = new Map<string, DeviceHealthState>();

  constructor(private readonly settings: HealthSettings, private readonly now: () => number = Date.now) {}

  /**
   * A poll answer of `id` (its reading), with the period the scheduler learnt for it (undefined
   * while it learns) and the node's poll interval. Returns the changes it shows, in order.
   */
  answer(id: string, value: unknown, learntPeriodMs: number | undefined, intervalMs: number): HealthEvent[] {
    const now = this.now();
    const time = readingTime(value);
    const identity = time !== undefined ? `t${time}` : `c${readingFingerprint(value)}`;
    const events: HealthEvent[] = [];
    let state = this.devices.get(id);
    let fresh = false;
    if (!state) {
      state = { at: time ?? now, id: identity };
      this.devices.set(id, state);
      fresh = true;
    } else if (identity !== state.id && (time === undefined || time > state.at)) {
      const at = time ?? now;
      if (state.silentSince === undefined) state.gapMs = Math.max(state.gapMs ?? 0, at - state.at);
      state.at = at;
      state.id = identity;
      fresh = true;
    }
    const periodMs = this.periodOf(state, learntPeriodMs, intervalMs);
    const event = (name: HealthEventName, since: number): HealthEvent => ({
      event: name, device: id, since, lastReadingAt: state!.at, periodMs, ...(state!.battery !== undefined ? { battery: state!.battery } : {}),
    });
    if (fresh) {
      const battery = batteryOf(value);
      if (battery !== undefined) state.battery = battery;
    }
    const overdueAt = state.at + this.settings.silentPeriods * periodMs;
    if (now > overdueAt) {
      if (state.silentSince === undefined) {
        state.silentSince = overdueAt;
        events.push(event('silent', overdueAt));
      }
    } else if (state.silentSince !== undefined) {
      delete state.silentSince;
      events.push(event('recovered', state.at));
    }
    if (fresh && state.battery !== undefined) {
      const low = state.battery < this.settings.batteryLow;
      const ok = state.battery >= this.settings.batteryLow + BATTERY_HYSTERESIS;
      if (low && state.batteryLow !== true) events.push(event('battery_low', state.at));
      else if (ok && state.batteryLow === true) events.push(event('battery_ok', state.at));
      if (low) state.batteryLow = true;
      else if (ok || state.batteryLow === undefined) state.batteryLow = false;
    }
    return events;
  }

  /** The device is no longer polled. */
  forget(id: string): void {
    this.devices.delete(id);
  }

  /** Every device's state, to carry across a redeploy. */
  snapshot(): Record<string, DeviceHealthState> {
    return Object.fromEntries([...this.devices].map(([id, s]) => [id, { ...s }]));
  }

  /** A snapshot taken before (anything unreadable in it is left out). */
  restore(snapshot: unknown): void {
    if (!snapshot || typeof snapshot !== 'object') return;
    const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
    for (const [id, raw] of Object.entries(snapshot as Record<string, Partial<DeviceHealthState>>)) {
      if (!raw || !finite(raw.at) || typeof raw.id !== 'string') continue;
      const state: DeviceHealthState = { at: raw.at, id: raw.id };
      if (finite(raw.gapMs)) state.gapMs = raw.gapMs;
      if (finite(raw.silentSince)) state.silentSince = raw.silentSince;
      if (typeof raw.batteryLow === 'boolean') state.batteryLow = raw.batteryLow;
      if (finite(raw.battery)) state.battery = raw.battery;
      this.devices.set(id, state);
    }
  }

  private periodOf(state: DeviceHealthState, learntPeriodMs: number | undefined, intervalMs: number): number {
    if (learntPeriodMs !== undefined && learntPeriodMs > 0) return learntPeriodMs;
    return Math.max(intervalMs, state.gapMs ?? UNKNOWN_PERIOD_FLOOR_MS);
  }
}

/** What the health output sends for an event: `msg.topic` the device, `msg.payload` the event with ISO times. */
export function healthMsg(e: HealthEvent, name: string | undefined): Record<string, unknown> {
  const iso = (ms: number) => new Date(ms).toISOString();
  const payload: Record<string, unknown> = {
    event: e.event, device: e.device, name: name ?? e.device, since: iso(e.since), lastReadingAt: iso(e.lastReadingAt), periodMs: e.periodMs,
  };
  if (e.battery !== undefined) payload.battery = e.battery;
  return { topic: e.device, physical_id: e.device, payload };
}
