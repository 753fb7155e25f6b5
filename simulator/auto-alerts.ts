/**
 * Automatic alerts from the simulator's own readings. On each evaluation (once per report
 * interval) every device's latest modelled reading is compared with the thresholds:
 *   - CO2: a room whose readings have been above the threshold for CONFIRM_EVALUATIONS
 *     evaluations in a row gets `co2_high`; once they have been HYSTERESIS_PPM below it as long,
 *     `co2_normal`. Every room starts out normal, so a room already above when the simulator
 *     starts gets its `co2_high` once it has stayed there as long; a reading that only flickers
 *     across the line, or a room that hovers about it, raises nothing more, and a room that stays
 *     high raises nothing more.
 *   - Battery: an AirBird whose battery drops under BATTERY_THRESHOLD gets `battery_low` once; a
 *     device first seen with a low battery only records it (it is no news).
 */
import type { AlertStore } from './alerts';
import type { World } from './data';
import { latestTelemetry, type ModelParams } from './model';
import { parseDateTime } from './time';

/** AirBird battery level under which a battery_low alert is raised once. */
const BATTERY_THRESHOLD = 20;
/** Evaluations in a row a CO2 reading must disagree with the room's alert state to change it. */
const CONFIRM_EVALUATIONS = 2;
/** How far below the threshold a high room must fall to be normal again (a sensor's noise is a few ppm). */
const HYSTERESIS_PPM = 50;

interface DeviceState {
  /** The room's CO2 alert state: its last CO2 alert was co2_high. */
  co2High: boolean;
  /** Evaluations in a row whose reading disagreed with co2High. */
  disagreeing: number;
  batteryLow: boolean;
}

export class AutoAlerts {
  private readonly state = new Map<string, DeviceState>();

  evaluate(world: World, store: AlertStore, now: number, params: ModelParams, co2Threshold: number): void {
    for (const device of world.devices) {
      const reading = latestTelemetry(device, now, params);
      const at = parseDateTime(reading.timestamp) ?? now;
      const co2 = reading.data.co2;
      const batteryLow = reading.data.battery !== undefined && reading.data.battery < BATTERY_THRESHOLD;
      const id = device.item.physical_id;
      const seen = this.state.get(id);
      const state = seen ?? { co2High: false, disagreeing: 0, batteryLow };
      this.state.set(id, state);
      const base = { physical_id: id, created_at: reading.timestamp };

      const disagrees = state.co2High ? co2 < co2Threshold - HYSTERESIS_PPM : co2 > co2Threshold;
      state.disagreeing = disagrees ? state.disagreeing + 1 : 0;
      if (state.disagreeing >= CONFIRM_EVALUATIONS) {
        state.co2High = !state.co2High;
        state.disagreeing = 0;
        store.raise({ ...base, type: state.co2High ? 'co2_high' : 'co2_normal', value: co2, threshold: co2Threshold }, world, at, co2Threshold);
      }
      if (seen && batteryLow && !seen.batteryLow && reading.data.battery !== undefined) {
        store.raise({ ...base, type: 'battery_low', value: reading.data.battery, threshold: BATTERY_THRESHOLD }, world, at, co2Threshold);
      }
      state.batteryLow = batteryLow;
    }
  }

  /** Forget every device's state (e.g. after the estate is regenerated). */
  reset(): void {
    this.state.clear();
  }
}
