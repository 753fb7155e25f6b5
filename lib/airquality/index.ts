/** CO2 readings judged against the standards, ventilation demand and the daily report, without Node-RED (nodes/leapcraft-air-quality.ts wires it). */
export * from './zone';
export * from './occupancy';
export * from './profiles';
export * from './settings';
export * from './category';
export * from './demand';
export * from './history';
export * from './input';
export * from './monitor';
export * from './report';
export * from './service';
