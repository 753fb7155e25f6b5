export * from './api/errors';
export * from './api/types';
export * from './api/validation';
export { LeapcraftClient, ClientOptions, CallOptions, ClientStats, DEFAULT_BASE_URL, encodeSegment } from './api/client';
export { parseRetryAfter, backoffDelay } from './api/retry';
export { PollScheduler, Fetch, Listener, Failure, SchedulerOptions } from './poll/scheduler';
export * from './telemetry/readings';
export * from './alerts/seen';
export * from './homeassistant';
