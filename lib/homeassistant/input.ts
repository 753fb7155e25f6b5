/**
 * What a msg into the Home Assistant bridge asks for. One input takes everything a flow
 * wires into it, told apart by a documented contract:
 *
 * - `msg.action` `"remove"` (optionally `msg.physical_id`) or `"announce"`;
 * - `msg.topic` = the birth topic (`homeassistant/status`), payload `online`/`offline`;
 * - a Status node's msg (`msg.status`): green and "connected" means the broker (re)connected;
 * - a Catch node's msg (`msg.error` with `msg.physical_id`): that device's poll failed
 *   (without a device: the account's health, from `msg.error.code`);
 * - otherwise `msg.payload`: telemetry (objects with `data`, or a `timestamp` beside flat
 *   readings), alerts from leapcraft-notifications (lib/homeassistant/alerts.ts) or devices
 *   (objects that are neither), one object or an array; `msg.action = "alert"` takes the
 *   payload as alerts whatever their shape;
 * - the air-quality node's msgs (`msg.categories` beside a device's `msg.payload.category`): the
 *   device's category and ventilation demand;
 * - the telemetry node's device-health msgs (`msg.payload.event` silent, recovered, battery_low,
 *   battery_ok, with `msg.payload.device`): the device's problem sensor.
 *
 * Everything is checked before anything is published: a bad msg is refused as a whole.
 */
import { parseApiTime } from '../api/time';
import { HEALTH_EVENTS, HealthEventName } from '../telemetry/device-health';
import { pointReadings } from '../telemetry/readings';
import { HaAlertInput, isAlertShaped, parseAlert } from './alerts';
import { HaReadingValue } from './readings';
import { CONTROL_CHARS, idList, invalid, requireId, UNPAIRED_SURROGATE } from '../api/validation';

export interface HaDeviceInput {
  physicalId: string;
  name?: string;
  type?: string;
  serial?: string;
  topologyId?: string | number;
  gatewayId?: string;
  /** The entry's `meta` fields as text (placement data: floor, zone …), for the area. */
  meta?: Record<string, string>;
}

export interface HaReadingInput {
  physicalId: string;
  /** Reading keys and their values, in the order the API sent them; `meta` and non-scalars left out. */
  values: Array<[string, HaReadingValue]>;
  firmware?: string;
  /** The reading's own time (its `timestamp`), epoch ms. */
  time?: number;
  /** The reading's `meta` fields as text. */
  meta?: Record<string, string>;
}

/** What the air-quality node says of a device (docs/AIR-QUALITY.md, "The msgs"). */
export interface HaAirQualityInput {
  physicalId: string;
  /** The profile's categories by their labels, best first: the enum sensor's options. */
  options: string[];
  /** The category now, by its label: one of `options`. */
  category: string;
  /** Its stable id (I…IV, harmless…), its level (1 the best), the profile: the sensor's attributes. */
  id?: string;
  level?: number;
  profile?: string;
  /** The ventilation demand, 0–100 %. */
  demand?: number;
}

/** A device-health event of the telemetry node. */
export interface HaHealthInput {
  physicalId: string;
  event: HealthEventName;
}

export type HaCommand =
  | { kind: 'data'; devices: HaDeviceInput[]; readings: HaReadingInput[]; alerts: HaAlertInput[] }
  /** The air-quality node's msg: its device-list entry (when it carries one) and the category and demand. */
  | { kind: 'airQuality'; devices: HaDeviceInput[]; items: HaAirQualityInput[] }
  | { kind: 'health'; items: HaHealthInput[] }
  | { kind: 'birth'; online: boolean }
  | { kind: 'connected' }
  /** Failed polls: those devices (none: a failure of the account, e.g. its device list), and the error's code. */
  | { kind: 'failed'; ids: string[]; code?: string }
  /** Without ids: everything; with keys: only those readings' entities of the devices. */
  | { kind: 'remove'; ids?: string[]; keys?: string[] }
  | { kind: 'announce' }
  | { kind: 'ignore' };

export const HA_ACTIONS = ['remove', 'announce', 'alert'] as const;
/** Fields of a `meta` object the bridge keeps (for the area), and their length. */
const MAX_META_FIELDS = 32;
const MAX_META_TEXT = 128;
export const HA_MAX_ITEMS_PER_MSG = 10_000;
export const HA_MAX_READING_KEY_LENGTH = 64;
/** Home Assistant's limit for a state. */
export const HA_MAX_STATE_LENGTH = 255;
const MAX_TEXT = 256;

// The shared patterns, global here: display texts are cleaned, not refused.
const CONTROL_CHARS_ALL = new RegExp(CONTROL_CHARS.source, 'g');
const UNPAIRED_SURROGATES_ALL = new RegExp(UNPAIRED_SURROGATE.source, 'g');
const hasUnpairedSurrogate = (text: string) => UNPAIRED_SURROGATE.test(text);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

/** A display text from the API (device name, serial): control characters removed, length capped. */
function cleanText(value: unknown, max = MAX_TEXT): string | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.replace(CONTROL_CHARS_ALL, ' ').replace(UNPAIRED_SURROGATES_ALL, '').trim();
  return text === '' ? undefined : text.slice(0, max);
}


function payloadText(payload: unknown): string | undefined {
  if (typeof payload === 'string') return payload.trim();
  if (Buffer.isBuffer(payload)) return payload.toString('utf8').trim();
  return undefined;
}

/** A Status node's msg for a node whose connection came up (mqtt out: "node-red:common.status.connected"). */
function isConnectedStatus(status: Record<string, unknown>): boolean {
  const text = typeof status.text === 'string' ? status.text.trim() : '';
  return status.fill === 'green' && /(?:^|[\s.:])connected$/i.test(text);
}

function readingValue(raw: unknown): HaReadingValue | undefined {
  if (raw === null) return null;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw === 'boolean') return raw;
  if (typeof raw === 'string') return raw.length <= HA_MAX_STATE_LENGTH && !/[\u0000-\u001f]/.test(raw) && !hasUnpairedSurrogate(raw) ? raw : undefined;
  return undefined;
}

/** Keys Home Assistant can get an entity for; anything else is skipped, not refused (the API's keys are open). */
function usableKey(key: string): boolean {
  return key !== 'meta' && key.length > 0 && key.length <= HA_MAX_READING_KEY_LENGTH && !/[\u0000-\u001f\u007f-\u009f]/.test(key) && key.trim() === key
    && !hasUnpairedSurrogate(key);
}

/** A `meta` object's scalar fields as cleaned text (at most 32); undefined when there are none. */
function metaFields(meta: unknown): Record<string, string> | undefined {
  if (!isPlainObject(meta)) return undefined;
  const out: Record<string, string> = {};
  let count = 0;
  for (const [key, raw] of Object.entries(meta)) {
    if (count >= MAX_META_FIELDS) break;
    if (!usableKey(key)) continue;
    const text = typeof raw === 'number' && Number.isFinite(raw) ? String(raw) : cleanText(raw, MAX_META_TEXT);
    if (text !== undefined) {
      out[key] = text;
      count++;
    }
  }
  return count > 0 ? out : undefined;
}

function parseReading(item: Record<string, unknown>, fallbackId: unknown, field: string): HaReadingInput {
  const physicalId = requireId(item.physical_id ?? fallbackId, `${field}.physical_id`);
  const data = item.data;
  if ('data' in item && !isPlainObject(data)) throw invalid(`${field}.data`, 'expected an object of readings');
  // Readings under `data`, or flat beside the timestamp: servers differ (docs/API.md).
  const source = isPlainObject(data) ? data : pointReadings(item);
  const values: Array<[string, HaReadingValue]> = [];
  for (const [key, raw] of Object.entries(source)) {
    if (!usableKey(key)) continue;
    const value = readingValue(raw);
    if (value !== undefined) values.push([key, value]);
  }
  const reading: HaReadingInput = { physicalId, values };
  const meta = isPlainObject(data) ? data.meta : item.meta;
  const firmware = isPlainObject(meta) ? cleanText(meta.firmware, 64) : undefined;
  if (firmware) reading.firmware = firmware;
  const fields = metaFields(meta);
  if (fields) reading.meta = fields;
  const time = parseApiTime(item.timestamp);
  if (time !== undefined) reading.time = time;
  return reading;
}

function parseDevice(item: Record<string, unknown>, fallbackId: unknown, field: string): HaDeviceInput {
  const device: HaDeviceInput = { physicalId: requireId(item.physical_id ?? fallbackId, `${field}.physical_id`) };
  const name = cleanText(item.name);
  if (name) device.name = name;
  const type = cleanText(item.type, 64);
  if (type) device.type = type;
  const serial = cleanText(item.serial, 128);
  if (serial) device.serial = serial;
  const topologyId = item.topology_id;
  if ((typeof topologyId === 'string' && topologyId.trim() !== '') || (typeof topologyId === 'number' && Number.isFinite(topologyId))) {
    device.topologyId = typeof topologyId === 'string' ? topologyId.trim() : topologyId;
  }
  if (item.gateway_id !== undefined && item.gateway_id !== null && item.gateway_id !== '') {
    device.gatewayId = requireId(item.gateway_id, `${field}.gateway_id`);
  }
  const meta = metaFields(item.meta);
  if (meta) device.meta = meta;
  return device;
}

function parseData(msg: Record<string, unknown>, alertsOnly = false): HaCommand {
  const payload = msg.payload;
  const single = isPlainObject(payload);
  if (!single && !Array.isArray(payload)) {
    throw invalid('msg.payload', 'expected telemetry or devices (an object or an array of objects); use the telemetry node\'s "one message per device" or "one array per poll" output');
  }
  const items = single ? [payload] : (payload as unknown[]);
  if (items.length > HA_MAX_ITEMS_PER_MSG) throw invalid('msg.payload', `more than ${HA_MAX_ITEMS_PER_MSG} items`);
  // msg.physical_id stands in for a missing payload.physical_id only when there is one item
  // (for an alert, msg.topic too: the notifications node puts its physical id there).
  const fallbackId = single ? msg.physical_id : undefined;
  const alertFallbackId = single ? msg.physical_id ?? msg.topic : undefined;
  // The telemetry node's msgs carry their device-list entry: never alerts, whatever a reading holds.
  const fromTelemetry = msg.device !== undefined && msg.device !== null;
  const readings: HaReadingInput[] = [];
  const devices: HaDeviceInput[] = [];
  const alerts: HaAlertInput[] = [];
  items.forEach((item, i) => {
    const field = single ? 'msg.payload' : `msg.payload[${i}]`;
    if (!isPlainObject(item)) throw invalid(field, 'expected an object');
    // An alert first (it may carry a time called timestamp); then a reading, with its readings
    // under `data` or a time beside them; a device-list entry has neither.
    if (alertsOnly || (!fromTelemetry && isAlertShaped(item))) alerts.push(parseAlert(item, alertFallbackId, field));
    else if ('data' in item || 'timestamp' in item) readings.push(parseReading(item, fallbackId, field));
    else devices.push(parseDevice(item, fallbackId, field));
  });
  // msg.device: the telemetry node's device-list entry of the msg's device.
  if (msg.device !== undefined && msg.device !== null) {
    if (!isPlainObject(msg.device)) throw invalid('msg.device', 'expected an object');
    const ownerId = msg.device.physical_id ?? msg.physical_id ?? (readings.length === 1 ? readings[0].physicalId : undefined);
    if (ownerId !== undefined) devices.push(parseDevice(msg.device, ownerId, 'msg.device'));
  }
  return { kind: 'data', devices, readings, alerts };
}

/** At most this many categories in a profile (the air-quality node has at most 6). */
export const HA_MAX_AIR_QUALITY_OPTIONS = 16;

/** A category's id as an enum state: a usable state text. */
function categoryId(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '' || readingValue(value) === undefined) throw invalid(field, 'expected a category id (text, at most 255 characters)');
  return value;
}

/** The air-quality node's msg (lib/airquality): one device's category and demand, with every category of its profile. */
function parseAirQuality(msg: Record<string, unknown>): HaCommand {
  const payload = msg.payload;
  const list = msg.categories as unknown[];
  if (!isPlainObject(payload) || !('category' in payload)) {
    throw invalid('msg.payload', 'expected the air-quality node\'s msg of one device (its first or second output); its report has no device to show');
  }
  if (list.length === 0 || list.length > HA_MAX_AIR_QUALITY_OPTIONS) throw invalid('msg.categories', `expected 1 to ${HA_MAX_AIR_QUALITY_OPTIONS} categories`);
  // The enum's options are the profile's labels (an id stands in for a category without one).
  const ids = list.map((c, i) => categoryId(isPlainObject(c) ? c.category : undefined, `msg.categories[${i}].category`));
  const options = list.map((c, i) => (isPlainObject(c) ? cleanText(c.label, 128) : undefined) || ids[i]!);
  if (new Set(ids).size !== ids.length || new Set(options).size !== options.length) throw invalid('msg.categories', 'the categories must differ');
  const id = categoryId(payload.category, 'msg.payload.category');
  if (!ids.includes(id)) throw invalid('msg.payload.category', `${JSON.stringify(id.slice(0, 40))} is not one of msg.categories`);
  const item: HaAirQualityInput = { physicalId: requireId(payload.device ?? msg.physical_id, 'msg.payload.device'), options, category: options[ids.indexOf(id)]!, id };
  if (typeof payload.level === 'number' && Number.isInteger(payload.level) && payload.level > 0) item.level = payload.level;
  const profile = cleanText(payload.profile, 64);
  if (profile) item.profile = profile;
  if (payload.demand !== undefined && payload.demand !== null) {
    if (typeof payload.demand !== 'number' || !(payload.demand >= 0 && payload.demand <= 100)) throw invalid('msg.payload.demand', 'expected a share from 0 to 100 %');
    item.demand = payload.demand;
  }
  const devices: HaDeviceInput[] = [];
  // The telemetry node's device-list entry, which the air-quality node hands on; else the name it tells.
  if (isPlainObject(msg.device)) devices.push(parseDevice(msg.device, item.physicalId, 'msg.device'));
  else if (cleanText(payload.name)) devices.push({ physicalId: item.physicalId, name: cleanText(payload.name) });
  return { kind: 'airQuality', devices, items: [item] };
}

/** A device-health msg of the telemetry node: `msg.payload.event` one of HEALTH_EVENTS, about `msg.payload.device`. */
function isHealthEvent(payload: unknown): payload is Record<string, unknown> {
  return isPlainObject(payload) && !('data' in payload) && (HEALTH_EVENTS as readonly unknown[]).includes(payload.event) && payload.device !== undefined;
}

/** msg.key of a remove: reading keys (an array or one). */
function keyList(value: unknown): string[] | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0 || list.length > 256 || !list.every((k) => typeof k === 'string' && usableKey(k))) {
    throw invalid('msg.key', 'expected a reading key or an array of them');
  }
  return [...new Set(list as string[])];
}

/** A Catch node's error code, when it has a LEAPCRAFT_ one. */
function errorCode(error: unknown): string | undefined {
  const code = isPlainObject(error) ? error.code : undefined;
  return typeof code === 'string' && /^[A-Z_]{1,64}$/.test(code) ? code : undefined;
}

export function parseHaInput(msg: Record<string, unknown>, birthTopic: string): HaCommand {
  if (msg.action !== undefined && msg.action !== null && msg.action !== '') {
    if (!(HA_ACTIONS as readonly unknown[]).includes(msg.action)) {
      throw invalid('msg.action', `expected ${HA_ACTIONS.map((a) => `"${a}"`).join(' or ')}, got ${JSON.stringify(String(msg.action).slice(0, 40))}`);
    }
    if (msg.action === 'announce') return { kind: 'announce' };
    if (msg.action === 'alert') return parseData(msg, true);
    const ids = msg.physical_id === undefined || msg.physical_id === null || msg.physical_id === '' ? undefined : idList(msg.physical_id, 'msg.physical_id');
    const keys = keyList(msg.key);
    if (keys && !ids) throw invalid('msg.key', 'name the devices (msg.physical_id) whose readings to remove');
    return ids ? { kind: 'remove', ids, ...(keys ? { keys } : {}) } : { kind: 'remove' };
  }
  if (msg.topic === birthTopic) {
    const text = payloadText(msg.payload);
    if (text === 'online') return { kind: 'birth', online: true };
    if (text === 'offline') return { kind: 'birth', online: false };
    throw invalid('msg.payload', `a birth message on ${birthTopic} must be "online" or "offline"`);
  }
  if (isPlainObject(msg.status)) {
    return isConnectedStatus(msg.status) ? { kind: 'connected' } : { kind: 'ignore' };
  }
  if (msg.error !== undefined && msg.error !== null) {
    // A Catch node's msg: without a device it is not about one sensor (the device list failed),
    // but its code still tells the bridge's health.
    const code = errorCode(msg.error);
    const about = code ? { code } : {};
    if (msg.physical_id === undefined || msg.physical_id === null || msg.physical_id === '') return code ? { kind: 'failed', ids: [], ...about } : { kind: 'ignore' };
    return { kind: 'failed', ids: idList(msg.physical_id, 'msg.physical_id'), ...about };
  }
  if (Array.isArray(msg.categories)) return parseAirQuality(msg);
  if (isHealthEvent(msg.payload)) {
    const event = msg.payload.event as HealthEventName;
    return { kind: 'health', items: [{ physicalId: requireId(msg.payload.device, 'msg.payload.device'), event }] };
  }
  return parseData(msg);
}
