/** The Home Assistant MQTT discovery bridge, without Node-RED (nodes/leapcraft-homeassistant.ts wires it). */
export * from './homeassistant-ids';
export * from './homeassistant-readings';
export * from './homeassistant-discovery';
export * from './homeassistant-topology';
export * from './homeassistant-input';
export * from './homeassistant-bridge';
