/**
 * The telemetry node's settings as the editor saves them, and as the node reads them once at
 * deploy: a bad one throws LEAPCRAFT_INVALID_INPUT naming it (the node turns red, see
 * nodes/common/settings.ts).
 */
import { EMIT_MODES, oneOf, OUTPUT_MODES, REPLICA_MODES, telemetryQuery, TelemetrySpec } from '../../lib';
import { parseIdList } from '../common/ids';
import { intervalMs } from '../common/settings';
import type { NodeDef } from '../common/types';
import { HealthDef, healthSettingsOf } from './health';
import { HistoryDef, historySettingsOf } from './history';

export interface TelemetryDef extends NodeDef, HistoryDef, HealthDef {
  account: string;
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
  changesOnly?: boolean;
  blockOverrides?: boolean;
  /** Cadence-aware polling of latest readings; on unless set false. */
  cadence?: boolean;
}

/** The query as set, relative times unresolved (they are resolved at each fetch, so "-24h" moves with time). */
export function configuredQuery(def: TelemetryDef): TelemetrySpec {
  return { type: def.telemetryType || 'latest', resolution: def.resolution || 'daily', from: def.from || '-7d', to: def.to || 'now' };
}

export function readTelemetrySettings(def: TelemetryDef) {
  const parsed = {
    output: oneOf(def.output || 'device', 'output', OUTPUT_MODES),
    emit: oneOf(def.emit || 'interval', 'emit', EMIT_MODES),
    replicas: oneOf(def.replicas || 'every', 'replicas', REPLICA_MODES),
    explicitIds: parseIdList(def.devices, 'devices'),
    pollMs: intervalMs(def.interval, 60),
    history: historySettingsOf(def),
    health: healthSettingsOf(def),
  };
  // Check the query once now, so a bad setting shows at deploy, not at the first poll.
  telemetryQuery(configuredQuery(def));
  return parsed;
}
