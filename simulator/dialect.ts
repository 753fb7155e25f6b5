/**
 * Dialects: the readings of the points the public API docs leave open, one option per point,
 * each defaulting to the simulator's original behaviour. A client tested against every reading
 * copes with whichever one the real server turns out to speak.
 *
 * The readings and their names are the package's one table (lib/api/dialects.ts), which the
 * doctor names its findings by; here: checking the `dialect` option, and shaping answers.
 */
import { DEFAULT_DIALECT, DIALECT_POINTS, DIALECTS, namedReading, type Dialect, type DialectPoint } from '../lib/api/dialects';

export { DEFAULT_DIALECT, DIALECT_POINTS, DIALECTS, type DialectReading } from '../lib/api/dialects';

const BY_NAME = new Map(DIALECTS.map((d) => [d.name, d]));

/** Alert fields the time field must not collide with. */
const ALERT_FIELDS = new Set(['id', 'physical_id', 'type', 'message', 'value', 'threshold']);
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

type Check = (value: unknown) => string | undefined;

const oneOf =
  (...allowed: readonly unknown[]): Check =>
  (v) =>
    allowed.includes(v) ? undefined : allowed.map((a) => (typeof a === 'string' ? `'${a}'` : String(a))).join(' or ');

/** The values of a point's named readings; alertTime also takes any other field name, alertIds a boolean. */
const CHECKS: Record<DialectPoint, Check> = Object.fromEntries(
  DIALECT_POINTS.map((point) => [point, oneOf(...DIALECTS.filter((d) => d.point === point).map((d) => d.value))]),
) as Record<DialectPoint, Check>;
CHECKS.alertTime = (v) =>
  typeof v === 'string' && (v === 'none' || (FIELD_NAME.test(v) && !ALERT_FIELDS.has(v)))
    ? undefined
    : `'created_at', 'none' or another field name (letters, digits, _; not ${[...ALERT_FIELDS].join(', ')})`;
CHECKS.alertIds = (v) => (typeof v === 'boolean' ? undefined : 'a boolean');

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
    const named = namedReading(point, value);
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

/** The wrapper key of a `…under-<key>` reading. */
const WRAPPER_KEY = { 'under-data': 'data', 'under-result': 'result', 'under-reading': 'reading' } as const;

/** One point as the dialect's latestBody says: itself, in an array of one, or under a key. */
export function wrapPoint(point: object, wrap: Dialect['latestBody']): unknown {
  if (wrap === 'point') return point;
  if (wrap === 'in-array') return [point];
  return { [WRAPPER_KEY[wrap]]: point };
}

/** An averages body as the dialect's `averages` says: the buckets, or the whole range as one object (`whole`). */
export function averagesBody(buckets: readonly object[], whole: () => object, averages: Dialect['averages']): unknown {
  switch (averages) {
    case 'array':
      return buckets;
    case 'envelope':
      return { data: buckets };
    case 'object':
      return whole();
    default:
      return wrapPoint(whole(), averages.replace(/^object-/, '') as Dialect['latestBody']);
  }
}

/**
 * The token exchange's answer as the dialect's tokenBody says. The lifetime is told in whole
 * seconds (as OAuth 2's expires_in), rounded down so a client never holds a token longer than
 * it lives; a lifetime without end (Infinity) is not told.
 */
export function tokenAnswer(token: string, form: Dialect['tokenBody'], issuedAt: number, lifetimeMs: number): Record<string, unknown> {
  const lifetimeS = Number.isFinite(lifetimeMs) ? Math.floor(lifetimeMs / 1000) : undefined;
  switch (form) {
    case 'oauth2':
      return { access_token: token, token_type: 'Bearer', ...(lifetimeS === undefined ? {} : { expires_in: lifetimeS }) };
    case 'expires-at':
      return { type: 'bearer', token, ...(lifetimeS === undefined ? {} : { expires_at: new Date(issuedAt + lifetimeS * 1000).toISOString() }) };
    default:
      return { type: 'bearer', token };
  }
}
