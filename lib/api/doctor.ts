/**
 * leapcraft-doctor: a first-contact check of a Leapcraft API server with a real key. The public
 * docs leave several points open (docs/API.md; the simulator speaks every plausible reading, its
 * "dialects"); this check sends at most DOCTOR_MAX_REQUESTS read-only requests and says which
 * reading the server speaks for each point, with the shapes of its answers (field names and
 * types, never values), timings and anything unexpected, in a report meant to be pasted into a
 * bug report.
 *
 * Read-only: GETs, the token exchange with the key (the only way to get a token) and one token
 * exchange with a made-up key (to see how a refused key is answered).
 *
 * Redaction: the report is built from field names, types, counts, statuses and timings only.
 * As a last guard every string in it (and the formatted text) has the key, every token and every
 * identifying value seen in an answer (physical ids, names, serials, gateway ids, messages)
 * replaced by `[redacted]`.
 *
 * The readings carry the simulator's dialect names (simulator/dialect.ts DIALECTS), kept here so
 * that lib/ does not import the simulator; test/doctor.test.ts checks that they are the same.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { packageInfo } from '../package';
import { DEFAULT_BASE_URL } from './client';
import { isLeapcraftError } from './errors';
import { redactSecrets } from './redact';
import { Transport, WireRequest, WireResponse } from './transport';
import { formatApiDateTime, invalid, validateBaseUrl } from './validation';

/** Requests one check may send, the token exchanges included. */
export const DOCTOR_MAX_REQUESTS = 15;
/** Per request, unless the caller says otherwise. */
export const DOCTOR_DEFAULT_TIMEOUT_MS = 15_000;

/** The points the docs leave open, in the simulator's order (DIALECT_POINTS). */
export const DOCTOR_POINTS = [
  'expiredToken', 'refusedKey', 'devicePaging', 'allDevices', 'lists', 'alertOrder', 'alertTime', 'alertIds', 'averages',
  'pointReadings', 'dateTimes',
] as const;
export type DoctorPoint = (typeof DOCTOR_POINTS)[number];

/**
 * The simulator's name of each reading, by point and by the reading's value as the simulator's
 * `dialect` option takes it (stringified). An alert time field without a name of its own is
 * reported as `alertTime=<field>`, as the simulator's describeDialect does.
 */
export const READING_NAMES: { readonly [P in DoctorPoint]: Readonly<Record<string, string>> } = {
  expiredToken: { 401: 'expired401', 403: 'expired403' },
  refusedKey: { 401: 'refused401', 400: 'refused400', 403: 'refused403', '200-no-token': 'refused200' },
  devicePaging: { offset: 'paging-offset', cumulative: 'paging-cumulative', ignored: 'paging-ignored' },
  allDevices: { accepted: 'limit-all-accepted', refused: 'limit-all-refused' },
  lists: { bare: 'lists-bare', envelope: 'lists-envelope' },
  alertOrder: { newest: 'alerts-newest', oldest: 'alerts-oldest' },
  alertTime: { created_at: 'alert-time-created-at', raised: 'alert-time-raised', none: 'alert-time-none' },
  alertIds: { true: 'alert-ids-present', false: 'alert-ids-absent' },
  averages: { array: 'averages-array', object: 'averages-object', envelope: 'averages-envelope' },
  pointReadings: { nested: 'readings-nested', flat: 'readings-flat' },
  dateTimes: { zoneless: 'dates-zoneless', 'zone-required': 'dates-zone-required' },
};

export type ReadingValue = string | number | boolean;

export interface PointFinding {
  /** The simulator's name of the reading the server speaks (e.g. 'expired403'); null when the check could not tell. */
  reading: string | null;
  /** The reading as the simulator's `dialect` option takes it (403, 'envelope', a field name, true); absent when not told. */
  value?: ReadingValue;
  /** How it was told (or why not): statuses, field names, counts. */
  evidence: string;
}

/**
 * 'ok': every probe ran; 'incomplete': some could not (rate limit, cancelled, budget);
 * 'key-refused': the token exchange refused the key; 'unavailable': the API gave no usable answer
 * to the token exchange (unreachable, timeout, 5xx, 429).
 */
export type DoctorOutcome = 'ok' | 'incomplete' | 'key-refused' | 'unavailable';

export interface DoctorReport {
  /** `leapcraft-doctor <version>`. */
  tool: string;
  baseUrl: string;
  /** When the check started, ISO 8601 UTC. */
  startedAt: string;
  outcome: DoctorOutcome;
  points: Record<DoctorPoint, PointFinding>;
  /** Every reading told, by the simulator's name, in point order (defaults included). */
  dialect: string[];
  /** By request label (`GET /devices?limit=-1`): the answer's shape, field names and types only. */
  shapes: Record<string, string>;
  /** By request label: milliseconds until the whole answer was in. */
  timings: Record<string, number>;
  /** By request label: the HTTP status, or 'no answer'. */
  statuses: Record<string, number | string>;
  surprises: string[];
  /** Requests sent (at most DOCTOR_MAX_REQUESTS). */
  requests: number;
}

export interface DoctorOptions {
  baseUrl?: string;
  apiKey: string;
  /** Ends the check early; the report says what was learnt until then. */
  signal?: AbortSignal;
  /** Per request; default DOCTOR_DEFAULT_TIMEOUT_MS. */
  timeoutMs?: number;
  /** The clock for the averages range (tests). */
  now?: () => number;
  userAgent?: string;
}

// ---- shapes ------------------------------------------------------------------------------------

const MAX_SHAPE_DEPTH = 8;
const MAX_FIELDS = 50;
const MAX_ITEMS_SAMPLED = 100;

const DATE_TIME_ZONED = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?(?:Z|[+-]\d\d:?\d\d)$/i;
const DATE_TIME_ZONELESS = /^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(?::\d\d(?:[.,]\d+)?)?$/i;
const DATE_ONLY = /^\d{4}-\d\d-\d\d$/;

/** The type of a scalar, with the date-time form for strings that hold one (the form, not the value). */
function scalarType(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') {
    if (DATE_TIME_ZONED.test(value)) return value.includes(' ') ? 'string<date-time, space, zone>' : 'string<date-time, zone>';
    if (DATE_TIME_ZONELESS.test(value)) return value.includes(' ') ? 'string<date-time, space, no zone>' : 'string<date-time, no zone>';
    if (DATE_ONLY.test(value)) return 'string<date>';
    return 'string';
  }
  return typeof value;
}

/** Values of one place in the answers merged: which types it took, its fields, its items. */
class ShapeNode {
  readonly scalars = new Set<string>();
  objects = 0;
  readonly fields = new Map<string, ShapeNode>();
  /** Fields beyond MAX_FIELDS: counted, not described. */
  extraFields = new Set<string>();
  /** How many of the merged objects had this field (for `?`). */
  present = 0;
  arrays = 0;
  minLength = Infinity;
  maxLength = 0;
  items?: ShapeNode;
  deeper = false;

  add(value: unknown, depth = 0): void {
    if (depth > MAX_SHAPE_DEPTH) {
      this.deeper = true;
      return;
    }
    if (Array.isArray(value)) {
      this.arrays += 1;
      this.minLength = Math.min(this.minLength, value.length);
      this.maxLength = Math.max(this.maxLength, value.length);
      for (const item of value.slice(0, MAX_ITEMS_SAMPLED)) (this.items ??= new ShapeNode()).add(item, depth + 1);
      return;
    }
    if (value && typeof value === 'object') {
      this.objects += 1;
      for (const [key, v] of Object.entries(value)) {
        let child = this.fields.get(key);
        if (!child) {
          if (this.fields.size >= MAX_FIELDS) {
            this.extraFields.add(key);
            continue;
          }
          child = new ShapeNode();
          this.fields.set(key, child);
        }
        child.present += 1;
        child.add(v, depth + 1);
      }
      return;
    }
    this.scalars.add(scalarType(value));
  }

  render(indent = ''): string {
    const parts = [...this.scalars].sort();
    if (this.objects > 0) parts.push(this.renderObject(indent));
    if (this.arrays > 0) {
      const length = this.minLength === this.maxLength ? String(this.maxLength) : `${this.minLength}..${this.maxLength}`;
      parts.push(this.items ? `array(${length}) of ${this.items.render(indent)}` : `array(${length})`);
    }
    if (this.deeper) parts.push('…');
    return parts.length > 0 ? parts.join(' | ') : 'nothing';
  }

  private renderObject(indent: string): string {
    const inner = `${indent}  `;
    const lines = [...this.fields].map(([key, child]) => `${key}${child.present < this.objects ? '?' : ''}: ${child.render(inner)}`);
    if (this.extraFields.size > 0) lines.push(`… ${this.extraFields.size} more fields`);
    if (lines.length === 0) return '{}';
    const oneLine = `{ ${lines.join(', ')} }`;
    if (oneLine.length <= 72 && !oneLine.includes('\n')) return oneLine;
    return `{\n${lines.map((l) => `${inner}${l}`).join('\n')}\n${indent}}`;
  }
}

/** The shape of one JSON value: field names and types, nested; arrays as their items merged. */
export function describeShape(value: unknown): string {
  const node = new ShapeNode();
  node.add(value);
  return node.render();
}

// ---- reading the answers ----------------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** Keys whose string values identify someone's estate: collected to be redacted wherever they turn up. */
const IDENTIFYING_KEY = /(?:^|_)(?:id|ids|name|names|serial|message|token|key|title|description|label|devices|email|address|location)$/i;
const MAX_IDENTIFIERS = 20_000;

/** A list answer: a bare array, `{data: [...]}` (the envelope), or a list under some other key. */
interface ListShape {
  kind: 'bare' | 'envelope' | 'other' | 'none';
  items: unknown[];
  /** `total` of an envelope, when a number. */
  total?: number;
  /** For 'other': the key the list was under. */
  key?: string;
}

const OTHER_LIST_KEYS = ['items', 'results', 'devices', 'topologies', 'notifications', 'alerts', 'things', 'list', 'records'];

function listShape(body: unknown): ListShape {
  if (Array.isArray(body)) return { kind: 'bare', items: body };
  if (isObject(body)) {
    if (Array.isArray(body.data)) {
      return { kind: 'envelope', items: body.data, ...(typeof body.total === 'number' ? { total: body.total } : {}) };
    }
    for (const key of OTHER_LIST_KEYS) if (Array.isArray(body[key])) return { kind: 'other', items: body[key] as unknown[], key };
  }
  return { kind: 'none', items: [] };
}

function describeList(list: ListShape): string {
  switch (list.kind) {
    case 'bare':
      return `a bare array of ${list.items.length}`;
    case 'envelope':
      return `{data: [${list.items.length}]${list.total !== undefined ? ', total' : ''}}`;
    case 'other':
      return `a list of ${list.items.length} under "${list.key}"`;
    default:
      return 'no list';
  }
}

/** A point's fields that describe it rather than measure something (as lib/telemetry/readings.ts). */
const POINT_FIELDS = new Set([
  'physical_id', 'timestamp', 'created_at', 'updated_at', 'time', 'date', 'from', 'to', 'start', 'end',
  'resolution', 'type', 'id', 'serial', 'name', 'topology_id', 'gateway_id', 'meta', 'count', 'samples',
]);

/** Where a point keeps its readings: under `data` (nested), beside `timestamp` (flat), or neither. */
function readingsPlace(point: unknown): { place: 'nested' | 'flat' | 'none'; fields: string[] } {
  if (!isObject(point)) return { place: 'none', fields: [] };
  if (isObject(point.data)) return { place: 'nested', fields: Object.keys(point.data).filter((k) => k !== 'meta') };
  const numeric = Object.keys(point).filter((k) => !POINT_FIELDS.has(k) && typeof point[k] === 'number');
  return numeric.length > 0 ? { place: 'flat', fields: numeric } : { place: 'none', fields: [] };
}

function fieldList(fields: readonly string[], max = 8): string {
  const shown = fields.slice(0, max).join(', ');
  return fields.length > max ? `${shown}, …` : shown;
}

function timeOf(value: unknown): number | undefined {
  if (typeof value !== 'string' || !(DATE_TIME_ZONED.test(value) || DATE_TIME_ZONELESS.test(value))) return undefined;
  const iso = DATE_TIME_ZONED.test(value) ? value.replace(' ', 'T') : `${value.replace(' ', 'T')}Z`;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

/** A field name the simulator's alertTime option could take (simulator/dialect.ts). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

function readingName(point: DoctorPoint, value: ReadingValue): string {
  return READING_NAMES[point][String(value)] ?? `${point}=${String(value)}`;
}

/** A short random hex string: the made-up key and token. */
const randomHex = (bytes: number) => randomBytes(bytes).toString('hex');

// ---- the check ---------------------------------------------------------------------------------

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  /** The parsed JSON body; undefined when the body is not JSON. */
  json?: unknown;
  bodyKind: 'json' | 'empty' | 'html' | 'text';
}

interface SendOptions {
  method?: 'GET' | 'POST';
  path: string;
  query?: WireRequest['query'];
  form?: Record<string, string>;
  bearer?: string;
}

/** Secrets and identifiers of each report, for formatDoctorReport's last guard; gone with the report. */
const REPORT_SECRETS = new WeakMap<DoctorReport, string[]>();

class Doctor {
  private readonly transport: Transport;
  private readonly secrets = new Set<string>();
  private readonly identifiers = new Set<string>();
  private readonly points: Partial<Record<DoctorPoint, PointFinding>> = {};
  private readonly shapes: Record<string, string> = {};
  private readonly timings: Record<string, number> = {};
  private readonly statuses: Record<string, number | string> = {};
  private readonly surprises: string[] = [];
  private readonly lists: Array<{ label: string; list: ListShape }> = [];
  private outcome: DoctorOutcome = 'ok';
  /** Why no more requests go out, once that is so. */
  private stopped?: string;
  private readonly startedAt: number;

  constructor(
    private readonly baseUrl: string,
    private readonly apiKey: string,
    private readonly options: DoctorOptions,
  ) {
    this.secrets.add(apiKey);
    this.startedAt = Date.now();
    this.transport = new Transport({
      baseUrl,
      timeoutMs: options.timeoutMs ?? DOCTOR_DEFAULT_TIMEOUT_MS,
      concurrency: 1,
      // Every request counts against the budget: nothing is retried, a 429 ends the check.
      maxRetries: 0,
      backoffBaseMs: 0,
      backoffMaxMs: 0,
      maxRetryAfterMs: 0,
      userAgent: options.userAgent ?? `leapcraft-doctor/${packageInfo.version} (${packageInfo.name})`,
    });
  }

  async run(): Promise<DoctorReport> {
    try {
      const token = await this.tokenWithKey();
      await this.refusedKey();
      await this.expiredToken();
      if (token === undefined) {
        this.notProbed(this.outcome === 'key-refused' ? 'the API key was refused' : this.stopped ?? 'no token');
      } else {
        const device = await this.devices(token);
        await this.telemetry(token, device);
        await this.notifications(token);
        await this.topologies(token);
        await this.things(token);
        this.decideLists();
        this.notProbed(this.stopped ?? 'not reached');
      }
    } finally {
      this.transport.close();
    }
    return this.report();
  }

  // ---- plumbing -------------------------------------------------------------------------------

  private get requests(): number {
    return this.transport.counters.attempts;
  }

  private surprise(text: string): void {
    if (!this.surprises.includes(text)) this.surprises.push(text);
  }

  private found(point: DoctorPoint, value: ReadingValue, evidence: string): void {
    this.points[point] = { reading: readingName(point, value), value, evidence };
  }

  private cannotTell(point: DoctorPoint, evidence: string): void {
    if (!this.points[point]) this.points[point] = { reading: null, evidence: `cannot tell: ${evidence}` };
  }

  /** A probe that got no answer: cannot tell, unless the check had stopped (then: not probed). */
  private noAnswer(point: DoctorPoint, what: string): void {
    if (this.stopped === undefined) this.cannotTell(point, `no answer to ${what}`);
  }

  private notProbed(why: string): void {
    for (const point of DOCTOR_POINTS) if (!this.points[point]) this.points[point] = { reading: null, evidence: `not probed: ${why}` };
  }

  private stop(why: string): void {
    if (this.stopped === undefined) this.stopped = why;
    if (this.outcome === 'ok') this.outcome = 'incomplete';
  }

  /** One request; undefined when none was sent or no answer came (noted in the report). */
  private async send(label: string, req: SendOptions): Promise<Answer | undefined> {
    if (this.stopped !== undefined) return undefined;
    if (this.requests >= DOCTOR_MAX_REQUESTS) {
      this.surprise(`the budget of ${DOCTOR_MAX_REQUESTS} requests was spent before ${label}`);
      this.stop('request budget spent');
      return undefined;
    }
    const started = performance.now();
    let res: WireResponse;
    try {
      res = await this.transport.send({
        method: req.method ?? 'GET',
        path: req.path,
        query: req.query,
        form: req.form,
        headers: req.bearer !== undefined ? { Authorization: `Bearer ${req.bearer}` } : undefined,
        endpoint: label,
        signal: this.options.signal,
      });
    } catch (err) {
      const code = isLeapcraftError(err) ? err.code : 'LEAPCRAFT_ERROR';
      if (code === 'LEAPCRAFT_ABORTED') {
        this.statuses[label] = 'cancelled';
        this.surprise(`the check was cancelled (deadline) at ${label}`);
        this.stop('the check was cancelled');
      } else if (code === 'LEAPCRAFT_RATE_LIMITED') {
        this.statuses[label] = 'not sent';
        this.surprise(`the API asked to pause (HTTP 429 Retry-After) before ${label}: the check stopped there`);
        this.stop('rate limited');
      } else {
        this.timings[label] = Math.round(performance.now() - started);
        this.statuses[label] = 'no answer';
        const why = isLeapcraftError(err) ? err.message.replace(`${label} `, '') : 'unexpected failure';
        this.surprise(`${label}: no answer (${why})`);
      }
      return undefined;
    }
    this.timings[label] = Math.round(performance.now() - started);
    this.statuses[label] = res.status;
    const answer = this.read(res);
    this.collect(answer.json);
    if (answer.bodyKind === 'json') this.shapes[label] = describeShape(answer.json);
    else if (answer.bodyKind !== 'empty') this.shapes[label] = answer.bodyKind === 'html' ? '(an HTML page, not JSON)' : '(text, not JSON)';
    const type = String(res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (answer.bodyKind === 'json' && type !== '' && !type.endsWith('json')) this.surprise(`${label} answered JSON with Content-Type ${type}`);
    if (answer.bodyKind === 'html') this.surprise(`${label} answered HTTP ${res.status} with an HTML page (a proxy, a gateway or a maintenance page?)`);
    if (res.status >= 300 && res.status < 400) this.surprise(`${label} answered HTTP ${res.status}, a redirect (never followed: it could carry the key or token elsewhere)`);
    if (res.status === 429) {
      this.surprise(`${label} was rate limited (HTTP 429): the check stopped there`);
      this.stop('rate limited');
    }
    return answer;
  }

  private read(res: WireResponse): Answer {
    const text = res.body.trim();
    const base = { status: res.status, headers: res.headers };
    if (text === '') return { ...base, bodyKind: 'empty' };
    if (text.startsWith('<')) return { ...base, bodyKind: 'html' };
    try {
      return { ...base, json: JSON.parse(text) as unknown, bodyKind: 'json' };
    } catch {
      return { ...base, bodyKind: 'text' };
    }
  }

  /** Remembers every identifying string of an answer, to redact it wherever it might turn up. */
  private collect(value: unknown, key = '', depth = 0): void {
    if (depth > 12 || this.identifiers.size >= MAX_IDENTIFIERS) return;
    if (typeof value === 'string') {
      if (IDENTIFYING_KEY.test(key) && value.trim() !== '') this.identifiers.add(value);
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) this.collect(item, key, depth + 1);
      return;
    }
    if (isObject(value)) for (const [k, v] of Object.entries(value)) this.collect(v, k, depth + 1);
  }

  private noteList(label: string, body: unknown): ListShape {
    const list = listShape(body);
    this.lists.push({ label, list });
    return list;
  }

  // ---- the probes -----------------------------------------------------------------------------

  /** The token exchange with the key: needed for everything after it. */
  private async tokenWithKey(): Promise<string | undefined> {
    const label = 'POST /auth/client/token';
    const a = await this.send(label, { method: 'POST', path: '/auth/client/token', form: { api_key: this.apiKey } });
    if (!a) {
      this.outcome = 'unavailable';
      this.stopped = 'the API did not answer';
      return undefined;
    }
    const token = isObject(a.json) && typeof a.json.token === 'string' && a.json.token.trim() !== '' ? a.json.token : undefined;
    if (a.status >= 200 && a.status < 300 && token !== undefined) {
      this.secrets.add(token);
      const extra = Object.keys(a.json as object).filter((k) => k !== 'type' && k !== 'token');
      if (extra.length > 0) this.surprise(`the token answer carries fields beyond type and token: ${fieldList(extra)} (a lifetime?)`);
      return token;
    }
    if ((a.status >= 400 && a.status < 500 && a.status !== 429 && a.status !== 408) || (a.status >= 200 && a.status < 300)) {
      this.outcome = 'key-refused';
      this.surprise(`the API key was refused: HTTP ${a.status}${a.status < 300 ? ' without a token' : ''}`);
      return undefined;
    }
    this.outcome = 'unavailable';
    this.surprise(`the token exchange answered HTTP ${a.status}: no token, nothing else could be checked`);
    this.stopped = `the token exchange answered HTTP ${a.status}`;
    return undefined;
  }

  /** refusedKey: a made-up key, as a wrong one would be. */
  private async refusedKey(): Promise<void> {
    const label = 'POST /auth/client/token (made-up key)';
    const bogus = `leapcraft-doctor-${randomHex(16)}`;
    this.secrets.add(bogus);
    const a = await this.send(label, { method: 'POST', path: '/auth/client/token', form: { api_key: bogus } });
    if (!a) return this.noAnswer('refusedKey', 'a made-up key');
    const body = isObject(a.json) ? ` (body fields: ${fieldList(Object.keys(a.json)) || 'none'})` : '';
    const realKey = this.statuses['POST /auth/client/token'];
    if (this.outcome === 'key-refused' && typeof realKey === 'number' && realKey !== a.status) {
      this.surprise(`the key was refused with HTTP ${realKey}, a made-up key with HTTP ${a.status}`);
    }
    if (a.status === 401 || a.status === 400 || a.status === 403) {
      return this.found('refusedKey', a.status, `a made-up key got HTTP ${a.status}${body}`);
    }
    if (a.status >= 200 && a.status < 300) {
      if (isObject(a.json) && typeof a.json.token === 'string' && a.json.token !== '') {
        this.secrets.add(a.json.token);
        this.surprise('a made-up API key was given a token');
        return this.cannotTell('refusedKey', `a made-up key got HTTP ${a.status} with a token`);
      }
      return this.found('refusedKey', '200-no-token', `a made-up key got HTTP ${a.status} without a token${body}`);
    }
    if (a.status >= 400 && a.status < 500 && a.status !== 429) {
      this.surprise(`a made-up key got HTTP ${a.status}, none of the readings the simulator knows (401, 400, 403, 200 without a token)`);
    }
    this.cannotTell('refusedKey', `a made-up key got HTTP ${a.status}`);
  }

  /** expiredToken, inferred from a token that was never issued. */
  private async expiredToken(): Promise<void> {
    const label = 'GET /devices?limit=1 (made-up token)';
    const bogus = randomHex(24);
    this.secrets.add(bogus);
    const a = await this.send(label, { path: '/devices', query: { limit: 1 }, bearer: bogus });
    if (!a) return this.noAnswer('expiredToken', 'a made-up token');
    const inferred = 'inferred from a made-up token (never issued): an expired one may still be answered differently';
    const challenge = a.headers['www-authenticate'] !== undefined ? 'with' : 'without';
    if (a.status === 401 || a.status === 403) {
      return this.found('expiredToken', a.status, `a made-up bearer token got HTTP ${a.status} ${challenge} a WWW-Authenticate challenge; ${inferred}`);
    }
    if (a.status >= 200 && a.status < 300) this.surprise('a made-up bearer token was accepted (HTTP 2xx)');
    else if (a.status !== 429) this.surprise(`a made-up bearer token got HTTP ${a.status}, neither 401 nor 403`);
    this.cannotTell('expiredToken', `a made-up bearer token got HTTP ${a.status}`);
  }

  /** allDevices, devicePaging and a list shape; returns a device's physical id for the telemetry probes. */
  private async devices(token: string): Promise<string | undefined> {
    let count: number | undefined;
    let first: string | undefined;
    const idOf = (item: unknown) => (isObject(item) && typeof item.physical_id === 'string' && item.physical_id !== '' ? item.physical_id : undefined);

    const allLabel = 'GET /devices?limit=-1';
    const all = await this.send(allLabel, { path: '/devices', query: { limit: -1 }, bearer: token });
    if (all) {
      if (all.status >= 200 && all.status < 300) {
        const list = this.noteList(allLabel, all.json);
        count = list.total ?? list.items.length;
        first = list.items.map(idOf).find((id) => id !== undefined);
        this.found('allDevices', 'accepted', `limit=-1 got HTTP ${all.status} with ${describeList(list)}`);
        if (list.items.length === 100) {
          this.surprise('limit=-1 answered exactly 100 devices: the server may read -1 as the default limit (100); the client then reads on from page 2');
        }
        if (list.total !== undefined && list.total !== list.items.length) {
          this.surprise(`limit=-1 answered ${list.items.length} devices of a total of ${list.total}`);
        }
      } else if (all.status === 400 || all.status === 422) {
        this.found('allDevices', 'refused', `limit=-1 got HTTP ${all.status}`);
      } else {
        this.cannotTell('allDevices', `limit=-1 got HTTP ${all.status}`);
        if (all.status === 401 || all.status === 403) this.surprise(`a token just issued was refused (HTTP ${all.status})`);
      }
    } else {
      this.noAnswer('allDevices', 'limit=-1');
    }

    const page = async (n: number) => {
      const label = `GET /devices?limit=1&page=${n}`;
      const a = await this.send(label, { path: '/devices', query: { limit: 1, page: n }, bearer: token });
      if (!a || a.status < 200 || a.status >= 300) return { answer: a, items: undefined };
      const list = this.noteList(label, a.json);
      return { answer: a, items: list.items, total: list.total };
    };
    const page1 = await page(1);
    if (!page1.items) {
      if (page1.answer) this.cannotTell('devicePaging', `page 1 got HTTP ${page1.answer.status}`);
      else this.noAnswer('devicePaging', 'page 1');
      return first;
    }
    count ??= page1.total;
    const p1 = page1.items.map((item) => idOf(item) ?? JSON.stringify(item));
    first ??= page1.items.map(idOf).find((id) => id !== undefined);
    if (p1.length === 0) {
      this.cannotTell('devicePaging', 'the account has no devices');
      return first;
    }
    if (p1.length > 1) {
      this.surprise(`limit=1 answered ${p1.length} devices: the server ignores limit`);
      this.cannotTell('devicePaging', `limit=1&page=1 answered ${p1.length} devices (limit not honoured)`);
      return first;
    }
    if (count !== undefined && count < 2) {
      this.cannotTell('devicePaging', `the account has ${count} device (paging needs at least 2)`);
      return first;
    }
    const page2 = await page(2);
    if (!page2.items) {
      if (page2.answer) this.cannotTell('devicePaging', `page 2 got HTTP ${page2.answer.status}`);
      else this.noAnswer('devicePaging', 'page 2');
      return first;
    }
    const p2 = page2.items.map((item) => idOf(item) ?? JSON.stringify(item));
    if (p2.length === 2 && p2[0] === p1[0] && p2[1] !== p1[0]) {
      this.found('devicePaging', 'cumulative', 'limit=1&page=2 answered 2 devices, the first the one of page 1: page N holds the first N·limit devices');
    } else if (p2.length === 1 && p2[0] === p1[0]) {
      this.found('devicePaging', 'ignored', 'limit=1&page=2 answered the same device as page 1: page is ignored');
    } else if (p2.length === 1) {
      this.found('devicePaging', 'offset', 'limit=1&page=2 answered 1 device, another than page 1: page N holds devices (N-1)·limit .. N·limit-1');
    } else if (p2.length === 0) {
      if (count !== undefined) this.surprise(`page 2 (limit=1) is empty though the account has ${count} devices`);
      this.cannotTell('devicePaging', `limit=1&page=2 answered no device${count === undefined ? ' (the account may have only 1)' : ''}`);
    } else {
      this.surprise(`limit=1&page=2 answered ${p2.length} devices`);
      this.cannotTell('devicePaging', `limit=1&page=2 answered ${p2.length} devices`);
    }
    return first;
  }

  /** pointReadings, dateTimes and averages, on one device; and the device details' shape. */
  private async telemetry(token: string, device: string | undefined): Promise<void> {
    if (device === undefined) {
      for (const point of ['pointReadings', 'dateTimes', 'averages'] as const) this.cannotTell(point, 'no device to read telemetry of');
      return;
    }
    const path = (base: string) => `${base}/${encodeURIComponent(device)}`;
    await this.send('GET /devices/{physical_id}', { path: path('/devices'), bearer: token });

    const latestLabel = 'GET /telemetry/{physical_id}?type=latest';
    const latest = await this.send(latestLabel, { path: path('/telemetry'), query: { type: 'latest' }, bearer: token });
    let latestPlace: 'nested' | 'flat' | 'none' | undefined;
    let latestEvidence = '';
    if (latest && latest.status >= 200 && latest.status < 300) {
      let point = latest.json;
      if (Array.isArray(point)) {
        this.surprise(`type=latest answered an array of ${point.length} points, not one point`);
        point = point[0];
      } else if (isObject(point) && Array.isArray(point.data)) {
        this.surprise('type=latest answered an envelope {data: [...]}, not one point');
        point = point.data[0];
      }
      const where = readingsPlace(point);
      latestPlace = where.place;
      latestEvidence = where.place === 'nested'
        ? `latest: readings under data (${fieldList(where.fields)})`
        : where.place === 'flat' ? `latest: readings beside timestamp (${fieldList(where.fields)})` : 'latest: no readings found';
    } else {
      latestEvidence = latest ? `latest got HTTP ${latest.status}` : 'no answer to latest';
    }

    // The last two UTC days to now, as the docs' example writes from/to: zone-less.
    const now = (this.options.now ?? Date.now)();
    const to = new Date(Math.floor(now / 1000) * 1000);
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - 2));
    const averages = (zoned: boolean, label: string) => this.send(label, {
      path: path('/telemetry'),
      query: { type: 'averages', resolution: 'daily', from: formatApiDateTime(from, zoned), to: formatApiDateTime(to, zoned) },
      bearer: token,
    });
    let avg = await averages(false, 'GET /telemetry/{physical_id}?type=averages (zone-less from/to)');
    if (!avg) {
      this.noAnswer('dateTimes', 'averages');
    } else if (avg.status >= 200 && avg.status < 300) {
      this.found('dateTimes', 'zoneless', `averages with zone-less from/to (as the docs' example) got HTTP ${avg.status}`);
    } else if (avg.status === 400 || avg.status === 422) {
      const first = avg.status;
      avg = await averages(true, 'GET /telemetry/{physical_id}?type=averages (from/to with Z)');
      if (avg && avg.status >= 200 && avg.status < 300) {
        this.found('dateTimes', 'zone-required', `averages with zone-less from/to got HTTP ${first}; with a Z, HTTP ${avg.status}`);
      } else {
        if (avg || this.stopped === undefined) this.cannotTell('dateTimes', `averages got HTTP ${first} zone-less and ${avg ? `HTTP ${avg.status}` : 'no answer'} with a Z`);
        if (avg) this.surprise(`averages were refused with and without a zone (HTTP ${first}, HTTP ${avg.status})`);
      }
    } else {
      this.cannotTell('dateTimes', `averages got HTTP ${avg.status}`);
    }

    let avgPlace: 'nested' | 'flat' | 'none' | undefined;
    let avgEvidence = '';
    if (avg && avg.status >= 200 && avg.status < 300) {
      const body = avg.json;
      let points: unknown[] = [];
      if (Array.isArray(body)) {
        this.found('averages', 'array', `averages answered an array of ${body.length} buckets`);
        points = body;
      } else if (isObject(body) && Array.isArray(body.data)) {
        this.found('averages', 'envelope', `averages answered {data: [${body.data.length}]${Object.keys(body).length > 1 ? ` with ${fieldList(Object.keys(body))}` : ''}}`);
        points = body.data;
      } else if (isObject(body)) {
        this.found('averages', 'object', `averages answered one object (${fieldList(Object.keys(body))})`);
        points = [body];
      } else {
        this.cannotTell('averages', `averages answered ${avg.bodyKind === 'json' ? typeof body : avg.bodyKind}`);
      }
      const places = new Set(points.map((p) => readingsPlace(p).place).filter((p) => p !== 'none'));
      if (places.size === 1) {
        avgPlace = [...places][0];
        avgEvidence = `averages: readings ${avgPlace === 'nested' ? 'under data' : 'beside timestamp'}`;
      } else if (places.size > 1) {
        this.surprise('averages points keep their readings both under data and beside timestamp');
        avgEvidence = 'averages: mixed';
      } else {
        avgEvidence = points.length === 0 ? 'averages: no points' : 'averages: no readings found';
      }
    } else {
      if (avg) this.cannotTell('averages', `averages got HTTP ${avg.status}`);
      else this.noAnswer('averages', 'averages');
    }

    const evidence = [latestEvidence, avgEvidence].filter((e) => e !== '').join('; ');
    const place = latestPlace !== undefined && latestPlace !== 'none' ? latestPlace : avgPlace;
    if (latestPlace && avgPlace && latestPlace !== 'none' && latestPlace !== avgPlace) {
      this.surprise('latest and averages keep their readings in different places');
    }
    if (place === 'nested' || place === 'flat') this.found('pointReadings', place, evidence);
    else this.cannotTell('pointReadings', evidence);
  }

  /** alertOrder, alertTime and alertIds from one page of up to 50 alerts. */
  private async notifications(token: string): Promise<void> {
    const label = 'GET /notifications?limit=50';
    const a = await this.send(label, { path: '/notifications', query: { limit: 50 }, bearer: token });
    const points = ['alertOrder', 'alertTime', 'alertIds'] as const;
    if (!a || a.status < 200 || a.status >= 300) {
      for (const p of points) {
        if (a) this.cannotTell(p, `notifications got HTTP ${a.status}`);
        else this.noAnswer(p, 'notifications');
      }
      return;
    }
    const list = this.noteList(label, a.json);
    const alerts = list.items.filter(isObject);
    if (list.items.length > 50) this.surprise(`limit=50 answered ${list.items.length} alerts`);
    if (alerts.length === 0) {
      for (const p of points) this.cannotTell(p, 'no alerts');
      return;
    }

    // alertIds
    const withId = alerts.filter((x) => x.id !== undefined && x.id !== null).length;
    if (withId === alerts.length) this.found('alertIds', true, `all ${alerts.length} alerts carry an id`);
    else if (withId === 0) this.found('alertIds', false, `none of ${alerts.length} alerts carries an id`);
    else {
      this.surprise(`${withId} of ${alerts.length} alerts carry an id`);
      this.cannotTell('alertIds', `${withId} of ${alerts.length} alerts carry an id`);
    }

    // alertTime: the fields that hold a date-time in every alert.
    const keys = [...new Set(alerts.flatMap((x) => Object.keys(x)))];
    const timeFields = keys.filter((k) => alerts.every((x) => timeOf(x[k]) !== undefined));
    let field: string | undefined;
    if (timeFields.length === 0) {
      const some = keys.filter((k) => alerts.some((x) => timeOf(x[k]) !== undefined));
      if (some.length > 0) {
        this.surprise(`date-times in only some alerts: ${fieldList(some)}`);
        this.cannotTell('alertTime', `no field holds a date-time in every alert (some do: ${fieldList(some)})`);
      } else {
        this.found('alertTime', 'none', `no field of ${alerts.length} alerts holds a date-time (fields: ${fieldList(keys)})`);
      }
    } else {
      field = timeFields.includes('created_at') ? 'created_at' : timeFields[0] as string;
      if (timeFields.length > 1) this.surprise(`several alert fields hold date-times: ${fieldList(timeFields)} (${field} taken for the time)`);
      if (FIELD_NAME.test(field)) this.found('alertTime', field, `"${field}" holds a date-time in all ${alerts.length} alerts`);
      else this.cannotTell('alertTime', 'the date-time field has a name the simulator cannot take');
    }

    // alertOrder, from the times.
    if (field === undefined) {
      this.cannotTell('alertOrder', 'the alerts carry no time field');
    } else if (alerts.length < 2) {
      this.cannotTell('alertOrder', 'only 1 alert');
    } else {
      const times = alerts.map((x) => timeOf(x[field as string]) as number);
      let up = 0;
      let down = 0;
      for (let i = 1; i < times.length; i++) {
        if ((times[i] as number) > (times[i - 1] as number)) up += 1;
        else if ((times[i] as number) < (times[i - 1] as number)) down += 1;
      }
      if (down > 0 && up === 0) this.found('alertOrder', 'newest', `${alerts.length} alerts, ${field} descending`);
      else if (up > 0 && down === 0) this.found('alertOrder', 'oldest', `${alerts.length} alerts, ${field} ascending`);
      else if (up === 0 && down === 0) this.cannotTell('alertOrder', `all ${alerts.length} alerts have the same ${field}`);
      else {
        this.surprise(`alerts are in no time order (${up} steps up, ${down} down)`);
        this.cannotTell('alertOrder', `${field} neither ascending nor descending`);
      }
    }
  }

  private async topologies(token: string): Promise<void> {
    const label = 'GET /topologies';
    const a = await this.send(label, { path: '/topologies', bearer: token });
    if (!a || a.status < 200 || a.status >= 300) return;
    const list = this.noteList(label, a.json);
    const first = list.items.find(isObject);
    const id = first && (typeof first.gateway_id === 'string' || typeof first.gateway_id === 'number') ? String(first.gateway_id) : undefined;
    if (id !== undefined && id !== '') {
      await this.send('GET /topologies/{gateway_id}', { path: `/topologies/${encodeURIComponent(id)}`, bearer: token });
    }
  }

  private async things(token: string): Promise<void> {
    const label = 'GET /things?limit=1';
    const a = await this.send(label, { path: '/things', query: { limit: 1 }, bearer: token });
    if (!a || a.status < 200 || a.status >= 300) return;
    const list = this.noteList(label, a.json);
    if (list.items.length > 1) this.surprise(`things limit=1 answered ${list.items.length} things`);
  }

  /** lists: bare or envelope, the same on every list endpoint. */
  private decideLists(): void {
    if (this.lists.length === 0) return this.cannotTell('lists', 'no list answered');
    const kinds = new Set(this.lists.map((l) => l.list.kind));
    const summary = (kind: ListShape['kind']) => this.lists.filter((l) => l.list.kind === kind).map((l) => l.label.replace(/\?.*$/, ''));
    const endpoints = (kind: ListShape['kind']) => [...new Set(summary(kind))].join(', ');
    if (kinds.size === 1 && (kinds.has('bare') || kinds.has('envelope'))) {
      const kind = [...kinds][0] as 'bare' | 'envelope';
      const totals = kind === 'envelope' && this.lists.every((l) => l.list.total !== undefined) ? ' with total' : '';
      return this.found('lists', kind, `${kind === 'bare' ? 'bare arrays' : `{data: [...]}${totals}`} from ${endpoints(kind)}`);
    }
    for (const l of this.lists) {
      if (l.list.kind === 'other') this.surprise(`${l.label} answered its list under "${l.list.key}"`);
      if (l.list.kind === 'none') this.surprise(`${l.label} answered no list`);
    }
    if (kinds.has('bare') && kinds.has('envelope')) this.surprise(`bare arrays from ${endpoints('bare')}, but envelopes from ${endpoints('envelope')}`);
    this.cannotTell('lists', [...kinds].map((k) => `${k}: ${endpoints(k)}`).join('; '));
  }

  private report(): DoctorReport {
    const points = {} as Record<DoctorPoint, PointFinding>;
    for (const point of DOCTOR_POINTS) points[point] = this.points[point] ?? { reading: null, evidence: 'not probed' };
    const report: DoctorReport = {
      tool: `leapcraft-doctor ${packageInfo.version}`,
      baseUrl: this.baseUrl,
      startedAt: new Date(this.startedAt).toISOString(),
      outcome: this.outcome,
      points,
      dialect: DOCTOR_POINTS.map((p) => points[p].reading).filter((r): r is string => r !== null),
      shapes: this.shapes,
      timings: this.timings,
      statuses: this.statuses,
      surprises: this.surprises,
      requests: this.requests,
    };
    const secrets = this.redactionList();
    const redacted = redactDeep(report, secrets) as DoctorReport;
    REPORT_SECRETS.set(redacted, secrets);
    return redacted;
  }

  /** Secrets and identifiers, longest first so that none is left half-replaced inside another. */
  private redactionList(): string[] {
    // The base URL is no secret: an identifier that happens to be part of it must not hide it.
    const list = [...this.secrets, ...[...this.identifiers].filter((id) => !this.baseUrl.includes(id))];
    return [...new Set(list)].sort((a, b) => b.length - a.length);
  }
}

/** Every string of a JSON-like value (keys too) with the secrets replaced. */
function redactDeep(value: unknown, secrets: readonly string[]): unknown {
  if (typeof value === 'string') return redactSecrets(value, secrets);
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, secrets));
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[redactSecrets(k, secrets)] = redactDeep(v, secrets);
    return out;
  }
  return value;
}

/**
 * Runs the check against `baseUrl` with `apiKey`: at most DOCTOR_MAX_REQUESTS read-only requests,
 * one at a time, none retried. Resolves with the report whatever the API did (a refused key, no
 * answer, a cancellation: the report says so in `outcome`); rejects only for a bad base URL or an
 * empty key (LEAPCRAFT_INVALID_INPUT), before anything is sent.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const baseUrl = validateBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
  const apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
  if (apiKey === '') throw invalid('apiKey', 'must not be empty');
  return new Doctor(baseUrl, apiKey, options).run();
}

const OUTCOME_TEXT: Record<DoctorOutcome, string> = {
  ok: 'every probe ran',
  incomplete: 'some probes could not run (see the surprises)',
  'key-refused': 'the API key was refused: only the answers to a made-up key and a made-up token were checked',
  unavailable: 'the API gave no usable answer to the token exchange: nothing else could be checked',
};

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');

/** The command that starts the simulator speaking what the server was found to speak. */
export function simulatorCommand(report: Pick<DoctorReport, 'points'>): string | undefined {
  const names: string[] = [];
  const flags: string[] = [];
  for (const point of DOCTOR_POINTS) {
    const { reading, value } = report.points[point];
    if (reading === null) continue;
    if (Object.values(READING_NAMES[point]).includes(reading)) names.push(reading);
    else if (point === 'alertTime' && value !== undefined) flags.push(`--alert-time ${String(value)}`);
  }
  if (names.length === 0 && flags.length === 0) return undefined;
  return ['npm run simulator --', ...(names.length > 0 ? [`--dialect ${names.join(',')}`] : []), ...flags].join(' ');
}

/**
 * The report as Markdown-ish text, ready to paste into a bug report. The text goes once more
 * through the redaction of the run that made the report.
 */
export function formatDoctorReport(report: DoctorReport): string {
  const lines: string[] = [];
  lines.push(`## Leapcraft API check (${report.tool})`, '');
  lines.push(`- Server: ${report.baseUrl}`);
  lines.push(`- Run: ${report.startedAt}, ${report.requests} request${report.requests === 1 ? '' : 's'} (at most ${DOCTOR_MAX_REQUESTS}, read-only), Node.js ${process.version}`);
  lines.push(`- Outcome: ${report.outcome}: ${OUTCOME_TEXT[report.outcome]}`);
  lines.push(`- Dialect (the simulator's names): ${report.dialect.length > 0 ? report.dialect.join(', ') : 'none told'}`);
  const command = simulatorCommand(report);
  if (command) lines.push(`- The simulator speaking it: \`${command}\``);
  lines.push('', '### Open points', '', '| Point | Reading | Evidence |', '|---|---|---|');
  for (const point of DOCTOR_POINTS) {
    const finding = report.points[point];
    lines.push(`| ${point} | ${finding.reading ?? '?'} | ${cell(finding.evidence)} |`);
  }
  lines.push('', '### Surprises', '');
  if (report.surprises.length === 0) lines.push('- none');
  for (const s of report.surprises) lines.push(`- ${s}`);
  lines.push('', '### Requests', '', '| Request | Status | ms |', '|---|---|---|');
  for (const [label, status] of Object.entries(report.statuses)) {
    const ms = report.timings[label];
    lines.push(`| ${cell(label)} | ${status} | ${ms === undefined ? '' : ms} |`);
  }
  lines.push('', '### Response shapes', '');
  lines.push('Field names and types only; `?` marks a field some items lack, `array(n)` a list of n.', '');
  if (Object.keys(report.shapes).length === 0) lines.push('- none', '');
  for (const [label, shape] of Object.entries(report.shapes)) {
    const status = report.statuses[label];
    lines.push(`#### ${label}${typeof status === 'number' ? ` (HTTP ${status})` : ''}`, '', '```', shape, '```', '');
  }
  lines.push('Redacted: the API key, every token, names, physical ids, serials, gateway ids, messages and every value;');
  lines.push('only field names, types, counts, statuses and timings are shown.');
  const text = `${lines.join('\n')}\n`;
  return redactSecrets(text, REPORT_SECRETS.get(report) ?? []);
}
