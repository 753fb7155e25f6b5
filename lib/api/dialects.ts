/**
 * The points the public API docs leave open, and the plausible readings of each ("dialects"):
 * one table for the whole package. The simulator speaks each reading (simulator/dialect.ts),
 * the doctor names the one a server speaks (lib/doctor/), and docs/API.md says how the client
 * copes with every one of them.
 *
 * Each reading has a short name, as the simulator's `--dialect a,b` and the doctor's report use
 * it, and a value, as the simulator's `dialect` option takes it.
 */

/** How a server may read each open point; the first reading of each is the default. */
export interface Dialect {
  /** Status for an expired, revoked or unknown bearer token (a missing header is always 401). */
  expiredToken: 401 | 403;
  /** How the token exchange refuses a wrong or missing key; '200-no-token': HTTP 200, an error body, no token. */
  refusedKey: 401 | 400 | 403 | '200-no-token';
  /**
   * The token exchange's answer: the docs' sample `{type: 'bearer', token}`; OAuth 2's
   * `{access_token, token_type: 'Bearer', expires_in}`; the sample with `expires_at` (ISO 8601);
   * or the sample whose token is a JWT carrying its expiry (`exp`).
   */
  tokenBody: 'sample' | 'oauth2' | 'expires-at' | 'jwt';
  /**
   * How many tokens of one key are live at once: any number (each lives out its lifetime), or one
   * (a new exchange revokes the earlier ones, as several cloud APIs do).
   */
  liveTokens: 'many' | 'one';
  /**
   * GET /devices paging: 'offset' (page N = items (N-1)·limit … N·limit-1), 'cumulative' (page N =
   * the first N·limit items), 'ignored' (the first limit items whatever page says). limit=-1 returns
   * every device in each (with 'offset', on page 1 only).
   */
  devicePaging: 'offset' | 'cumulative' | 'ignored';
  /** GET /devices?limit=-1: every device (documented), or refused with 400 (a server that only pages). */
  allDevices: 'accepted' | 'refused';
  /** List endpoints (devices, topologies, notifications, things): a bare array, or `{data: [...], total}`. */
  lists: 'bare' | 'envelope';
  alertOrder: 'newest' | 'oldest';
  /** The alert's time field: 'created_at', 'none' (no time field), or another field name such as 'raised'. */
  alertTime: string;
  alertIds: boolean;
  /** type=latest: the point itself (the docs' sample), an array of one point, or the point under `data`, `result` or `reading`. */
  latestBody: 'point' | 'in-array' | 'under-data' | 'under-result' | 'under-reading';
  /**
   * type=averages: an array of buckets, one object for the whole range (the docs' sample shape),
   * `{data: [...]}`, or that one object wrapped: in an array of one, or under `data`, `result` or `reading`.
   */
  averages: 'array' | 'object' | 'envelope' | 'object-in-array' | 'object-under-data' | 'object-under-result' | 'object-under-reading';
  /** A telemetry point's readings (latest and averages): under `data`, or beside `timestamp`. */
  pointReadings: 'nested' | 'flat';
  /** `from`/`to`: zone-less accepted (zoned too), or a zone (Z or an offset) required. */
  dateTimes: 'zoneless' | 'zone-required';
}

export type DialectPoint = keyof Dialect;

export const DEFAULT_DIALECT: Readonly<Dialect> = Object.freeze({
  expiredToken: 401,
  refusedKey: 401,
  tokenBody: 'sample',
  liveTokens: 'many',
  devicePaging: 'offset',
  allDevices: 'accepted',
  lists: 'bare',
  alertOrder: 'newest',
  alertTime: 'created_at',
  alertIds: true,
  latestBody: 'point',
  averages: 'array',
  pointReadings: 'nested',
  dateTimes: 'zoneless',
});

/** The open points, in the table's order. */
export const DIALECT_POINTS: readonly DialectPoint[] = Object.freeze(Object.keys(DEFAULT_DIALECT) as DialectPoint[]);

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
  reading('token-sample', 'tokenBody', 'sample', 'the token exchange answers {type: "bearer", token}, no lifetime (as the docs show)'),
  reading('token-oauth2', 'tokenBody', 'oauth2', 'the token exchange answers {access_token, token_type: "Bearer", expires_in} (OAuth 2)'),
  reading('token-expires-at', 'tokenBody', 'expires-at', 'the token exchange answers {type: "bearer", token, expires_at} (ISO 8601)'),
  reading('token-jwt', 'tokenBody', 'jwt', 'the token exchange answers {type: "bearer", token}, the token a JWT with its expiry (exp)'),
  reading('tokens-many', 'liveTokens', 'many', 'every token lives out its lifetime, however many were exchanged'),
  reading('tokens-one', 'liveTokens', 'one', 'one live token per key: a new exchange revokes the earlier ones'),
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
  reading('latest-point', 'latestBody', 'point', 'type=latest answers the point itself (as the docs show)'),
  reading('latest-in-array', 'latestBody', 'in-array', 'type=latest answers an array of one point'),
  reading('latest-under-data', 'latestBody', 'under-data', 'type=latest answers {data: point}'),
  reading('latest-under-result', 'latestBody', 'under-result', 'type=latest answers {result: point}'),
  reading('latest-under-reading', 'latestBody', 'under-reading', 'type=latest answers {reading: point}'),
  reading('averages-array', 'averages', 'array', 'type=averages answers an array of buckets'),
  reading('averages-object', 'averages', 'object', 'type=averages answers one object for the whole range, like the latest sample'),
  reading('averages-envelope', 'averages', 'envelope', 'type=averages answers {data: [buckets]}'),
  reading('averages-object-in-array', 'averages', 'object-in-array', 'type=averages answers the one object in an array of one'),
  reading('averages-object-under-data', 'averages', 'object-under-data', 'type=averages answers {data: the one object}'),
  reading('averages-object-under-result', 'averages', 'object-under-result', 'type=averages answers {result: the one object}'),
  reading('averages-object-under-reading', 'averages', 'object-under-reading', 'type=averages answers {reading: the one object}'),
  reading('readings-nested', 'pointReadings', 'nested', "a point's readings sit under data"),
  reading('readings-flat', 'pointReadings', 'flat', "a point's readings sit beside timestamp (meta stays an object)"),
  reading('dates-zoneless', 'dateTimes', 'zoneless', 'from/to without a zone are accepted (as UTC)'),
  reading('dates-zone-required', 'dateTimes', 'zone-required', 'from/to without a zone get 400'),
]);

/** The reading of `point` whose value is `value`, if it has a name. */
export function namedReading(point: DialectPoint, value: unknown): DialectReading | undefined {
  return DIALECTS.find((d) => d.point === point && d.value === value);
}
