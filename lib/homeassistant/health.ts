/**
 * The bridge's own health, as its Home Assistant device shows it: is the Leapcraft API
 * reachable (a connectivity binary sensor, with the reason when it is not), is the account
 * rate-limited (a problem binary sensor), how many devices were polled, when the last reading
 * came. Fed by what the bridge hears: the account's scheduler (its topology and device-list
 * reads: every failure with its code, and `recovered`), the telemetry node's failures through
 * a Catch node (`msg.error.code`), each reading, and the account client's 429 pause.
 */

/** Failures that mean the bridge cannot get data from the API at all (not one device's trouble). */
const UNREACHABLE: Readonly<Record<string, string>> = {
  LEAPCRAFT_UNAVAILABLE: 'unavailable',
  LEAPCRAFT_TIMEOUT: 'timeout',
  LEAPCRAFT_BAD_RESPONSE: 'bad response',
  LEAPCRAFT_AUTH: 'key refused',
};

export interface HaHealthState {
  /** `ON` reachable, `OFF` not, null before the first answer. */
  api: 'ON' | 'OFF' | null;
  /** Why the API is not reachable (the connectivity sensor's attributes); {} when it is. */
  api_problem: { error?: string; code?: string; since?: string };
  rate_limited: 'ON' | 'OFF';
  devices_polled: number;
  /** ISO time of the last reading msg, null before one. */
  last_poll: string | null;
}

/** An ISO time to the second, with its zone (`Z`): what a timestamp sensor takes. */
export const haIsoTime = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace(/\.000Z$/, 'Z');

export class HaHealth {
  private reachable: boolean | null = null;
  private problem?: { code: string; since: number };
  private rateLimitedUntil = 0;
  private clientRateLimited = false;
  private lastReadingAt?: number;
  /** The state as last published, and the part of it that is published at once when it changes. */
  private published?: string;
  private publishedFlags?: string;

  /** The API answered (a reading arrived, a read of the account succeeded). */
  succeeded(): void {
    this.reachable = true;
    this.problem = undefined;
  }

  /** A reading msg arrived: the API answered, and this is the last successful poll. */
  reading(now: number): void {
    this.succeeded();
    this.lastReadingAt = now;
  }

  /**
   * A request failed with `code`. Only failures of the account or the way to the API make it
   * unreachable; a rate limit is its own sensor (`retryAfterMs` when the error says how long);
   * one device's trouble (not found, bad request) says nothing about the API.
   */
  failed(code: string | undefined, now: number, since = now, retryAfterMs?: number): void {
    if (code === 'LEAPCRAFT_RATE_LIMITED') {
      this.rateLimitedUntil = Math.max(this.rateLimitedUntil, now + (retryAfterMs ?? 60_000));
      return;
    }
    if (!code || !(code in UNREACHABLE)) return;
    this.reachable = false;
    if (this.problem?.code !== code) this.problem = { code, since };
  }

  /** The account client's own 429 pause (LeapcraftClient.rateLimitRemainingMs() > 0). */
  setClientRateLimited(limited: boolean): void {
    this.clientRateLimited = limited;
  }

  /**
   * The state as JSON when it is due, else undefined: with `all`, on any change (the periodic
   * look); without, only when API reachable or rate-limited changed, or on the first poll
   * (published with the msg that caused it; the counts and times follow with the periodic look).
   */
  due(now: number, devicesPolled: number, all: boolean): string | undefined {
    const state = this.state(now, devicesPolled);
    const text = JSON.stringify(state);
    const flags = `${state.api}|${state.rate_limited}|${state.api_problem.code ?? ''}|${state.last_poll === null}`;
    if (text === this.published || (!all && flags === this.publishedFlags && this.published !== undefined)) return undefined;
    this.published = text;
    this.publishedFlags = flags;
    return text;
  }

  /** The next look publishes the state whatever it is (its device was just announced). */
  republish(): void {
    this.published = undefined;
  }

  state(now: number, devicesPolled: number): HaHealthState {
    const problem = this.reachable === false && this.problem
      ? { error: UNREACHABLE[this.problem.code], code: this.problem.code, since: haIsoTime(this.problem.since) }
      : {};
    return {
      api: this.reachable === null ? null : this.reachable ? 'ON' : 'OFF',
      api_problem: problem,
      rate_limited: this.clientRateLimited || now < this.rateLimitedUntil ? 'ON' : 'OFF',
      devices_polled: devicesPolled,
      last_poll: this.lastReadingAt === undefined ? null : haIsoTime(this.lastReadingAt),
    };
  }
}
