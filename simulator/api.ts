/**
 * The simulated Leapcraft Client API under /v1: routing and the endpoint handlers. Handlers are
 * pure with respect to HTTP: they take the parsed request and return an HttpReply, which keeps
 * latency and fault injection out of them.
 *
 * Order of checks for a known route: method (405), bearer token (401), parameters (400), then
 * the resource (404).
 *
 * Where the docs leave a point open, the handlers follow the dialect in the options (dialect.ts).
 */
import type { AlertStore } from './alerts';
import { deviceDetails, listItem, topologyListItem, type SimDevice, type World } from './data';
import { averagesBody, listBody, shapePoint, tokenAnswer, wrapPoint } from './dialect';
import { decodeSegment, errorReply, type HttpReply, jsonReply } from './http';
import { averages, averagesObject, latestTelemetry, reportInstant, type ModelParams } from './model';
import type { ResolvedOptions } from './options';
import { dateTimeParam, enumParam, intParam, stringParam, type Checked } from './params';
import { hasZone, isoUtc, parseDateTime } from './time';
import type { TokenStore } from './tokens';
import type { Dialect, Endpoint, Resolution, TopologyDetails } from './types';

/** The most buckets one averages request may span (a year and a month of days). */
export const MAX_AVERAGE_BUCKETS = 400;

export interface Route {
  endpoint: Endpoint;
  methods: readonly string[];
  /** The raw (still percent-encoded) id segment, for routes that have one. */
  rawId?: string;
}

const GET: readonly string[] = ['GET', 'HEAD'];
const POST: readonly string[] = ['POST'];

/** Maps raw path segments to a route; anything unrecognised is 'other' (404). */
export function matchRoute(segments: readonly string[]): Route {
  if (segments[0] !== 'v1') return { endpoint: 'other', methods: [] };
  const [a, b, c, ...rest] = segments.slice(1);
  if (rest.length > 0) return { endpoint: 'other', methods: [] };
  if (a === 'auth' && b === 'client' && c === 'token') return { endpoint: 'token', methods: POST };
  if (c !== undefined) return { endpoint: 'other', methods: [] };
  switch (a) {
    case 'devices':
      return b === undefined ? { endpoint: 'devices', methods: GET } : { endpoint: 'device', methods: GET, rawId: b };
    case 'telemetry':
      return b === undefined ? { endpoint: 'other', methods: [] } : { endpoint: 'telemetry', methods: GET, rawId: b };
    case 'topologies':
      return b === undefined ? { endpoint: 'topologies', methods: GET } : { endpoint: 'topology', methods: GET, rawId: b };
    case 'notifications':
      return b === undefined ? { endpoint: 'notifications', methods: GET } : { endpoint: 'other', methods: [] };
    case 'things':
      return b === undefined ? { endpoint: 'things', methods: GET } : { endpoint: 'other', methods: [] };
    default:
      return { endpoint: 'other', methods: [] };
  }
}

export interface ApiContext {
  now: number;
  world: World;
  options: ResolvedOptions;
  /** What the sensor model needs for this request's readings. */
  model: ModelParams;
  tokens: TokenStore;
  alerts: AlertStore;
  keyAccepted(key: string): boolean;
  tokenIssued(token: string): void;
  /** When the device stopped reporting (LeapcraftSimulator.silence); undefined while it reports. */
  silencedAt?(id: string): number | undefined;
}

/** The instant a device's latest reading is taken at: now, or when it went silent. */
function reportedBy(d: SimDevice, ctx: ApiContext): number {
  return Math.min(ctx.now, ctx.silencedAt?.(d.item.physical_id) ?? Infinity);
}

export interface ApiRequest {
  route: Route;
  method: string;
  headers: Record<string, string | string[] | undefined>;
  query: URLSearchParams;
  body: string;
}

const badParam = (message: string): HttpReply => errorReply(400, 'invalid_parameter', message);

export function handleApi(req: ApiRequest, ctx: ApiContext): HttpReply {
  const { route } = req;
  if (route.endpoint === 'other') return errorReply(404, 'not_found', 'No such endpoint');
  if (!route.methods.includes(req.method)) {
    return errorReply(405, 'method_not_allowed', `Use ${route.methods.join(' or ')}`, { Allow: route.methods.join(', ') });
  }
  if (route.endpoint === 'token') return exchangeToken(req, ctx);
  const refused = checkBearer(req.headers.authorization, ctx.tokens, ctx.options.dialect);
  if (refused) return refused;

  let id: string | undefined;
  if (route.rawId !== undefined) {
    const decoded = decodeSegment(route.rawId);
    if (decoded === null) return errorReply(400, 'invalid_path', 'Malformed percent-escape in the path');
    id = decoded;
  }
  switch (route.endpoint) {
    case 'devices':
      return listDevices(req.query, ctx);
    case 'device':
      return withDevice(id as string, ctx, (d) => jsonReply(200, deviceDetails(d)));
    case 'telemetry':
      return telemetry(id as string, req.query, ctx);
    case 'topologies':
      return listReply(
        ctx.world.gateways.map((g) => topologyListItem(ctx.world, g)),
        ctx.world.gateways.length,
        ctx,
      );
    case 'topology':
      return topology(id as string, ctx);
    case 'notifications':
      return notifications(req.query, ctx);
    case 'things':
      return things(req.query, ctx);
  }
}

const FORM = 'application/x-www-form-urlencoded';

function exchangeToken(req: ApiRequest, ctx: ApiContext): HttpReply {
  const header = req.headers['content-type'];
  const mediaType = (typeof header === 'string' ? header : '').split(';')[0]?.trim().toLowerCase() ?? '';
  // A missing Content-Type is read as a form, as the body cannot be anything else here.
  if (mediaType !== '' && mediaType !== FORM) {
    return errorReply(415, 'unsupported_media_type', `Send the api_key as ${FORM}`);
  }
  const key = new URLSearchParams(req.body).get('api_key');
  if (key === null || key === '') return refuseKey('api_key is required', ctx.options.dialect);
  if (!ctx.keyAccepted(key)) return refuseKey('Unknown or revoked API key', ctx.options.dialect);
  const form = ctx.options.dialect.tokenBody;
  if (ctx.options.dialect.liveTokens === 'one') ctx.tokens.revokeAll();
  const { token, issuedAt } = ctx.tokens.issue(form === 'jwt' ? 'jwt' : 'opaque');
  ctx.tokenIssued(token);
  return jsonReply(200, tokenAnswer(token, form, issuedAt, ctx.tokens.lifetimeMs));
}

/** A refused key, as the dialect's refusedKey says: 401/400/403, or 200 with the error body and no token. */
function refuseKey(message: string, dialect: Dialect): HttpReply {
  const status = dialect.refusedKey === '200-no-token' ? 200 : dialect.refusedKey;
  return errorReply(status, 'invalid_api_key', message);
}

/**
 * A missing or malformed Authorization header is 401 in every dialect; an expired, revoked or
 * unknown token gets the dialect's expiredToken status (403 without a WWW-Authenticate challenge).
 */
function checkBearer(header: string | string[] | undefined, tokens: TokenStore, dialect: Dialect): HttpReply | undefined {
  const challenge = (error: string): Record<string, string> => ({ 'WWW-Authenticate': `Bearer error="${error}"` });
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) {
    return errorReply(401, 'missing_token', 'Send Authorization: Bearer <token>', challenge('invalid_request'));
  }
  const state = tokens.check(match[1] as string);
  if (state === 'valid') return undefined;
  const message = state === 'expired' ? 'The token has expired' : 'Unknown or revoked token';
  if (dialect.expiredToken === 403) return errorReply(403, 'invalid_token', message);
  return errorReply(401, 'invalid_token', message, challenge('invalid_token'));
}

/** A list endpoint's 200, bare or in the dialect's envelope; `total` is the full count. */
function listReply(items: readonly unknown[], total: number, ctx: ApiContext): HttpReply {
  return jsonReply(200, listBody(items, total, ctx.options.dialect));
}

function withDevice(id: string, ctx: ApiContext, found: (d: SimDevice) => HttpReply): HttpReply {
  const device = ctx.world.byId.get(id);
  return device ? found(device) : errorReply(404, 'not_found', 'No device with that physical_id');
}

function listDevices(query: URLSearchParams, ctx: ApiContext): HttpReply {
  const limit = intParam(query, 'limit', { def: 100, min: 1, minusOneMeansAll: true });
  if (!limit.ok) return badParam(limit.message);
  const page = intParam(query, 'page', { def: 1, min: 1 });
  if (!page.ok) return badParam(page.message);
  if (limit.value === -1 && ctx.options.dialect.allDevices === 'refused') return badParam('limit must be between 1 and 1000');
  const all = ctx.world.devices;
  const [start, end] = devicePage(limit.value, page.value, all.length, ctx.options.dialect.devicePaging);
  return listReply(all.slice(start, end).map(listItem), all.length, ctx);
}

/** The [start, end) slice of the device list a page holds under each paging dialect. */
function devicePage(limit: number, page: number, count: number, paging: Dialect['devicePaging']): [number, number] {
  switch (paging) {
    case 'offset':
      // limit=-1 puts everything on page 1; later pages are empty.
      return limit === -1 ? (page === 1 ? [0, count] : [0, 0]) : [(page - 1) * limit, page * limit];
    case 'cumulative':
      // "limit multiplied by page": page N is the first N·limit items; limit=-1 is everything.
      return limit === -1 ? [0, count] : [0, page * limit];
    case 'ignored':
      return limit === -1 ? [0, count] : [0, limit];
  }
}

const TELEMETRY_TYPES = ['latest', 'averages'] as const;
const RESOLUTIONS: readonly Resolution[] = ['daily', 'weekly', 'monthly'];

function telemetry(id: string, query: URLSearchParams, ctx: ApiContext): HttpReply {
  const type = enumParam(query, 'type', TELEMETRY_TYPES);
  if (!type.ok) return badParam(type.message);
  const params = ctx.model;
  const dialect = ctx.options.dialect;
  if (type.value === 'latest') {
    return withDevice(id, ctx, (d) => jsonReply(200, wrapPoint(shapePoint(latestTelemetry(d, reportedBy(d, ctx), params), dialect), dialect.latestBody)));
  }
  const resolution = enumParam(query, 'resolution', RESOLUTIONS);
  if (!resolution.ok) return badParam(resolution.message);
  const from = dateTime(query, 'from', dialect);
  if (!from.ok) return badParam(from.message);
  const to = dateTime(query, 'to', dialect);
  if (!to.ok) return badParam(to.message);
  if (from.value > to.value) return badParam('from must not be after to');
  return withDevice(id, ctx, (d) => {
    const result = averages(d, from.value, to.value, resolution.value, ctx.now, params, MAX_AVERAGE_BUCKETS);
    if (!result.ok) {
      return errorReply(400, 'range_too_large', `The range spans more than ${MAX_AVERAGE_BUCKETS} ${resolution.value} buckets`);
    }
    const whole = () => shapePoint(averagesObject(d.item.physical_id, result.buckets, from.value, ctx.now), dialect);
    return jsonReply(200, averagesBody(result.buckets.map((b) => shapePoint(b, dialect)), whole, dialect.averages));
  });
}

/** A from/to date-time; with dateTimes 'zone-required', a zone-less one is refused naming the parameter. */
function dateTime(query: URLSearchParams, name: string, dialect: Dialect): Checked<number> {
  const checked = dateTimeParam(query, name, parseDateTime);
  if (!checked.ok || dialect.dateTimes !== 'zone-required') return checked;
  if (!hasZone(stringParam(query, name) as string)) {
    return { ok: false, message: `${name} must name its time zone (RFC 3339), e.g. 2021-05-26T00:00:00.000Z or 2021-05-26T02:00:00.000+02:00` };
  }
  return checked;
}

function topology(id: string, ctx: ApiContext): HttpReply {
  const gateway = ctx.world.gatewayById.get(id);
  if (!gateway) return errorReply(404, 'not_found', 'No topology with that gateway id');
  const index = ctx.world.gateways.indexOf(gateway);
  const body: TopologyDetails = {
    gateway_id: gateway.gateway_id,
    created_at: gateway.created_at,
    name: gateway.name,
    devices: ctx.world.devices
      .filter((d) => d.gatewayIndex === index)
      .map((d) => ({
        physical_id: d.item.physical_id,
        type: d.item.type,
        serial: d.item.serial,
        rssi: d.rssi,
        last_seen: isoUtc(reportInstant(d, reportedBy(d, ctx), ctx.model)),
      })),
  };
  return jsonReply(200, body);
}

function notifications(query: URLSearchParams, ctx: ApiContext): HttpReply {
  const limit = intParam(query, 'limit', { def: 20, min: 1, max: 50 });
  if (!limit.ok) return badParam(limit.message);
  const offset = intParam(query, 'offset', { def: 0, min: 0 });
  if (!offset.ok) return badParam(offset.message);
  const alerts = ctx.alerts.query({
    physicalId: stringParam(query, 'physical_id'),
    limit: limit.value,
    offset: offset.value,
    order: ctx.options.dialect.alertOrder,
    withIds: ctx.options.dialect.alertIds,
    timeField: ctx.options.dialect.alertTime,
  });
  return listReply(alerts, ctx.alerts.count(stringParam(query, 'physical_id')), ctx);
}

function things(query: URLSearchParams, ctx: ApiContext): HttpReply {
  const limit = intParam(query, 'limit', { def: 10, min: 1, minusOneMeansAll: true });
  if (!limit.ok) return badParam(limit.message);
  const all = ctx.world.things;
  const chosen = limit.value === -1 ? all : all.slice(0, limit.value);
  return listReply(structuredClone(chosen), all.length, ctx);
}
