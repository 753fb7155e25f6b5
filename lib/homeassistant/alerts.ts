/**
 * Leapcraft alerts as Home Assistant events. The leapcraft-notifications node sends each new
 * alert as `msg.payload` (the API's object, fields open) with `msg.topic` = its physical id;
 * the bridge turns it into one event of the MQTT `event` entity of the alert's device.
 *
 * An object is an alert when it has no `data` (readings) and an alert's marks: a `message`
 * text, a numeric `threshold`, or a kind (`type`/`kind`) that is one of Leapcraft's alert
 * kinds. A device-list entry has none of them (its `type` is the model), a reading has `data`
 * or flat readings without them. `msg.action = "alert"` takes any object as an alert.
 *
 * The event's type is the alert's kind when it is one of HA_ALERT_EVENT_TYPES (the entity
 * announces that list; Home Assistant refuses an event of a type it was not told of), else
 * `other`; the alert's own fields are the event's attributes: scalars only, and never a field
 * whose name speaks of a key, token, secret, password or credential.
 */
import { invalid, requireId } from '../api/validation';

/** Leapcraft's alert kinds (the API's samples, the simulator), and `other` for any kind not (yet) known. */
export const HA_ALERT_EVENT_TYPES = ['co2_high', 'co2_normal', 'battery_low', 'temperature_high', 'humidity_high', 'device_offline', 'other'] as const;
const KNOWN_KINDS = new Set<string>(HA_ALERT_EVENT_TYPES.filter((t) => t !== 'other'));
/** Where an alert may name its kind, in this order. */
const KIND_FIELDS = ['type', 'kind', 'alert_type', 'category'] as const;
/** Field names that are never passed on: the API key, tokens and the like. */
const SECRET_NAME = /key|token|secret|passw|credential|auth|cookie|bearer|session/i;
const MAX_ATTRIBUTES = 32;
const MAX_TEXT = 255;
const MAX_NAME = 64;

export type HaAttributeValue = string | number | boolean | null;

export interface HaAlertInput {
  /** The device the alert is about, when it names one. */
  physicalId?: string;
  eventType: (typeof HA_ALERT_EVENT_TYPES)[number];
  attributes: Record<string, HaAttributeValue>;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return !!value && typeof value === 'object' && !Array.isArray(value) && !Buffer.isBuffer(value);
}

function kindOf(item: Record<string, unknown>): string | undefined {
  for (const field of KIND_FIELDS) {
    const value = item[field];
    if (typeof value === 'string' && value.trim() !== '') return value.trim();
  }
  return undefined;
}

/** `CO2 High` → `co2_high`. */
function normalKind(kind: string): string {
  return kind.toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
}

/** Whether an object looks like an alert (see the file's comment). */
export function isAlertShaped(item: Record<string, unknown>): boolean {
  if ('data' in item) return false;
  if (typeof item.message === 'string' && item.message.trim() !== '') return true;
  if (typeof item.threshold === 'number') return true;
  const kind = kindOf(item);
  return kind !== undefined && KNOWN_KINDS.has(normalKind(kind));
}

function attributeValue(raw: unknown): HaAttributeValue | undefined {
  if (raw === null || typeof raw === 'boolean') return raw;
  if (typeof raw === 'number') return Number.isFinite(raw) ? raw : undefined;
  if (typeof raw !== 'string') return undefined;
  const text = raw.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ').replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '');
  return text.slice(0, MAX_TEXT);
}

/**
 * One alert as an event. `fallbackId` (msg.topic or msg.physical_id) stands in for a missing
 * `physical_id`; an alert with neither goes to the bridge's own event entity.
 */
export function parseAlert(item: Record<string, unknown>, fallbackId: unknown, field: string): HaAlertInput {
  if (!isPlainObject(item)) throw invalid(field, 'expected an alert object');
  const rawId = item.physical_id ?? (typeof fallbackId === 'string' && fallbackId.trim() === '' ? undefined : fallbackId);
  const physicalId = rawId === undefined || rawId === null || rawId === '' ? undefined : requireId(rawId, `${field}.physical_id`);
  const kind = kindOf(item);
  const normal = kind === undefined ? '' : normalKind(kind);
  const eventType = (KNOWN_KINDS.has(normal) ? normal : 'other') as HaAlertInput['eventType'];
  const attributes: Record<string, HaAttributeValue> = {};
  for (const [name, raw] of Object.entries(item)) {
    if (Object.keys(attributes).length >= MAX_ATTRIBUTES) break;
    if (name === 'event_type' || name === 'event_types' || name.length > MAX_NAME || /[\u0000-\u001f]/.test(name) || SECRET_NAME.test(name)) continue;
    const value = attributeValue(raw);
    if (value !== undefined) attributes[name] = value;
  }
  if (physicalId !== undefined) attributes.physical_id = physicalId;
  return { ...(physicalId !== undefined ? { physicalId } : {}), eventType, attributes };
}
