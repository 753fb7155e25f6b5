/**
 * Request accounting for tests: counts per endpoint and status, a capped request log, the
 * tokens issued, and the peak number of API requests in flight at once.
 */
import { ENDPOINTS, type Endpoint, type RequestLogEntry, type SimulatorStats } from './types';

/** The request log keeps the most recent entries only, so a long soak test cannot exhaust memory. */
export const MAX_LOGGED_REQUESTS = 20_000;
const MAX_TOKENS_KEPT = 50_000;

function zeroByEndpoint(): Record<Endpoint, number> {
  const out = {} as Record<Endpoint, number>;
  for (const e of ENDPOINTS) out[e] = 0;
  return out;
}

export class StatsRecorder {
  private total = 0;
  private byEndpoint = zeroByEndpoint();
  private byStatus: Record<string, number> = {};
  private requests: RequestLogEntry[] = [];
  private tokens: string[] = [];
  private inFlightNow = 0;
  private peak = 0;

  record(entry: RequestLogEntry): void {
    this.total += 1;
    this.byEndpoint[entry.endpoint] += 1;
    const key = String(entry.status);
    this.byStatus[key] = (this.byStatus[key] ?? 0) + 1;
    this.requests.push(entry);
    // Trim in batches: one splice per thousand requests instead of a shift per request.
    if (this.requests.length > MAX_LOGGED_REQUESTS + 1000) {
      this.requests.splice(0, this.requests.length - MAX_LOGGED_REQUESTS);
    }
  }

  tokenIssued(token: string): void {
    this.tokens.push(token);
    if (this.tokens.length > MAX_TOKENS_KEPT) this.tokens.shift();
  }

  requestStarted(): void {
    this.inFlightNow += 1;
    if (this.inFlightNow > this.peak) this.peak = this.inFlightNow;
  }

  requestEnded(): void {
    this.inFlightNow -= 1;
  }

  get inFlight(): number {
    return this.inFlightNow;
  }

  get maxConcurrent(): number {
    return this.peak;
  }

  /** A copy: later requests do not change a snapshot a test holds. */
  snapshot(): SimulatorStats {
    const start = Math.max(0, this.requests.length - MAX_LOGGED_REQUESTS);
    return {
      total: this.total,
      byEndpoint: { ...this.byEndpoint },
      byStatus: { ...this.byStatus },
      tokensIssued: this.tokens.slice(),
      requests: this.requests.slice(start).map((r) => ({ ...r })),
    };
  }

  /** Zeroes counters and the log; tokens issued are kept (they are secrets to look for, not counts). */
  reset(): void {
    this.total = 0;
    this.byEndpoint = zeroByEndpoint();
    this.byStatus = {};
    this.requests = [];
    // Requests still in flight count towards the new peak.
    this.peak = this.inFlightNow;
  }
}
