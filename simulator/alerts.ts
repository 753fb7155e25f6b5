/**
 * The alert store behind GET /notifications: keeps alerts in time order, fills in sensible
 * defaults for explicitly raised ones, seeds a backlog, and drops the oldest beyond a cap.
 */
import type { World } from './data';
import { renameAlertTime } from './dialect';
import { Rng, hashInts } from './random';
import { DAY, SECOND, isoUtc, parseDateTime } from './time';
import type { Alert, AlertType } from './types';

interface StoredAlert {
  seq: number;
  at: number;
  alert: Alert & Record<string, unknown>;
}

export interface AlertQuery {
  physicalId?: string;
  limit: number;
  offset: number;
  order: 'newest' | 'oldest';
  withIds: boolean;
  /** The wire name of the time field: 'created_at' (default), another name, or 'none' to leave it out. */
  timeField?: string;
}

const KNOWN_FIELDS: Record<string, 'string' | 'number'> = {
  id: 'string',
  physical_id: 'string',
  type: 'string',
  message: 'string',
  value: 'number',
  threshold: 'number',
  created_at: 'string',
};

/**
 * Checks a partial alert from an untyped source (the control interface, or JS callers). Known
 * fields must have their type; other fields are kept as given so clients can be tested against
 * alerts carrying fields the simulator does not know.
 */
export function checkPartialAlert(input: unknown): Partial<Alert> & Record<string, unknown> {
  if (input === undefined || input === null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) throw new TypeError('an alert must be a JSON object');
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    const want = KNOWN_FIELDS[key];
    if (want === 'number' && (typeof value !== 'number' || !Number.isFinite(value))) {
      throw new TypeError(`alert.${key} must be a finite number`);
    }
    if (want === 'string' && typeof value !== 'string') throw new TypeError(`alert.${key} must be a string`);
    if (key === 'created_at' && parseDateTime(value as string) === null) {
      throw new TypeError('alert.created_at must be an ISO date-time');
    }
    out[key] = value;
  }
  return out as Partial<Alert> & Record<string, unknown>;
}

function defaultMessage(type: string, room: string, value: number | undefined, threshold: number | undefined): string {
  switch (type) {
    case 'co2_high':
      return `CO2 above ${threshold} ppm in ${room}`;
    case 'co2_normal':
      return `CO2 back below ${threshold} ppm in ${room}`;
    case 'battery_low':
      return `Battery low (${value} %) in ${room}`;
    case 'temperature_high':
      return `Temperature above ${threshold} °C in ${room}`;
    case 'humidity_high':
      return `Humidity above ${threshold} % in ${room}`;
    case 'device_offline':
      return `${room} has not reported for 30 minutes`;
    default:
      return `${type} in ${room}`;
  }
}

/** A plausible value/threshold pair per kind; device_offline has neither (clients must cope). */
function defaultMeasure(type: string, rng: Rng, co2Threshold: number): { value?: number; threshold?: number } {
  switch (type) {
    case 'co2_high':
      return { value: Math.round(co2Threshold + rng.int(5, 300)), threshold: co2Threshold };
    case 'co2_normal':
      return { value: Math.round(co2Threshold - rng.int(20, 300)), threshold: co2Threshold };
    case 'battery_low':
      return { value: rng.int(3, 19), threshold: 20 };
    case 'temperature_high':
      return { value: Math.round(rng.range(26.1, 29) * 10) / 10, threshold: 26 };
    case 'humidity_high':
      return { value: Math.round(rng.range(60.5, 72) * 10) / 10, threshold: 60 };
    default:
      return {};
  }
}

const BACKLOG_TYPES: ReadonlyArray<readonly [AlertType, number]> = [
  ['co2_high', 0.4],
  ['co2_normal', 0.3],
  ['battery_low', 0.1],
  ['temperature_high', 0.1],
  ['device_offline', 0.1],
];

export class AlertStore {
  /** Ascending by (at, seq): oldest first, so dropping the oldest is a shift. */
  private items: StoredAlert[] = [];
  private seq = 0;
  private readonly rng: Rng;

  constructor(seed: number, public maxAlerts: number) {
    this.rng = new Rng(hashInts(seed, 0xa1e7));
  }

  get size(): number {
    return this.items.length;
  }

  /**
   * Completes a partial alert and stores it. Unless given: a random device, type co2_high, a
   * plausible value/threshold, a message naming the room, the current time, and a fresh id.
   * Returns the stored alert, id included (even when the API hides ids).
   */
  raise(partial: Partial<Alert> & Record<string, unknown>, world: World, now: number, co2Threshold: number): Alert {
    const checked = checkPartialAlert(partial);
    let physicalId = checked.physical_id;
    if (physicalId === undefined) {
      if (world.devices.length === 0) throw new RangeError('no devices to raise an alert for; give physical_id');
      physicalId = this.rng.pick(world.devices).item.physical_id;
    }
    const type = checked.type ?? 'co2_high';
    const measure = defaultMeasure(type, this.rng, co2Threshold);
    const value = checked.value ?? measure.value;
    const threshold = checked.threshold ?? measure.threshold;
    const room = world.byId.get(physicalId)?.item.name ?? physicalId;
    const at = checked.created_at !== undefined ? (parseDateTime(checked.created_at) as number) : now;
    this.seq += 1;
    // Built field by field so the wire order is stable: id, physical_id, type, message, value, threshold, created_at.
    const fields: Record<string, unknown> = {
      id: checked.id ?? `ntf-${String(this.seq).padStart(8, '0')}`,
      physical_id: physicalId,
      type,
      message: checked.message ?? defaultMessage(type, room, value, threshold),
    };
    if (value !== undefined) fields.value = value;
    if (threshold !== undefined) fields.threshold = threshold;
    fields.created_at = isoUtc(at);
    const alert = fields as Alert & Record<string, unknown>;
    for (const [key, extra] of Object.entries(checked)) {
      if (!(key in KNOWN_FIELDS)) alert[key] = extra;
    }
    this.insert({ seq: this.seq, at, alert });
    return { ...alert };
  }

  /** `count` alerts spread over the seven days before `now`, for a realistic first page. */
  seedBacklog(count: number, world: World, now: number, co2Threshold: number): void {
    if (world.devices.length === 0) return;
    // Times first, sorted, so ids grow with created_at as they would in a live system.
    const times: number[] = [];
    for (let i = 0; i < count; i++) times.push(Math.floor((now - this.rng.next() * 7 * DAY) / SECOND) * SECOND);
    times.sort((a, b) => a - b);
    for (const at of times) {
      let roll = this.rng.next();
      let type: AlertType = 'co2_high';
      for (const [candidate, weight] of BACKLOG_TYPES) {
        if (roll < weight) {
          type = candidate;
          break;
        }
        roll -= weight;
      }
      const device = this.rng.pick(world.devices);
      // Battery alerts only make sense for battery-powered AirBirds.
      const safeType = type === 'battery_low' && device.item.type !== 'airbird' ? 'co2_high' : type;
      this.raise({ physical_id: device.item.physical_id, type: safeType, created_at: isoUtc(at) }, world, now, co2Threshold);
    }
  }

  /** A page of alerts as the wire shows them (ids and the time field as the query says). */
  query(q: AlertQuery): Array<Record<string, unknown>> {
    const out: Array<Record<string, unknown>> = [];
    let skipped = 0;
    const n = this.items.length;
    for (let k = 0; k < n && out.length < q.limit; k++) {
      const stored = this.items[q.order === 'newest' ? n - 1 - k : k] as StoredAlert;
      if (q.physicalId !== undefined && stored.alert.physical_id !== q.physicalId) continue;
      if (skipped < q.offset) {
        skipped += 1;
        continue;
      }
      const copy: Alert & Record<string, unknown> = { ...stored.alert };
      if (!q.withIds) delete copy.id;
      out.push(renameAlertTime(copy, q.timeField ?? 'created_at'));
    }
    return out;
  }

  /** How many alerts a query with this filter could page through (all of them without one). */
  count(physicalId?: string): number {
    if (physicalId === undefined) return this.items.length;
    let n = 0;
    for (const stored of this.items) if (stored.alert.physical_id === physicalId) n += 1;
    return n;
  }

  /** Applies a lowered cap at once. */
  trim(): void {
    if (this.items.length > this.maxAlerts) this.items.splice(0, this.items.length - this.maxAlerts);
  }

  private insert(stored: StoredAlert): void {
    // Binary search for the first item later than (at, seq); most inserts land at the end.
    let lo = 0;
    let hi = this.items.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const item = this.items[mid] as StoredAlert;
      if (item.at < stored.at || (item.at === stored.at && item.seq < stored.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.items.splice(lo, 0, stored);
    this.trim();
  }
}
