import { isLeapcraftError, LeapcraftError, LeapcraftInvalidInputError } from '../../lib';
import { commonText } from './i18n';
import type { NodeAPI } from './types';

/**
 * What reaches a Catch node: always an Error with a `code`. Anything that is not already
 * a LeapcraftError is a bug somewhere below; it is passed on with its message, never
 * with request internals attached.
 */
export function toNodeError(err: unknown): Error & { code?: string } {
  if (isLeapcraftError(err)) return err;
  if (err instanceof Error) return err;
  return new Error(String(err));
}

export function noAccountError(RED: NodeAPI): LeapcraftError {
  return new LeapcraftInvalidInputError(commonText(RED, 'error.noAccount'), { field: 'account' });
}
