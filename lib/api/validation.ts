/**
 * Input validation, run before any request goes out: a value a user, a msg or a node
 * setting got wrong is reported as LEAPCRAFT_INVALID_INPUT with a message that says
 * what was expected, and the API never sees it.
 */
import { LeapcraftInvalidInputError } from './errors';

export const TELEMETRY_TYPES = ['latest', 'averages'] as const;
export type TelemetryType = (typeof TELEMETRY_TYPES)[number];
export const RESOLUTIONS = ['daily', 'weekly', 'monthly'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** Longer than any id a sensor or gateway carries; stops 10 kB ids from reaching the URL. */
export const MAX_ID_LENGTH = 256;
export const NOTIFICATIONS_MAX_LIMIT = 50;

/** The error for a value that fails a check: `Invalid <field>: <what was expected>`. */
export function invalid(field: string, message: string): LeapcraftInvalidInputError {
  return new LeapcraftInvalidInputError(`Invalid ${field}: ${message}`, { field });
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') {
    const shown = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(shown);
  }
  if (typeof value === 'object') return 'an object';
  return String(value);
}

// eslint-disable-next-line no-control-regex
export const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
/** Half of a UTF-16 surrogate pair without its other half: no URL can carry it (encodeURIComponent throws). */
export const UNPAIRED_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * An opaque identifier that goes into a URL path segment (physical id, gateway id).
 * Anything printable is allowed, since the API's ids are free-form; encoding is the
 * transport's job. Numbers are accepted because JSON-minded flows send them.
 */
export function requireId(value: unknown, field: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) value = String(value);
  if (typeof value !== 'string') throw invalid(field, `expected a string, got ${describe(value)}`);
  const id = value.trim();
  if (id === '') throw invalid(field, 'must not be empty');
  if (id.length > MAX_ID_LENGTH) throw invalid(field, `longer than ${MAX_ID_LENGTH} characters`);
  if (CONTROL_CHARS.test(id)) throw invalid(field, 'contains control characters');
  if (UNPAIRED_SURROGATE.test(id)) throw invalid(field, 'contains an unpaired UTF-16 surrogate (not valid Unicode text)');
  // URL parsers resolve `.` and `..` segments even when percent-encoded: no id can be one.
  if (id === '.' || id === '..') throw invalid(field, `${describe(id)} is not an id`);
  return id;
}

/** At most this many ids in one msg (`msg.physical_id` as an array). */
export const MAX_IDS_PER_MSG = 10_000;

/** One id or an array of ids (`msg.physical_id`): each checked, duplicates dropped. */
export function idList(value: unknown, field: string, max: number = MAX_IDS_PER_MSG): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw invalid(field, 'the array is empty');
  if (list.length > max) throw invalid(field, `more than ${max} ids`);
  return [...new Set(list.map((id) => requireId(id, field)))];
}

/** A node setting such as "D2:C1:AA:FF:3E:09, testsim00004": ids, trimmed, deduplicated. */
export function parseIdList(text: unknown, field: string): string[] {
  if (text === undefined || text === null) return [];
  if (typeof text !== 'string') throw invalid(field, 'expected comma-separated ids');
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(ids.map((id) => requireId(id, field)))];
}

/** An optional id: undefined, null and '' mean "not given". */
export function optionalId(value: unknown, field: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string' && value.trim() === '') return undefined;
  return requireId(value, field);
}

/** An integer as text: optional sign, digits, surrounding white space. */
export const INTEGER = /^\s*[-+]?\d+\s*$/;

/** Integers may come as numbers or as integer strings (from http-in or a form). */
export function toInteger(value: unknown, field: string): number {
  let n: number = NaN;
  if (typeof value === 'number') n = value;
  else if (typeof value === 'string' && INTEGER.test(value)) n = Number(value);
  if (!Number.isSafeInteger(n)) throw invalid(field, `expected an integer, got ${describe(value)}`);
  return n;
}

export function integerInRange(value: unknown, field: string, min: number, max: number): number {
  const n = toInteger(value, field);
  if (n < min || n > max) throw invalid(field, `${n} is out of range ${min}..${max}`);
  return n;
}

/** A list limit where -1 means "everything" (devices page size, things). */
export function limitOrAll(value: unknown, field: string): number {
  const n = toInteger(value, field);
  if (n === -1 || n >= 1) return n;
  throw invalid(field, `${n} is not allowed: use a positive number, or -1 for all`);
}

export function oneOf<T extends string>(value: unknown, field: string, allowed: readonly T[]): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value)) return value as T;
  throw invalid(field, `${describe(value)} is not one of ${allowed.join(', ')}`);
}

export const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(Z|[+-]\d{2}:?\d{2})?$/i;
/** `-15m`, `-24h`, `-7d`, `-2w`, `-3M`: case matters, since `m` is minutes and `M` months. */
export const RELATIVE_TIME = /^-\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w|M)$/;
export const UNIT_MS: Record<string, number> = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3, w: 7 * 86400e3 };

/** `now` less `count` calendar months, the day clamped to the target month's last (31 March − 1M = 28/29 February). */
function monthsBefore(now: number, count: number): Date {
  const d = new Date(now);
  const target = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - count, 1, d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()));
  const lastDay = new Date(Date.UTC(target.getUTCFullYear(), target.getUTCMonth() + 1, 0)).getUTCDate();
  target.setUTCDate(Math.min(d.getUTCDate(), lastDay));
  return target;
}

/**
 * A point in time from user input: a Date, epoch milliseconds, an ISO 8601 date or
 * date-time (with or without zone: zone-less is read as UTC, as the API's own example
 * is), `now`, or a relative `-15m`, `-24h`, `-7d`, `-2w`, `-3M` (months). Calendar values are checked,
 * so 2026-02-30 is refused instead of rolling over into March.
 */
export function parseDateTime(value: unknown, field: string, now: number = Date.now()): Date {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) throw invalid(field, 'is an invalid Date');
    return value;
  }
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(field, `${value} is not a time`);
    return checkedDate(new Date(value), field, value);
  }
  if (typeof value !== 'string') {
    throw invalid(field, `expected a date-time string, got ${describe(value)}`);
  }
  const text = value.trim();
  if (/^now$/i.test(text)) return new Date(now);
  const rel = RELATIVE_TIME.exec(text);
  if (rel) {
    const [, amount, unit] = rel;
    if (unit === 'M') {
      if (!Number.isInteger(Number(amount))) throw invalid(field, `${describe(value)}: months must be a whole number`);
      return checkedDate(monthsBefore(now, Number(amount)), field, value);
    }
    return checkedDate(new Date(now - Number(amount) * UNIT_MS[unit]), field, value);
  }
  const m = ISO_DATE_TIME.exec(text);
  if (!m) {
    throw invalid(field, `${describe(value)} is not a date-time: use ISO 8601 (2026-03-29T15:24:05Z), now, or a relative time such as -30m, -24h, -7d, -2w, -3M (s m h d w, M for months)`);
  }
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = m;
  const parts = [Number(y), Number(mo), Number(d), Number(h), Number(mi), Number(s)];
  const [year, month, day, hour, minute, second] = parts;
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59 ||
    probe.getUTCFullYear() !== year || probe.getUTCMonth() !== month - 1 || probe.getUTCDate() !== day
  ) {
    throw invalid(field, `${describe(value)} is not a valid calendar date-time`);
  }
  const ms = Number(`0.${frac || '0'}`) * 1000;
  let epoch = probe.getTime() + Math.floor(ms);
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const offsetMin = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4));
    if (offsetMin > 18 * 60) throw invalid(field, `${describe(value)} has an impossible zone offset`);
    epoch -= sign * offsetMin * 60e3;
  }
  return checkedDate(new Date(epoch), field, value);
}

/** The last instant a date-time may be (9999-12-31T23:59:59.999Z). */
export const MAX_DATE_TIME_MS = Date.UTC(9999, 11, 31, 23, 59, 59, 999);

function checkedDate(date: Date, field: string, original: unknown): Date {
  const t = date.getTime();
  // Years 1970..9999: before the epoch no sensor reported, after it ISO strings change shape.
  if (Number.isNaN(t) || t < 0 || t > MAX_DATE_TIME_MS) {
    throw invalid(field, `${describe(original)} is out of range`);
  }
  return date;
}

/**
 * The form the API documents for `from`/`to`: `2021-05-26T00:00:00.000`, no zone. We
 * send UTC in exactly that shape, since a zone suffix is something the docs never show;
 * `zoned` adds the Z for a server that wants RFC 3339 (the client learns that from a 400).
 */
export function formatApiDateTime(date: Date, zoned = false): string {
  return zoned ? date.toISOString() : date.toISOString().replace(/Z$/, '');
}

export interface TelemetryQueryInput {
  type?: unknown;
  resolution?: unknown;
  from?: unknown;
  to?: unknown;
}

export type TelemetryQuery =
  | { type: 'latest' }
  | { type: 'averages'; resolution: Resolution; from: Date; to: Date };

export function telemetryQuery(input: TelemetryQueryInput, now: number = Date.now()): TelemetryQuery {
  const type = oneOf(input.type ?? 'latest', 'type', TELEMETRY_TYPES);
  if (type === 'latest') return { type };
  if (input.resolution === undefined || input.resolution === '') {
    throw invalid('resolution', 'required for averages: daily, weekly or monthly');
  }
  const resolution = oneOf(input.resolution, 'resolution', RESOLUTIONS);
  if (input.from === undefined || input.from === '') throw invalid('from', 'required for averages');
  if (input.to === undefined || input.to === '') throw invalid('to', 'required for averages');
  const from = parseDateTime(input.from, 'from', now);
  const to = parseDateTime(input.to, 'to', now);
  if (from.getTime() > to.getTime()) {
    throw invalid('from', `${from.toISOString()} is after to (${to.toISOString()})`);
  }
  return { type, resolution, from, to };
}

/**
 * A URL as it may be shown in a message or a log: `scheme://user:password@` becomes
 * `scheme://[credentials]@`, since a base URL typed with credentials is refused, and the
 * refusal must not print the password it refuses.
 */
export function redactUrlCredentials(text: string): string {
  return text.replace(/^(\s*[a-z][a-z0-9+.-]*:[\\/]*)[^\\/?#]*@/i, '$1[credentials]@');
}

export const LOOPBACK_HOSTS = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\]|::1)$/i;

export function isLoopbackHost(hostname: string): boolean {
  return LOOPBACK_HOSTS.test(hostname);
}

/**
 * The account's base URL. Plain http would send the API key in clear text, so it is
 * refused unless the host is loopback (the bundled simulator, a local proxy).
 */
export function validateBaseUrl(value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '') throw invalid('baseUrl', 'must not be empty');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw invalid('baseUrl', `${describe(redactUrlCredentials(value))} is not a URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw invalid('baseUrl', `${url.protocol} is not supported: use https://`);
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw invalid('baseUrl', `plain http to ${url.hostname} would send the API key unencrypted: use https:// (http is allowed only for a loopback simulator)`);
  }
  if (url.username || url.password) throw invalid('baseUrl', 'must not contain a user name or password');
  if (url.search || url.hash) throw invalid('baseUrl', 'must not contain a query or fragment');
  return url.toString().replace(/\/+$/, '');
}
