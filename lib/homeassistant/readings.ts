/**
 * How each Leapcraft reading appears in Home Assistant: device class, unit and state class
 * as Home Assistant's sensor integration accepts them together (homeassistant/components/
 * sensor/const.py, DEVICE_CLASS_UNITS and DEVICE_CLASS_STATE_CLASSES). A pair Home Assistant
 * does not accept makes MQTT discovery refuse the entity, so the units here are Home
 * Assistant's spelling, not the API's: `dBA`, not `dB(A)`.
 *
 * µ is U+00B5 MICRO SIGN: Home Assistant up to 2025.8 accepts only that one for µg/m³, and
 * from 2025.9 (which prefers U+03BC) its MQTT integration still translates U+00B5 to U+03BC,
 * whereas U+03BC is refused by the older versions.
 */

export interface HaReadingSpec {
  /** The entity's name within its device (Home Assistant shows "<device> <name>"). */
  name: string;
  device_class?: string;
  unit_of_measurement?: string;
  state_class?: 'measurement';
  entity_category?: 'diagnostic';
  suggested_display_precision?: number;
}

export const HA_MICRO_SIGN = '\u00b5';
const UG_PER_M3 = `${HA_MICRO_SIGN}g/m\u00b3`;

const CO2: HaReadingSpec = { name: 'CO2', device_class: 'carbon_dioxide', unit_of_measurement: 'ppm', state_class: 'measurement', suggested_display_precision: 0 };
const PM25: HaReadingSpec = { name: 'PM2.5', device_class: 'pm25', unit_of_measurement: UG_PER_M3, state_class: 'measurement', suggested_display_precision: 1 };
const PM10: HaReadingSpec = { name: 'PM10', device_class: 'pm10', unit_of_measurement: UG_PER_M3, state_class: 'measurement', suggested_display_precision: 1 };
const PM1: HaReadingSpec = { name: 'PM1', device_class: 'pm1', unit_of_measurement: UG_PER_M3, state_class: 'measurement', suggested_display_precision: 1 };
const NOISE: HaReadingSpec = { name: 'Noise', device_class: 'sound_pressure', unit_of_measurement: 'dBA', state_class: 'measurement', suggested_display_precision: 1 };

/**
 * The readings the Leapcraft sensors are known to send (simulator/model.ts; the API's
 * sample), with the aliases other firmware may use. Keys the table does not know become
 * plain sensors: a unit the API does not document (VOC in ppb or µg/m³? pressure in Pa or
 * hPa?) is better left out than guessed.
 */
export const HA_KNOWN_READINGS: Readonly<Record<string, HaReadingSpec>> = Object.freeze({
  co2: CO2,
  temperature: { name: 'Temperature', device_class: 'temperature', unit_of_measurement: '°C', state_class: 'measurement', suggested_display_precision: 1 },
  humidity: { name: 'Humidity', device_class: 'humidity', unit_of_measurement: '%', state_class: 'measurement', suggested_display_precision: 1 },
  pm2_5: PM25,
  pm25: PM25,
  pm10: PM10,
  pm1: PM1,
  pm1_0: PM1,
  noise: NOISE,
  sound: NOISE,
  battery: { name: 'Battery', device_class: 'battery', unit_of_measurement: '%', state_class: 'measurement', entity_category: 'diagnostic', suggested_display_precision: 0 },
});

/**
 * The readings each model is expected to send (Leapcraft's product texts; the simulator):
 * what a device announced from the device list alone gets, before its first reading.
 */
export const HA_EXPECTED_READINGS: Readonly<Record<string, readonly string[]>> = Object.freeze({
  airbird: ['co2', 'temperature', 'humidity', 'battery'],
  ambinode: ['co2', 'temperature', 'humidity', 'pm2_5', 'noise'],
});

const MODEL_NAMES: Readonly<Record<string, string>> = { airbird: 'AirBird', ambinode: 'Ambinode' };

/** Home Assistant's device model from the API's `type`: the product name when known. */
export function haModelName(type: unknown): string | undefined {
  if (typeof type !== 'string' || type.trim() === '') return undefined;
  return MODEL_NAMES[type.trim().toLowerCase()] ?? type.trim();
}

/** `light_level` → `Light level`. */
function humanize(key: string): string {
  const words = key.replace(/[_\s]+/g, ' ').trim();
  return words === '' ? key : words.charAt(0).toUpperCase() + words.slice(1);
}

/** A scalar Home Assistant can show as a state; objects and arrays (like `meta`) are not readings. */
export type HaReadingValue = number | string | boolean | null;

/**
 * How a reading key is announced. Unknown keys: no device class and no unit; numbers get
 * state class `measurement` (long-term statistics), text and booleans none (Home Assistant
 * refuses a non-numeric state on a measurement).
 */
export function haReadingSpec(key: string, sample: HaReadingValue): HaReadingSpec {
  const known = HA_KNOWN_READINGS[key.toLowerCase()];
  if (known) return { ...known };
  const numeric = typeof sample === 'number' || (typeof sample === 'string' && sample.trim() !== '' && Number.isFinite(Number(sample)));
  return numeric ? { name: humanize(key), state_class: 'measurement' } : { name: humanize(key) };
}
