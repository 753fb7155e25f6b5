/** Id lists in node settings and msgs: the rules live in lib/api/validation.ts. */
import { idList, parseIdList } from '../../lib';

export { parseIdList };

/** `msg.physical_id`: one id or an array of ids. */
export function idsFromMsg(value: unknown, field: string): string[] {
  return idList(value, field);
}
