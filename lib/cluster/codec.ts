/**
 * Answers as they travel through Redis: JSON with the leader's fencing number. An error travels
 * as its code, message and the details a listener uses (status, endpoint, Retry-After) and is a
 * LeapcraftError again on arrival. Whatever arrives is untrusted: a message that is not an answer
 * is dropped, never thrown.
 */
import { LeapcraftError, LeapcraftErrorCode } from '../api/errors';

const CODES: readonly string[] = [
  'LEAPCRAFT_AUTH', 'LEAPCRAFT_NOT_FOUND', 'LEAPCRAFT_RATE_LIMITED', 'LEAPCRAFT_BAD_REQUEST', 'LEAPCRAFT_UNAVAILABLE',
  'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_INVALID_INPUT', 'LEAPCRAFT_BAD_RESPONSE',
] satisfies LeapcraftErrorCode[];
import type { Answer } from '../poll/delivery';

export interface Shared {
  fence: number;
  answer: Answer;
}

export function encodeAnswer(fence: number, answer: Answer): string {
  if (answer.kind === 'value') return JSON.stringify({ fence, answer });
  const err = answer.error as Partial<LeapcraftError> & { message?: string };
  const error = {
    code: typeof err?.code === 'string' ? err.code : 'LEAPCRAFT_UNAVAILABLE',
    message: typeof err?.message === 'string' ? err.message : String(answer.error),
    status: err?.status,
    endpoint: err?.endpoint,
    retryAfterMs: err?.retryAfterMs,
  };
  return JSON.stringify({ fence, answer: { ...answer, error } });
}

export function decodeAnswer(text: string): Shared | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const p = parsed as { fence?: unknown; answer?: Record<string, unknown> };
  const a = p?.answer;
  if (typeof p?.fence !== 'number' || !a || typeof a.key !== 'string' || typeof a.intervalMs !== 'number' || typeof a.at !== 'number') return undefined;
  if (a.kind === 'value') {
    const meta = a.meta as { round?: unknown; news?: unknown } | undefined;
    if (meta !== undefined && (typeof meta?.round !== 'boolean' || typeof meta.news !== 'boolean')) return undefined;
    return { fence: p.fence, answer: a as unknown as Answer };
  }
  if (a.kind !== 'failure') return undefined;
  const e = a.error as { code?: unknown; message?: unknown; status?: unknown; endpoint?: unknown; retryAfterMs?: unknown } | undefined;
  if (typeof e?.code !== 'string' || !CODES.includes(e.code) || typeof e.message !== 'string') return undefined;
  const details: { status?: number; endpoint?: string; retryAfterMs?: number } = {};
  if (typeof e.status === 'number') details.status = e.status;
  if (typeof e.endpoint === 'string') details.endpoint = e.endpoint;
  if (typeof e.retryAfterMs === 'number') details.retryAfterMs = e.retryAfterMs;
  return { fence: p.fence, answer: { kind: 'failure', key: a.key, intervalMs: a.intervalMs, at: a.at, error: new LeapcraftError(e.code as LeapcraftErrorCode, e.message, details) } };
}
