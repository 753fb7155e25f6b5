/** The Home Assistant MQTT discovery bridge, without Node-RED (nodes/leapcraft-homeassistant.ts wires it). */
export * from './ids';
export * from './readings';
export * from './discovery';
export * from './topology';
export * from './input';
export * from './alerts';
export * from './health';
export * from './record';
export * from './bridge';
export * from './settings';
export * from './status';
export * from './service';
