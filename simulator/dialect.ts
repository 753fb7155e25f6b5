/**
 * Dialects: the readings of the points the public API docs leave open, one option per point,
 * each defaulting to the simulator's original behaviour. A client tested against every reading
 * copes with whichever one the real server turns out to speak.
 *
 * Every reading has a short name (DIALECTS) for the CLI's `--dialect a,b` and for the
 * `dialect` option given as names; the README's dialect table lists them.
 */
import type { Dialect, DialectPoint } from './types';

export const DEFAULT_DIALECT: Readonly<Dialect> = Object.freeze({
  expiredToken: 401,
  refusedKey: 401,
  devicePaging: 'offset',
  allDevices: 'accepted',
  lists: 'bare',
  alertOrder: 'newest',
  alertTime: 'created_at',
  alertIds: true,
  averages: 'array',
  pointReadings: 'nested',
  dateTimes: 'zoneless',
});

export const DIALECT_POINTS: readonly DialectPoint[] = Object.keys(DEFAULT_DIALECT) as DialectPoint[];

/** One named reading of one open point. */
export interface DialectReading<P extends DialectPoint = DialectPoint> {
  /** Short name, as `--dialect` takes it, e.g. 'expired403'. */
  name: string;
  point: P;
  value: Dialect[P];
  /** True for the reading the simulator uses when nothing is set. */
  isDefault: boolean;
  description: string;
}

function reading<P extends DialectPoint>(name: string, point: P, value: Dialect[P], description: string): DialectReading {
  return { name, point, value, isDefault: DEFAULT_DIALECT[point] === value, description } as DialectReading;
}

/** Every named reading, defaults included, grouped by point in DIALECT_POINTS order. */
export const DIALECTS: readonly DialectReading[] = Object.freeze([
  reading('expired401', 'expiredToken', 401, 'an expired, revoked or unknown token gets 401'),
  reading('expired403', 'expiredToken', 403, 'an expired, revoked or unknown token gets 403'),
  reading('refused401', 'refusedKey', 401, 'a wrong or missing api_key gets 401'),
  reading('refused400', 'refusedKey', 400, 'a wrong or missing api_key gets 400'),
  reading('refused403', 'refusedKey', 403, 'a wrong or missing api_key gets 403'),
  reading('refused200', 'refusedKey', '200-no-token', 'a wrong or missing api_key gets 200 with an error body and no token'),
  reading('paging-offset', 'devicePaging', 'offset', '/devices page N holds items (N-1)*limit .. N*limit-1'),
  reading('paging-cumulative', 'devicePaging', 'cumulative', '/devices page N holds the first N*limit items'),
  reading('paging-ignored', 'devicePaging', 'ignored', '/devices ignores page: always the first limit items'),
  reading('limit-all-accepted', 'allDevices', 'accepted', '/devices?limit=-1 returns every device (as documented)'),
  reading('limit-all-refused', 'allDevices', 'refused', '/devices?limit=-1 gets 400: only pages work'),
  reading('lists-bare', 'lists', 'bare', 'list endpoints answer a bare array'),
  reading('lists-envelope', 'lists', 'envelope', 'list endpoints answer {data: [...], total}'),
  reading('alerts-newest', 'alertOrder', 'newest', 'notifications newest first'),
  reading('alerts-oldest', 'alertOrder', 'oldest', 'notifications oldest first'),
  reading('alert-time-created-at', 'alertTime', 'created_at', "an alert's time is created_at"),
  reading('alert-time-raised', 'alertTime', 'raised', "an alert's time is raised"),
  reading('alert-time-none', 'alertTime', 'none', 'alerts carry no time field'),
  reading('alert-ids-present', 'alertIds', true, 'alerts carry an id'),
  reading('alert-ids-absent', 'alertIds', false, 'alerts carry no id'),
  reading('averages-array', 'averages', 'array', 'type=averages answers an array of buckets'),
  reading('averages-object', 'averages', 'object', 'type=averages answers one object for the whole range, like the latest sample'),
  reading('averages-envelope', 'averages', 'envelope', 'type=averages answers {data: [buckets]}'),
  reading('readings-nested', 'pointReadings', 'nested', "a point's readings sit under data"),
  reading('readings-flat', 'pointReadings', 'flat', "a point's readings sit beside timestamp (meta stays an object)"),
  reading('dates-zoneless', 'dateTimes', 'zoneless', 'from/to without a zone are accepted (as UTC)'),
  reading('dates-zone-required', 'dateTimes', 'zone-required', 'from/to without a zone get 400'),
]);

const BY_NAME = new Map(DIALECTS.map((d) => [d.name, d]));

/** Alert fields the time field must not collide with. */
const ALERT_FIELDS = new Set(['id', 'physical_id', 'type', 'message', 'value', 'threshold']);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

type Check = (value: unknown) => string | undefined;

const oneOf =
  (...allowed: readonly unknown[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(' or ');

const CHECKS: Record<DialectPoint, Check> = {
  expiredToken: oneOf(401, 403),
  refusedKey: oneOf(401, 400, 403, '200-no-token'),
  devicePaging: oneOf('offset', 'cumulative', 'ignored'),
  allDevices: oneOf('accepted', 'refused'),
  lists: oneOf('bare', 'envelope'),
  alertOrder: oneOf('newest', 'oldest'),
  alertTime: (v) =>
    typeof v === 'string' && (v === 'none' || (FIELD_NAME.test(v) && !ALERT_FIELDS.has(v)))
      ? undefined
      : `'created_at', 'none' or another field name (letters, digits, _; not ${[...ALERT_FIELDS].join(', ')})`,
  alertIds: (v) => (typeof v === 'boolean' ? undefined : 'a boolean'),
  averages: oneOf('array', 'object', 'envelope'),
  pointReadings: oneOf('nested', 'flat'),
  dateTimes: oneOf('zoneless', 'zone-required'),
};

/** The names `--dialect` and the `dialect` option accept, for messages. */
export function dialectNames(): string[] {
  return DIALECTS.map((d) => d.name);
}

/**
 * Turns dialect names (a comma-separated string or an array) into a partial Dialect. Throws a
 * TypeError naming an unknown name (and listing the known ones), or two readings of one point.
 */
export function dialectFromNames(names: string | readonly string[]): Partial<Dialect> {
  const list = (typeof names === 'string' ? names.split(',') : [...names]).map((n) => n.trim()).filter((n) => n !== '');
  const out: Record<string, unknown> = {};
  const chosenBy: Record<string, string> = {};
  for (const name of list) {
    const found = BY_NAME.get(name);
    if (found === undefined) throw new TypeError(`unknown dialect "${name}" (known: ${dialectNames().join(', ')})`);
    const earlier = chosenBy[found.point];
    if (earlier !== undefined && earlier !== name) {
      throw new TypeError(`dialects "${earlier}" and "${name}" are two readings of ${found.point}; pick one`);
    }
    chosenBy[found.point] = name;
    out[found.point] = found.value;
  }
  return out as Partial<Dialect>;
}

/**
 * The non-default readings of a dialect, by name ('alertTime=<field>' for a field name without
 * one); empty for the default dialect.
 */
export function describeDialect(dialect: Dialect): string[] {
  const out: string[] = [];
  for (const point of DIALECT_POINTS) {
    const value = dialect[point];
    if (value === DEFAULT_DIALECT[point]) continue;
    const named = DIALECTS.find((d) => d.point === point && d.value === value);
    out.push(named ? named.name : `${point}=${String(value)}`);
  }
  return out;
}

/**
 * Checks a `dialect` option: a partial Dialect object, or names. Returns the partial Dialect;
 * throws a TypeError naming the first bad field.
 */
export function checkDialect(input: unknown): Partial<Dialect> {
  if (typeof input === 'string') return dialectFromNames(input);
  if (Array.isArray(input)) {
    if (!input.every((n) => typeof n === 'string')) throw new TypeError('option dialect as a list must hold dialect names');
    return dialectFromNames(input as string[]);
  }
  if (typeof input !== 'object' || input === null) {
    throw new TypeError('option dialect must be an object of dialect options, or dialect names');
  }
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(input)) {
    if (value === undefined) continue;
    const check = (CHECKS as Record<string, Check | undefined>)[key];
    if (check === undefined) throw new TypeError(`unknown option dialect.${key} (known: ${DIALECT_POINTS.join(', ')})`);
    const problem = check(value);
    if (problem !== undefined) throw new TypeError(`option dialect.${key} must be ${problem}`);
    out[key] = value;
  }
  return out as Partial<Dialect>;
}

/**
 * A telemetry point with its readings beside `timestamp` instead of under `data` (the 'flat'
 * reading): the keys of `data` take the place of `data`, so the key order stays natural
 * (`physical_id, timestamp, temperature, …, meta, created_at`). `meta` stays an object.
 */
export function flattenPoint(point: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(point)) {
    if (key === 'data' && typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [k, v] of Object.entries(value)) out[k] = v;
    } else {
      out[key] = value;
    }
  }
  return out;
}

/** A point as the dialect's pointReadings says. */
export function shapePoint(point: object, dialect: Dialect): object {
  return dialect.pointReadings === 'flat' ? flattenPoint(point) : point;
}

/** A list body as the dialect's `lists` says; `total` is the full count, whatever the page. */
export function listBody(items: readonly unknown[], total: number, dialect: Dialect): unknown {
  return dialect.lists === 'envelope' ? { data: items, total } : items;
}

/**
 * An alert as the dialect's alertTime says: `created_at` renamed in place (same value and format)
 * or dropped. A field already called like the new name is replaced by the time.
 */
export function renameAlertTime<T extends object>(alert: T, alertTime: string): Record<string, unknown> {
  if (alertTime === 'created_at') return alert as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(alert)) {
    if (key === 'created_at') {
      if (alertTime !== 'none') out[alertTime] = value;
    } else if (key !== alertTime || alertTime === 'none') {
      out[key] = value;
    }
  }
  return out;
}
