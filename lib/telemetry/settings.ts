/**
 * The telemetry node's settings, read once at deploy: a bad one throws LEAPCRAFT_INVALID_INPUT
 * (the node turns red), so no request goes out that the setting would spoil.
 */
import { oneOf, parseIdList, telemetryQuery } from '../api/validation';
import { intervalMs } from '../poll/interval';
import { HealthSettings, parseHealthSettings } from './device-health';
import type { TelemetrySpec } from './keys';
import { OUTPUT_MODES, OutputMode } from './messages';
import { EMIT_MODES, EmitMode, REPLICA_MODES, ReplicaMode } from './poll-output';

/** The node's properties as the editor stores them. */
export interface TelemetrySettingsInput {
  devices?: string;
  telemetryType?: string;
  resolution?: string;
  from?: string;
  to?: string;
  interval?: number | string;
  output?: string;
  /** 'interval' (one msg per device per interval, the default) or 'reading' (each new reading once). */
  emit?: string;
  /** 'every' replica emits (the default), or only 'one' (the one acting for a shared account). */
  replicas?: string;
  /** Cadence-aware polling of latest readings; on unless set false. */
  cadence?: boolean;
  /** The second output, device health (silent, recovered, battery): off unless set true. */
  health?: boolean;
  silentPeriods?: number | string;
  batteryLow?: number | string;
}

export interface TelemetrySettings {
  /** The query as configured, relative times unresolved. */
  query: TelemetrySpec;
  output: OutputMode;
  emit: EmitMode;
  replicas: ReplicaMode;
  explicitIds: string[];
  /** 0: only when a msg arrives. */
  pollMs: number;
  cadenceAware: boolean;
  /** Set when the node has its device-health output. */
  health?: HealthSettings;
}

export function parseTelemetrySettings(def: TelemetrySettingsInput): TelemetrySettings {
  const query: TelemetrySpec = { type: def.telemetryType || 'latest', resolution: def.resolution || 'daily', from: def.from || '-7d', to: def.to || 'now' };
  // Checked once now, so a bad setting shows at deploy, not at the first poll.
  telemetryQuery(query);
  const settings: TelemetrySettings = {
    query,
    output: oneOf(def.output || 'device', 'output', OUTPUT_MODES),
    emit: oneOf(def.emit || 'interval', 'emit', EMIT_MODES),
    replicas: oneOf(def.replicas || 'every', 'replicas', REPLICA_MODES),
    explicitIds: parseIdList(def.devices, 'devices'),
    pollMs: intervalMs(def.interval, 60),
    // Poll just after each sensor's next report rather than on a fixed beat (latest readings only).
    cadenceAware: def.cadence !== false && query.type === 'latest',
  };
  if (def.health === true) settings.health = parseHealthSettings(def);
  return settings;
}
