/**
 * What the doctor reports: the reading of each open point by the package's dialect table
 * (lib/api/dialects.ts), with the evidence, the answers' shapes, statuses and timings.
 */
import { DIALECT_POINTS, DIALECTS, type DialectPoint } from '../api/dialects';

/** Requests one check may send, the token exchanges included. */
export const DOCTOR_MAX_REQUESTS = 17;
/** Per request, unless the caller says otherwise. */
export const DOCTOR_DEFAULT_TIMEOUT_MS = 15_000;

/** The points the docs leave open, in the dialect table's order. */
export const DOCTOR_POINTS = DIALECT_POINTS;
export type DoctorPoint = DialectPoint;

/**
 * The name of each reading, by point and by the reading's value as the simulator's `dialect`
 * option takes it (stringified); made from the dialect table.
 */
export const READING_NAMES: { readonly [P in DoctorPoint]: Readonly<Record<string, string>> } = Object.freeze(
  Object.fromEntries(DOCTOR_POINTS.map((p) => [p, Object.fromEntries(DIALECTS.filter((d) => d.point === p).map((d) => [String(d.value), d.name]))])),
) as { readonly [P in DoctorPoint]: Readonly<Record<string, string>> };

export type ReadingValue = string | number | boolean;

/**
 * A reading's name. An alert time field without a name of its own is reported as
 * `alertTime=<field>`, as the simulator's describeDialect does.
 */
export function readingName(point: DoctorPoint, value: ReadingValue): string {
  return READING_NAMES[point][String(value)] ?? `${point}=${String(value)}`;
}

export interface PointFinding {
  /** The name of the reading the server speaks (e.g. 'expired403'); null when the check could not tell. */
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
  /** Every reading told, by name, in point order (defaults included). */
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
