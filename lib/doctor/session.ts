/**
 * One check's state and wire: the requests it sends (at most DOCTOR_MAX_REQUESTS, one at a
 * time, none retried), what each answered, the findings, and the secrets and identifiers the
 * report must not show. The probes (probe-*.ts) ask through it and note what they learn.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { packageInfo } from '../package';
import { isLeapcraftError } from '../api/errors';
import { redactSecrets } from '../api/redact';
import { Transport, WireRequest, WireResponse } from '../api/transport';
import { isObject, listShape, ListShape } from './answers';
import { rememberRedaction } from './report';
import { describeShape } from './shape';
import {
  DOCTOR_DEFAULT_TIMEOUT_MS, DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, DoctorOptions, DoctorOutcome, DoctorPoint, DoctorReport, PointFinding,
  readingName, ReadingValue,
} from './types';

/** Keys whose string values identify someone's estate: collected to be redacted wherever they turn up. */
const IDENTIFYING_KEY = /(?:^|_)(?:id|ids|name|names|serial|message|token|key|title|description|label|devices|email|address|location)$/i;
const MAX_IDENTIFIERS = 20_000;

/** A short random hex string: the made-up key and token. */
export const randomHex = (bytes: number): string => randomBytes(bytes).toString('hex');

export interface Answer {
  status: number;
  headers: Record<string, unknown>;
  /** The parsed JSON body; undefined when the body is not JSON. */
  json?: unknown;
  bodyKind: 'json' | 'empty' | 'html' | 'text';
}

export interface SendOptions {
  method?: 'GET' | 'POST';
  path: string;
  query?: WireRequest['query'];
  form?: Record<string, string>;
  bearer?: string;
}

export class DoctorSession {
  private readonly transport: Transport;
  private readonly secrets = new Set<string>();
  private readonly identifiers = new Set<string>();
  private readonly points: Partial<Record<DoctorPoint, PointFinding>> = {};
  private readonly shapes: Record<string, string> = {};
  private readonly timings: Record<string, number> = {};
  readonly statuses: Record<string, number | string> = {};
  private readonly surprises: string[] = [];
  /** Every list answer, for the `lists` point. */
  readonly lists: Array<{ label: string; list: ListShape }> = [];
  outcome: DoctorOutcome = 'ok';
  /** Why no more requests go out, once that is so. */
  stopped?: string;
  private readonly startedAt = Date.now();

  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
    readonly options: DoctorOptions,
  ) {
    this.secrets.add(apiKey);
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

  get requests(): number {
    return this.transport.counters.attempts;
  }

  close(): void {
    this.transport.close();
  }

  /** A secret the report must not show (a key or token), wherever it turns up. */
  secret(value: string): void {
    this.secrets.add(value);
  }

  surprise(text: string): void {
    if (!this.surprises.includes(text)) this.surprises.push(text);
  }

  found(point: DoctorPoint, value: ReadingValue, evidence: string): void {
    this.points[point] = { reading: readingName(point, value), value, evidence };
  }

  cannotTell(point: DoctorPoint, evidence: string): void {
    if (!this.points[point]) this.points[point] = { reading: null, evidence: `cannot tell: ${evidence}` };
  }

  /** A probe that got no answer: cannot tell, unless the check had stopped (then: not probed). */
  noAnswer(point: DoctorPoint, what: string): void {
    if (this.stopped === undefined) this.cannotTell(point, `no answer to ${what}`);
  }

  notProbed(why: string): void {
    for (const point of DOCTOR_POINTS) if (!this.points[point]) this.points[point] = { reading: null, evidence: `not probed: ${why}` };
  }

  stop(why: string): void {
    if (this.stopped === undefined) this.stopped = why;
    if (this.outcome === 'ok') this.outcome = 'incomplete';
  }

  noteList(label: string, body: unknown): ListShape {
    const list = listShape(body);
    this.lists.push({ label, list });
    return list;
  }

  /** One request; undefined when none was sent or no answer came (noted in the report). */
  async send(label: string, req: SendOptions): Promise<Answer | undefined> {
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
      this.failed(label, err, started);
      return undefined;
    }
    this.timings[label] = Math.round(performance.now() - started);
    this.statuses[label] = res.status;
    const answer = read(res);
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

  private failed(label: string, err: unknown, started: number): void {
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

  /** The report, every string in it redacted; the redaction is kept for formatDoctorReport. */
  report(tool: string): DoctorReport {
    const points = {} as Record<DoctorPoint, PointFinding>;
    for (const point of DOCTOR_POINTS) points[point] = this.points[point] ?? { reading: null, evidence: 'not probed' };
    const report: DoctorReport = {
      tool,
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
    rememberRedaction(redacted, secrets);
    return redacted;
  }

  /** Secrets and identifiers, longest first so that none is left half-replaced inside another. */
  private redactionList(): string[] {
    // The base URL is no secret: an identifier that happens to be part of it must not hide it.
    const list = [...this.secrets, ...[...this.identifiers].filter((id) => !this.baseUrl.includes(id))];
    return [...new Set(list)].sort((a, b) => b.length - a.length);
  }
}

function read(res: WireResponse): Answer {
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
