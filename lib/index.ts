export * from './api/errors';
export * from './api/types';
export * from './api/validation';
export { redactSecrets } from './api/redact';
export { forgetSharedTokens } from './api/auth';
export { parseApiTime } from './api/time';
export { LeapcraftClient, ClientOptions, CallOptions, ClientStats, DEFAULT_BASE_URL, encodeSegment } from './api/client';
export * from './api/topologies';
export { parseRetryAfter, backoffDelay } from './api/retry';
export { PollScheduler, Fetch, Listener, Failure, SchedulerOptions } from './poll/scheduler';
export { AccountState, AccountView, AccountListener, Coordination } from './account/state';
export { redisUrlSetting, shareAccount, SharedAccount, REDIS_URL_ENV } from './cluster/share';
export { AlertRelay } from './cluster/shared-alerts';
export { redactRedisUrl, parseRedisUrl, RedisTarget } from './cluster/redis-url';
export { SubscribeOptions, CadenceSource, CadenceView, Answer, AnswerMeta } from './poll/scheduler';
export { CadenceLearner, CadenceOptions, CadenceContext, CadenceMode, fitPeriod, commonPeriod } from './poll/cadence';
export {
  BudgetState, BudgetReason, RequestBudget, RequestWindow, stretchFactors, paceFloor, Pace, MIN_BUDGET_PER_HOUR, PLAN_SHARE,
} from './poll/budget';
export { parseRateLimitHeaders, RateLimitInfo } from './api/rate-limit';
export * from './telemetry/readings';
export * from './telemetry/answer';
export * from './alerts/seen';
export * from './homeassistant';
export * from './alerts/watcher';
export * from './telemetry/keys';
export * from './telemetry/messages';
export * from './telemetry/change-filter';
export * from './telemetry/cycle';
export * from './telemetry/directory';
export * from './telemetry/health';
export * from './telemetry/on-demand';
export * from './telemetry/polled-devices';
export * from './telemetry/poll-output';
export * from './telemetry/freshness';
export * from './telemetry/device-health';
export {
  runDoctor, formatDoctorReport, describeShape, simulatorCommand, DOCTOR_MAX_REQUESTS, DOCTOR_POINTS, READING_NAMES,
  DoctorOptions, DoctorReport, DoctorOutcome, DoctorPoint, PointFinding,
} from './doctor';
export { DEFAULT_DIALECT, DIALECT_POINTS, DIALECTS, Dialect, DialectPoint, DialectReading } from './api/dialects';
export * from './history';
export * from './airquality';
