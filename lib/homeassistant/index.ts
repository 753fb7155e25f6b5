/**
 * The Home Assistant MQTT discovery bridge, without Node-RED (nodes/leapcraft-homeassistant.ts wires it).
 * The bridge's inner rooms (device-table.ts, gateway-devices.ts, bridge-device.ts) are not exported.
 */
export * from './ids';
export * from './readings';
export * from './discovery';
export * from './topology';
export * from './input';
export * from './alerts';
export * from './health';
export * from './record';
export * from './publisher';
export * from './device-configs';
export * from './bridge';
export * from './settings';
export * from './status';
export * from './service';
