/**
 * Shapes the API documents. Every field is optional where the docs leave it open, and
 * every object keeps whatever else the API sends (the index signature), untouched.
 */
export interface Device {
  name?: string;
  physical_id: string;
  serial?: string;
  topology_id?: string | number;
  meta?: Record<string, unknown>;
  type?: string;
  [key: string]: unknown;
}

export interface DeviceDetails {
  serial?: string;
  meta?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TelemetryReading {
  physical_id?: string;
  timestamp?: string;
  data?: Record<string, unknown> & { meta?: Record<string, unknown> };
  created_at?: string;
  [key: string]: unknown;
}

/** `type=averages` may answer one object or a series; both are passed on as they came. */
export type TelemetryResponse = TelemetryReading | TelemetryReading[];

export interface Topology {
  gateway_id?: string;
  name?: string | null;
  created_at?: string;
  devices?: Array<Record<string, unknown>>;
  [key: string]: unknown;
}

export interface Alert {
  id?: string | number;
  physical_id?: string;
  [key: string]: unknown;
}

export interface Thing {
  [key: string]: unknown;
}
