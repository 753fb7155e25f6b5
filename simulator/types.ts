/**
 * Public types of the Leapcraft API simulator. The wire shapes below are the simulator's choice
 * wherever the public docs leave a shape open (see docs/API.md); clients must
 * not rely on more than the docs promise.
 */
import type { Dialect } from '../lib/api/dialects';

export type Endpoint =
  | 'token'
  | 'devices'
  | 'device'
  | 'telemetry'
  | 'topologies'
  | 'topology'
  | 'notifications'
  | 'things'
  | 'other';

export const ENDPOINTS: readonly Endpoint[] = [
  'token',
  'devices',
  'device',
  'telemetry',
  'topologies',
  'topology',
  'notifications',
  'things',
  'other',
];

export type DeviceType = 'airbird' | 'ambinode';

export interface DeviceListItem {
  name: string;
  physical_id: string;
  serial: string;
  /** The gateway_id of the gateway the device hangs off. */
  topology_id: string;
  meta: Record<string, unknown>;
  type: DeviceType;
}

export interface DeviceDetails extends DeviceListItem {
  firmware: string;
}

export interface Readings {
  temperature: number;
  humidity: number;
  co2: number;
  /** Ambinode only. */
  pm2_5?: number;
  /** Ambinode only, dB(A). */
  noise?: number;
  /** AirBird only, percent. */
  battery?: number;
}

export type ReadingsWithMeta = Readings & { meta: Record<string, unknown> };

export interface LatestTelemetry {
  physical_id: string;
  timestamp: string;
  data: ReadingsWithMeta;
  created_at: string;
}

export type Resolution = 'daily' | 'weekly' | 'monthly';

export interface AverageBucket {
  physical_id: string;
  resolution: Resolution;
  /** Start of the day / ISO week (Monday) / calendar month, UTC. */
  timestamp: string;
  /** The part of the bucket that was averaged: the bucket clipped to the requested range and to "now". */
  from: string;
  to: string;
  data: ReadingsWithMeta;
  samples: number;
}

/**
 * The 'object' averages dialect: the whole requested range as one point, shaped like the docs'
 * (latest) sample.
 */
export interface AveragesObject {
  physical_id: string;
  /** The start of the range (`from`), ISO 8601 UTC. */
  timestamp: string;
  /** The buckets' readings averaged, weighted by their samples; only `meta` ({}) when the range holds no data. */
  data: Partial<Readings> & { meta: Record<string, unknown> };
  /** When the simulator computed it (its clock's now). */
  created_at: string;
}

export interface TopologyListItem {
  gateway_id: string;
  name: string | null;
  /** Zone-less "YYYY-MM-DD HH:MM:SS" as the docs show. */
  created_at: string;
  device_count: number;
}

export interface TopologyDevice {
  physical_id: string;
  type: DeviceType;
  serial: string;
  rssi: number;
  last_seen: string;
}

export interface TopologyDetails {
  gateway_id: string;
  created_at: string;
  name: string | null;
  devices: TopologyDevice[];
}

export interface Thing {
  id: string;
  name: string;
  kind: string;
  parameters: Record<string, string | number | boolean>;
  devices: string[];
}

export type AlertType =
  | 'co2_high'
  | 'co2_normal'
  | 'battery_low'
  | 'temperature_high'
  | 'humidity_high'
  | 'device_offline';

export interface Alert {
  /** Omitted on the wire when the `alertIds` dialect option is false. */
  id?: string;
  physical_id: string;
  type: AlertType | string;
  message: string;
  /** Absent for kinds without a measurement (device_offline). */
  value?: number;
  threshold?: number;
  /**
   * ISO 8601, UTC, "Z". On the wire, the `alertTime` dialect option may rename it (e.g. `raised`)
   * or leave it out; raiseAlert() always returns it under this name.
   */
  created_at: string;
}

export type FaultKind = 'status' | 'rate-limit' | 'hang' | 'reset' | 'malformed' | 'html' | 'empty';

/**
 * How a 429 announces its reset, always with nothing remaining: `X-RateLimit-Remaining: 0` and
 * `X-RateLimit-Reset` as epoch seconds (`x-ratelimit-epoch`), epoch milliseconds
 * (`x-ratelimit-epoch-ms`) or seconds from now (`x-ratelimit-seconds`); the IETF draft's
 * `RateLimit-Remaining: 0` and `RateLimit-Reset` in seconds (`ratelimit-reset`); or its structured
 * form `RateLimit: "default";r=0;t=<seconds>` (`ratelimit`).
 */
export type ResetHeaders = 'x-ratelimit-epoch' | 'x-ratelimit-epoch-ms' | 'x-ratelimit-seconds' | 'ratelimit-reset' | 'ratelimit';

export const RESET_HEADERS: readonly ResetHeaders[] = ['x-ratelimit-epoch', 'x-ratelimit-epoch-ms', 'x-ratelimit-seconds', 'ratelimit-reset', 'ratelimit'];

export interface Fault {
  kind: FaultKind;
  /** Only requests to this endpoint; default: every endpoint, the token exchange included. */
  endpoint?: Endpoint;
  /** How many requests it hits before it retires; default Infinity (until cleared). */
  times?: number;
  /** Hit only every Nth matching request (the Nth, 2Nth, …); default 1. */
  every?: number;
  /** For 'status'; default 503. */
  status?: number;
  /** For 'rate-limit': seconds, or an HTTP-date string sent verbatim; omitted → no Retry-After header. */
  retryAfter?: number | string;
  /**
   * For 'rate-limit': the 429 announces that no request remains until this many seconds from now
   * (fractions allowed; a header in whole seconds rounds the reset up), in `resetHeaders`' form.
   * Until that reset every request is answered 429 again, as a server whose window is spent does.
   */
  resetAfter?: number;
  /** The form of the reset (default 'x-ratelimit-epoch'); see ResetHeaders. */
  resetHeaders?: ResetHeaders;
  /** Replaces the default body (status, rate-limit, html; for malformed/reset it is the body that gets cut). */
  body?: string;
}

/**
 * How the simulator reads each point the public docs leave open: the package's one dialect table
 * (lib/api/dialects.ts). Every field defaults to the simulator's original behaviour
 * (DEFAULT_DIALECT); the README's dialect table lists the named readings the CLI accepts.
 */
export type { Dialect, DialectPoint } from '../lib/api/dialects';

export interface SimulatorOptions {
  host?: string;
  port?: number;
  apiKey?: string;
  /** Further keys accepted by the token exchange besides `apiKey`. */
  apiKeys?: string[];
  deviceCount?: number;
  gateways?: number;
  /** Number of things served by /things (default 15). */
  thingCount?: number;
  seed?: number;
  tokenLifetimeMs?: number;
  latencyMs?: number;
  /** Every sensor reports on this period (a sensor faster than a node's poll interval: below it). */
  reportIntervalMs?: number;
  /** Each report comes up to this long after its slot (uniform, seeded per device and report); default 0. */
  reportJitterMs?: number;
  /** The same as a share of the period (0.3: up to 30 %), added to reportJitterMs; default 0. */
  reportJitterShare?: number;
  /** The share of reports that never come, the previous reading staying the latest (seeded); default 0. */
  lossRate?: number;
  initialAlerts?: number;
  /** Same as `dialect.alertOrder` (kept for existing callers). */
  alertOrder?: 'newest' | 'oldest';
  /** Same as `dialect.alertIds` (kept for existing callers). */
  alertIds?: boolean;
  /**
   * The readings of the points the docs leave open: a partial Dialect (merged into the current one,
   * so set() changes only the points named), or dialect names such as 'expired403,lists-envelope'
   * (a comma-separated string or an array; see DIALECTS).
   */
  dialect?: Partial<Dialect> | string | readonly string[];
  /**
   * Raise alerts from the simulator's own readings: `co2_high` once a room's CO2 has been above
   * `co2Threshold` for two report intervals in a row, `co2_normal` once 50 ppm below it as long, and
   * `battery_low` when an AirBird's battery drops under 20 %.
   */
  autoAlerts?: boolean;
  co2Threshold?: number;
  /**
   * Every this many ms one room holds a meeting (the rooms take turns): its CO2 climbs past a full
   * room's 1,370 ppm for a few minutes, then airs out, at any hour (0: no meetings, the default;
   * at least 10 s). With autoAlerts, a demo sees alerts come and go within minutes of starting.
   */
  meetingEveryMs?: number;
  maxAlerts?: number;
  now?: () => number;
}

export interface RequestLogEntry {
  method: string;
  rawUrl: string;
  endpoint: Endpoint;
  /** The status sent; 0 when nothing complete was sent (hang, reset). */
  status: number;
  /** The simulator clock (`now()`) when the response was decided. */
  at: number;
  /**
   * For a latest-telemetry reading served as a normal 200 (no fault): which reading, so a test
   * can check that every reading the API handed out reached the flow, once.
   */
  reading?: { physical_id: string; timestamp: string };
  /** A 429 announcing a reset: the instant it named (simulator clock). */
  resetAt?: number;
  /** The request came before a reset the simulator had announced (it was answered 429 again). */
  beforeReset?: boolean;
}

export interface SimulatorStats {
  total: number;
  byEndpoint: Record<Endpoint, number>;
  byStatus: Record<string, number>;
  /** Every bearer token issued (kept across resetStats) so tests can prove none leaks into logs or messages. */
  tokensIssued: string[];
  requests: RequestLogEntry[];
}
