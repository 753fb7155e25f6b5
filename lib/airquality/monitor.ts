/**
 * Every device's air as the node keeps it: its category (without chatter), its ventilation
 * demand, its last reading and the occupied time that reading and the ones before held, for
 * the report. Plain JSON throughout, so the node stores it in its context and a restart goes
 * on where it stopped, in the middle of a dwell or a minimum on time.
 */
import { invalid } from '../api/validation';
import { CategoryState, nextCategory } from './category';
import { nextSwitch, proportionalDemand, SwitchState } from './demand';
import { addHeld, addSlots, emptyTotals, pruneSlots, readSlot, Slots, Totals } from './history';
import { AqReading } from './input';
import { Occupancy } from './occupancy';
import { AqCategory, AqProfile, classify, limitPpm } from './profiles';
import { AqSettings } from './settings';
import { DAY_MS } from './zone';

/** How far back the report's history reaches (msg.from at most this far back). */
export const AQ_HISTORY_MS = 8 * DAY_MS;
/** More devices than this in one node are refused (each keeps its history in the context). */
export const AQ_MAX_DEVICES = 5000;

export interface AqLastReading {
  at: number;
  co2: number;
  outdoorCo2: number;
  temperature?: number;
  humidity?: number;
}

export interface AqDeviceRecord {
  name?: string;
  category: CategoryState;
  demand: SwitchState;
  last: AqLastReading;
  slots: Slots;
}

export interface AqState {
  version: 1;
  /** The settings the categories and the history were counted with: another one starts afresh. */
  meaning: string;
  devices: Record<string, AqDeviceRecord>;
  /** The end of the last daily report sent. */
  reportedUntil?: number;
}

/** msg.payload of the annotated output; the change output carries the same. */
export interface AqAnnotation {
  device: string;
  name: string;
  co2: number;
  temperature?: number;
  humidity?: number;
  /** The reading's time (ISO 8601). */
  timestamp: string;
  category: string;
  label: string;
  level: number;
  color: string;
  /** When this category began (ISO 8601). */
  since: string;
  /** Ventilation demand, 0–100 %. */
  demand: number;
  /** The on/off demand, and since when. */
  demandOn: boolean;
  demandSince: string;
  profile: string;
  outdoorCo2?: number;
}

/** msg.previous of a change: the device before it; null at its first reading. */
export type AqPrevious = Pick<AqAnnotation, 'category' | 'label' | 'level' | 'color' | 'since' | 'demandOn'> | null;

export interface AqObservation {
  annotation: AqAnnotation;
  /** The category or the on/off demand changed with this reading. */
  change?: { previous: AqPrevious; changed: Array<'category' | 'demandOn'> };
}

const iso = (t: number) => new Date(t).toISOString();
const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** What makes stored categories and history mean what they meant: a change of these starts afresh. */
export function aqMeaning(settings: AqSettings): string {
  const { profile, outdoorCo2, limit, thresholds, labels, timeZone, occupied } = settings;
  return JSON.stringify({ profile, outdoorCo2, limit, thresholds, labels, timeZone, occupied });
}

/** A stored device as it must look (a store may hold anything), or undefined. */
function readDevice(value: unknown, levels: number): AqDeviceRecord | undefined {
  if (!isObject(value) || !isObject(value.category) || !isObject(value.demand) || !isObject(value.last) || !isObject(value.slots)) return undefined;
  const { category, demand, last } = value;
  const level = category.level;
  if (!finite(level) || !Number.isInteger(level) || level < 1 || level > levels || !finite(category.since)) return undefined;
  if (typeof demand.on !== 'boolean' || !finite(demand.since) || !finite(last.at) || !finite(last.co2) || !finite(last.outdoorCo2)) return undefined;
  const pending = isObject(category.pending) && finite(category.pending.level) && finite(category.pending.since)
    ? { level: category.pending.level, since: category.pending.since } : undefined;
  const slots: Slots = {};
  for (const [key, slot] of Object.entries(value.slots)) {
    const read = readSlot(slot, levels);
    if (read && /^\d+$/.test(key)) slots[key] = read;
  }
  return {
    ...(typeof value.name === 'string' ? { name: value.name } : {}),
    category: { level, since: category.since, ...(pending ? { pending } : {}) },
    demand: { on: demand.on, since: demand.since },
    last: {
      at: last.at, co2: last.co2, outdoorCo2: last.outdoorCo2,
      ...(finite(last.temperature) ? { temperature: last.temperature } : {}), ...(finite(last.humidity) ? { humidity: last.humidity } : {}),
    },
    slots,
  };
}

export class AqMonitor {
  private state: AqState;

  constructor(private readonly settings: AqSettings, readonly profile: AqProfile, readonly occupancy: Occupancy) {
    this.state = { version: 1, meaning: aqMeaning(settings), devices: {} };
  }

  /** Takes over what the context store held, when it was counted with the same settings. */
  restore(stored: unknown): void {
    if (!isObject(stored) || stored.version !== 1 || stored.meaning !== this.state.meaning || !isObject(stored.devices)) return;
    const levels = this.profile.categories.length;
    for (const [id, value] of Object.entries(stored.devices)) {
      const device = readDevice(value, levels);
      if (device) this.state.devices[id] = device;
    }
    if (finite(stored.reportedUntil)) this.state.reportedUntil = stored.reportedUntil;
  }

  /** The state to store (plain JSON; the same object, changed in place by later readings). */
  snapshot(): AqState {
    return this.state;
  }

  get reportedUntil(): number | undefined {
    return this.state.reportedUntil;
  }

  set reportedUntil(t: number | undefined) {
    this.state.reportedUntil = t;
  }

  devices(): Array<[string, AqDeviceRecord]> {
    return Object.entries(this.state.devices);
  }

  category(level: number): AqCategory {
    return this.profile.categories[level - 1];
  }

  /**
   * The occupied stretches of [from, until) during which the device's last reading held (at
   * most `gap` after it), into `slots`.
   */
  private hold(device: AqDeviceRecord, from: number, until: number, slots: Slots): void {
    const last = device.last;
    const end = Math.min(until, last.at + this.settings.gapMs);
    const level = classify(this.profile, last.co2, last.outdoorCo2);
    const over = Math.max(0, last.co2 - limitPpm(this.profile, last.outdoorCo2));
    for (const span of this.occupancy.within(Math.max(from, last.at), end)) {
      addHeld(slots, { ...span, co2: last.co2, level, over }, this.profile.categories.length);
    }
  }

  /** A device's occupied time in [from, to) by level, ppm·s above the limit and its highest CO2, up to `now`. */
  totals(device: AqDeviceRecord, from: number, to: number, now: number): Totals {
    const levels = this.profile.categories.length;
    const totals = addSlots(emptyTotals(levels), device.slots, from, to, levels);
    // The last reading still holds: counted, not stored (the next reading stores it).
    const open: Slots = {};
    this.hold(device, from, Math.min(to, now), open);
    return addSlots(totals, open, -Infinity, Infinity, levels);
  }

  /** Refuses readings that would take the node past AQ_MAX_DEVICES, before any of them changes anything. */
  checkRoom(readings: AqReading[]): void {
    const added = new Set(readings.map((r) => r.device).filter((id) => !(id in this.state.devices))).size;
    if (added > 0 && Object.keys(this.state.devices).length + added > AQ_MAX_DEVICES) {
      throw invalid('msg.payload', `more than ${AQ_MAX_DEVICES} devices in one node: split them over several air-quality nodes`);
    }
  }

  /** One reading: the device's category and demand after it, and what changed. */
  observe(reading: AqReading): AqObservation {
    const known = this.state.devices[reading.device];
    const outdoorCo2 = reading.outdoorCo2 ?? this.settings.outdoorCo2;
    // A reading older than the device's last (or the same one polled again) changes nothing.
    if (known && reading.at <= known.last.at) return { annotation: this.annotate(reading.device, known, reading, outdoorCo2) };

    const rules = { classify: (co2: number) => classify(this.profile, co2, outdoorCo2), marginPpm: this.settings.marginPpm, dwellMs: this.settings.dwellMs };
    const category = nextCategory(known?.category, reading.co2, reading.at, rules);
    const demand = nextSwitch(known?.demand, reading.co2, reading.at, this.settings);
    if (known) this.hold(known, -Infinity, reading.at, known.slots);
    const device: AqDeviceRecord = {
      ...(reading.name ?? known?.name ? { name: reading.name ?? known?.name } : {}),
      category: category.state,
      demand: demand.state,
      last: {
        at: reading.at, co2: reading.co2, outdoorCo2,
        ...(reading.temperature !== undefined ? { temperature: reading.temperature } : {}),
        ...(reading.humidity !== undefined ? { humidity: reading.humidity } : {}),
      },
      slots: known?.slots ?? {},
    };
    this.state.devices[reading.device] = device;
    const annotation = this.annotate(reading.device, device, reading, outdoorCo2);
    const changed = [...(category.changed ? ['category' as const] : []), ...(demand.changed ? ['demandOn' as const] : [])];
    if (changed.length === 0) return { annotation };
    return { annotation, change: { previous: known ? this.previous(known) : null, changed } };
  }

  private previous(device: AqDeviceRecord): AqPrevious {
    const { category, label, level, color } = this.category(device.category.level);
    return { category, label, level, color, since: iso(device.category.since), demandOn: device.demand.on };
  }

  private annotate(id: string, device: AqDeviceRecord, reading: AqReading, outdoorCo2: number): AqAnnotation {
    const { category, label, level, color } = this.category(device.category.level);
    return {
      device: id,
      name: device.name ?? id,
      co2: reading.co2,
      ...(reading.temperature !== undefined ? { temperature: reading.temperature } : {}),
      ...(reading.humidity !== undefined ? { humidity: reading.humidity } : {}),
      timestamp: iso(reading.at),
      category, label, level, color,
      since: iso(device.category.since),
      demand: proportionalDemand(reading.co2, this.settings),
      demandOn: device.demand.on,
      demandSince: iso(device.demand.since),
      profile: this.profile.id,
      ...(this.profile.relative ? { outdoorCo2 } : {}),
    };
  }

  /** Forgets history older than the report can reach, and devices silent for as long. */
  prune(now: number): void {
    const before = now - AQ_HISTORY_MS;
    for (const [id, device] of Object.entries(this.state.devices)) {
      if (device.last.at < before) delete this.state.devices[id];
      else pruneSlots(device.slots, before);
    }
  }

  /** How many devices, the worst category among them and how many are in it (for the status). */
  summary(): { devices: number; worst?: AqCategory; inWorst: number } {
    const levels = Object.values(this.state.devices).map((d) => d.category.level);
    if (levels.length === 0) return { devices: 0, inWorst: 0 };
    const worst = Math.max(...levels);
    return { devices: levels.length, worst: this.category(worst), inWorst: levels.filter((l) => l === worst).length };
  }
}
