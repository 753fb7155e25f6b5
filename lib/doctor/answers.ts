/** Reading the API's answers for the doctor: lists, where a point keeps its readings, field lists. */
import { pointReadings } from '../telemetry/readings';
import type { TelemetryReading } from '../api/types';

export const isObject = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v);

/** A list answer: a bare array, `{data: [...]}` (the envelope), or a list under some other key. */
export interface ListShape {
  kind: 'bare' | 'envelope' | 'other' | 'none';
  items: unknown[];
  /** `total` of an envelope, when a number. */
  total?: number;
  /** For 'other': the key the list was under. */
  key?: string;
}

const OTHER_LIST_KEYS = ['items', 'results', 'devices', 'topologies', 'notifications', 'alerts', 'things', 'list', 'records'];

export function listShape(body: unknown): ListShape {
  if (Array.isArray(body)) return { kind: 'bare', items: body };
  if (isObject(body)) {
    if (Array.isArray(body.data)) {
      return { kind: 'envelope', items: body.data, ...(typeof body.total === 'number' ? { total: body.total } : {}) };
    }
    for (const key of OTHER_LIST_KEYS) if (Array.isArray(body[key])) return { kind: 'other', items: body[key] as unknown[], key };
  }
  return { kind: 'none', items: [] };
}

export function describeList(list: ListShape): string {
  switch (list.kind) {
    case 'bare':
      return `a bare array of ${list.items.length}`;
    case 'envelope':
      return `{data: [${list.items.length}]${list.total !== undefined ? ', total' : ''}}`;
    case 'other':
      return `a list of ${list.items.length} under "${list.key}"`;
    default:
      return 'no list';
  }
}

/** Where a point keeps its readings: under `data` (nested), beside `timestamp` (flat), or neither. */
export function readingsPlace(point: unknown): { place: 'nested' | 'flat' | 'none'; fields: string[] } {
  if (!isObject(point)) return { place: 'none', fields: [] };
  const fields = Object.keys(pointReadings(point as TelemetryReading));
  if (isObject(point.data)) return { place: 'nested', fields };
  return fields.length > 0 ? { place: 'flat', fields } : { place: 'none', fields: [] };
}

export function fieldList(fields: readonly string[], max = 8): string {
  const shown = fields.slice(0, max).join(', ');
  return fields.length > max ? `${shown}, …` : shown;
}
