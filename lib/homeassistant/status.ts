/**
 * What the Home Assistant bridge node shows and warns about, from the bridge's stats, without
 * Node-RED (the node translates `status.<kind>` from its own catalog).
 */
import { HaBridgeStats } from './bridge';

export type HaStatusView =
  | { kind: 'waiting' }
  | { kind: 'offline' | 'announced'; params: { devices: number; entities: number; offline: number; lastStateAt?: number } };

/** Waiting before any device is announced; a warning while some are offline; else how many are announced. */
export function haStatusView(stats: HaBridgeStats): HaStatusView {
  if (stats.devices === 0) return { kind: 'waiting' };
  const params = { devices: stats.devices, entities: stats.entities, offline: stats.offline, lastStateAt: stats.lastStateAt };
  return { kind: stats.offline > 0 ? 'offline' : 'announced', params };
}

/** One node's status decisions: the view for each change, and the too-many-keys warning once per node. */
export class HaStatusTracker {
  private warnedSkipped = false;

  update(stats: HaBridgeStats): { view: HaStatusView; warnTooManyKeys: boolean } {
    const warnTooManyKeys = !this.warnedSkipped && stats.skippedKeys > 0;
    if (warnTooManyKeys) this.warnedSkipped = true;
    return { view: haStatusView(stats), warnTooManyKeys };
  }
}
