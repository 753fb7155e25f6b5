/**
 * What an API's rate-limit headers say: how many requests the window allows, how many are
 * left, when it resets. Read so the poll scheduler can stay under a limit the API announces
 * instead of learning it from 429s. Both families are read: the IETF draft's `RateLimit-*`
 * (Reset in seconds from now; `RateLimit-Policy: 100;w=3600`, or the later structured
 * `RateLimit-Policy: "default";q=100;w=3600` with `RateLimit: "default";r=50;t=30`), and the
 * older `X-RateLimit-*` (Reset as seconds from now, or as an epoch in seconds or ms).
 * Pure: the caller passes the time the response arrived.
 */

export interface RateLimitInfo {
  /** Requests the window allows. */
  limit?: number;
  /** Requests left in the current window. */
  remaining?: number;
  /** Until the window resets, from the response's arrival. */
  resetMs?: number;
  /** The window's length, when a policy names it. */
  windowMs?: number;
}

/** A Reset value above this is an epoch in seconds (2001 on), above EPOCH_MS an epoch in ms. */
const EPOCH_S = 1e9;
const EPOCH_MS = 1e12;

type Headers = Record<string, unknown>;

/** Parses the rate-limit headers of a response; undefined when it has none. */
export function parseRateLimitHeaders(headers: Headers | undefined, nowMs: number = Date.now()): RateLimitInfo | undefined {
  if (!headers) return undefined;
  const h = lowerCased(headers);
  const info: RateLimitInfo = {};

  // The structured draft: RateLimit: "name";r=remaining;t=reset (or remaining=, reset=, limit=).
  const combined = items(h['ratelimit']);
  for (const item of combined) {
    const p = params(item);
    setIfUnset(info, 'remaining', num(p.r ?? p.remaining));
    setIfUnset(info, 'resetMs', seconds(p.t ?? p.reset));
    setIfUnset(info, 'limit', num(p.limit));
  }

  // A policy names a quota and its window; of several, the one allowing the lowest rate binds.
  const policies = [...items(h['ratelimit-policy']), ...items(h['ratelimit-limit']).filter((i) => /;\s*w\s*=/.test(i))]
    .map(policy)
    .filter((p): p is { quota: number; windowMs: number } => p !== undefined);
  if (policies.length > 0) {
    const tightest = policies.reduce((a, b) => (b.quota / b.windowMs < a.quota / a.windowMs ? b : a));
    info.windowMs = tightest.windowMs;
    setIfUnset(info, 'limit', tightest.quota);
  }

  setIfUnset(info, 'limit', num(first(h['ratelimit-limit'])));
  setIfUnset(info, 'remaining', num(first(h['ratelimit-remaining'])));
  setIfUnset(info, 'resetMs', resetValue(first(h['ratelimit-reset']), nowMs));
  setIfUnset(info, 'limit', num(first(h['x-ratelimit-limit'])));
  setIfUnset(info, 'remaining', num(first(h['x-ratelimit-remaining'])));
  setIfUnset(info, 'resetMs', resetValue(first(h['x-ratelimit-reset']), nowMs));

  return Object.keys(info).length > 0 ? info : undefined;
}

function lowerCased(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || value === null) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
  }
  return out;
}

/** A comma-separated list's members (a header may repeat). */
function items(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(',').map((s) => s.trim()).filter(Boolean);
}

/** The first member's first token: `100` of `100, 100;w=60`. */
function first(value: string | undefined): string | undefined {
  return items(value)[0]?.split(';')[0]?.trim();
}

/** `;`-separated parameters, `name=value`; a bare token is kept under its own name. */
function params(item: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of item.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    out[part.slice(0, eq).trim().toLowerCase()] = part.slice(eq + 1).trim().replace(/^"|"$/g, '');
  }
  return out;
}

/** `100;w=3600` (the quota first) or `"default";q=100;w=3600`. */
function policy(item: string): { quota: number; windowMs: number } | undefined {
  const p = params(item);
  const head = item.split(';')[0]!.trim();
  const quota = num(p.q) ?? num(head);
  const windowS = num(p.w);
  if (quota === undefined || windowS === undefined || windowS <= 0) return undefined;
  return { quota, windowMs: windowS * 1000 };
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

function seconds(value: string | undefined): number | undefined {
  const n = num(value);
  return n === undefined ? undefined : n * 1000;
}

/** Seconds from now, or an epoch in seconds or milliseconds. */
function resetValue(value: string | undefined, nowMs: number): number | undefined {
  const n = num(value);
  if (n === undefined) return undefined;
  if (n > EPOCH_MS) return Math.max(0, n - nowMs);
  if (n > EPOCH_S) return Math.max(0, n * 1000 - nowMs);
  return n * 1000;
}

function setIfUnset<K extends keyof RateLimitInfo>(info: RateLimitInfo, key: K, value: RateLimitInfo[K]): void {
  if (info[key] === undefined && value !== undefined) info[key] = value;
}
