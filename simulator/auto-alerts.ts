/**
 * Automatic alerts: on each evaluation, compares every device's latest modelled reading with the
 * thresholds and raises an alert on each crossing (not on every reading above the line, which
 * would flood the store). A device seen for the first time only records its state, so starting
 * the simulator in the middle of a busy afternoon does not raise a burst of stale alerts.
 */
import type { AlertStore } from './alerts';
import type { World } from './data';
import { latestTelemetry, type ModelParams } from './model';
import { parseDateTime } from './time';

/** AirBird battery level under which a battery_low alert is raised once. */
const BATTERY_THRESHOLD = 20;

interface DeviceState {
  co2High: boolean;
  batteryLow: boolean;
}

export class AutoAlerts {
  private readonly state = new Map<string, DeviceState>();

  evaluate(world: World, store: AlertStore, now: number, params: ModelParams, co2Threshold: number): void {
    for (const device of world.devices) {
      const reading = latestTelemetry(device, now, params);
      const at = parseDateTime(reading.timestamp) ?? now;
      const co2High = reading.data.co2 > co2Threshold;
      const batteryLow = reading.data.battery !== undefined && reading.data.battery < BATTERY_THRESHOLD;
      const id = device.item.physical_id;
      const before = this.state.get(id);
      this.state.set(id, { co2High, batteryLow });
      if (before === undefined) continue;
      const base = { physical_id: id, created_at: reading.timestamp };
      if (co2High !== before.co2High) {
        store.raise({ ...base, type: co2High ? 'co2_high' : 'co2_normal', value: reading.data.co2, threshold: co2Threshold }, world, at, co2Threshold);
      }
      if (batteryLow && !before.batteryLow && reading.data.battery !== undefined) {
        store.raise({ ...base, type: 'battery_low', value: reading.data.battery, threshold: BATTERY_THRESHOLD }, world, at, co2Threshold);
      }
    }
  }

  /** Forget every device's state (e.g. after the estate is regenerated). */
  reset(): void {
    this.state.clear();
  }
}
