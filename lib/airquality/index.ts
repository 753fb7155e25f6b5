/**
 * CO2 readings judged against the standards, ventilation demand and the daily report, without
 * Node-RED (nodes/leapcraft-air-quality.ts wires it). What the node and its editor rules need;
 * the room's other modules are imported by path.
 */
export { AQ_PROFILES, type AqCategory, type AqProfile, type AqProfileId, buildProfile, classify, limitPpm } from './profiles';
export { AQ_DAYS, AQ_DEFAULTS, AQ_LIMITS, AQ_REPORT_TIME, AQ_TIME_OF_DAY, type AqSettings, type AqSettingsInput, parseAqSettings } from './settings';
export { type AqInput, type AqReading, parseAqInput } from './input';
export { AQ_HISTORY_MS, AQ_MAX_DEVICES, type AqAnnotation, type AqObservation, type AqPrevious, type AqState } from './monitor';
export { type AqCategoryTime, type AqDeviceReport, type AqReport, type AqReportKind } from './report';
export { AqService, type AqServiceHooks } from './service';
