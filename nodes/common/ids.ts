import { LeapcraftInvalidInputError, requireId } from '../../lib';

/** A node setting such as "D2:C1:AA:FF:3E:09, testsim00004": ids, trimmed, deduplicated. */
export function parseIdList(text: unknown, field: string): string[] {
  if (text === undefined || text === null) return [];
  if (typeof text !== 'string') throw new LeapcraftInvalidInputError(`Invalid ${field}: expected comma-separated ids`, { field });
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(ids.map((id) => requireId(id, field)))];
}

/** `msg.physical_id`: one id or an array of ids. */
export function idsFromMsg(value: unknown, field: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) throw new LeapcraftInvalidInputError(`Invalid ${field}: the array is empty`, { field });
  if (list.length > 10_000) throw new LeapcraftInvalidInputError(`Invalid ${field}: more than 10000 ids`, { field });
  return [...new Set(list.map((id) => requireId(id, field)))];
}
