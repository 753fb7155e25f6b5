/** Defensive reading of API bodies: whatever comes back, the result is data or a typed error. */
import { LeapcraftBadResponseError } from './errors';

export function parseJsonBody(body: string, endpoint: string, status: number): unknown {
  // Looked at in place: trim() would copy every body, and JSON.parse skips the white space JSON
  // allows anyway; a trimmed copy is parsed only when the body alone fails (a byte-order mark,
  // other Unicode spaces).
  const first = body.search(/\S/);
  if (first < 0) throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${status} with an empty body`, { endpoint, status });
  if (body[first] === '<') {
    throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${status} with an HTML page instead of JSON (a proxy or maintenance page?)`, { endpoint, status });
  }
  try {
    return JSON.parse(body);
  } catch {
    try {
      return JSON.parse(body.trim());
    } catch {
      throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${status} with a body that is not valid JSON`, { endpoint, status });
    }
  }
}

/** Names under which a paginated or wrapped API commonly nests its list. */
const LIST_KEYS = ['data', 'items', 'results', 'devices', 'topologies', 'notifications', 'alerts', 'things'];

/**
 * The docs show bare arrays; an envelope (`{"data": [...]}`) is also read, since the
 * exact shape is undocumented for several endpoints.
 */
export function extractList(value: unknown, endpoint: string, status: number): unknown[] {
  if (Array.isArray(value)) return value;
  if (value && typeof value === 'object') {
    for (const key of LIST_KEYS) {
      const inner = (value as Record<string, unknown>)[key];
      if (Array.isArray(inner)) return inner;
    }
  }
  throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${status} without the expected list`, { endpoint, status });
}

export function expectObject(value: unknown, endpoint: string, status: number): Record<string, unknown> {
  if (value && typeof value === 'object' && !Array.isArray(value)) return value as Record<string, unknown>;
  throw new LeapcraftBadResponseError(`${endpoint} returned HTTP ${status} without the expected object`, { endpoint, status });
}

/** The API's own error text, if its body carries one in any common shape. */
export function apiErrorText(body: string): string | undefined {
  const text = body.trim();
  if (text === '') return undefined;
  if (text.startsWith('<')) return undefined;
  try {
    const json = JSON.parse(text) as unknown;
    if (typeof json === 'string') return clip(json);
    if (json && typeof json === 'object') {
      const o = json as Record<string, unknown>;
      for (const key of ['message', 'error_description', 'detail', 'error', 'title', 'msg']) {
        const v = o[key];
        if (typeof v === 'string' && v.trim()) return clip(v);
        if (v && typeof v === 'object' && typeof (v as Record<string, unknown>).message === 'string') {
          return clip((v as Record<string, string>).message);
        }
      }
      if (Array.isArray(o.errors) && o.errors.length) {
        const first = o.errors[0];
        if (typeof first === 'string') return clip(first);
        if (first && typeof first === 'object' && typeof first.message === 'string') return clip(first.message);
      }
    }
    return undefined;
  } catch {
    return clip(text);
  }
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > 300 ? `${oneLine.slice(0, 300)}…` : oneLine;
}
