import type { NodeAPI } from './types';

/**
 * Texts every Leapcraft node shows live in the config node's catalog under `common`;
 * an explicit namespace lets any node set reach them.
 */
const COMMON_NAMESPACE = 'node-red-contrib-leapcraft/leapcraft-config';

export function commonText(RED: NodeAPI, key: string, params?: Record<string, string | number>): string {
  return RED._(`${COMMON_NAMESPACE}:common.${key}`, params);
}
