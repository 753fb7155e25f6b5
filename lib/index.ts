export * from './errors';
export * from './types';
export * from './validation';
export { LeapcraftClient, ClientOptions, CallOptions, ClientStats, DEFAULT_BASE_URL, encodeSegment } from './client';
export { parseRetryAfter, backoffDelay } from './retry';
export { PollScheduler, Fetch, Listener, SchedulerOptions } from './scheduler';
export * from './readings';
export * from './alerts';
export * from './homeassistant';
