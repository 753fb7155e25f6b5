import type { Msg } from './types';

/**
 * A msg property that overrides a node setting (`msg.physical_id`, `msg.limit`, …). Only
 * undefined and null mean "not given": an explicitly empty value is passed on, so the
 * setting's validation reports it rather than silently using the node's setting. With
 * `blocked` (the node's "block msg overrides" option) every msg property is ignored.
 */
export function msgOverride(msg: Msg, property: string, blocked = false): unknown {
  if (blocked) return undefined;
  const value = msg[property];
  return value === undefined || value === null ? undefined : value;
}

/**
 * Several overrides at once, each falling back to its setting: `{type: msg.type ?? setting.type, …}`
 * for every key of `settings`.
 */
export function withOverrides<T extends Record<string, unknown>>(msg: Msg, settings: T, blocked = false): { [K in keyof T]: unknown } {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(settings)) out[key] = msgOverride(msg, key, blocked) ?? settings[key];
  return out as { [K in keyof T]: unknown };
}

/**
 * A msg property that overrides one node setting, checked like the setting: `check` gets the
 * msg's value (the error names `msg.<property>`), and the setting stands when the msg has none.
 */
export function msgSetting<T>(msg: Msg, property: string, setting: T, check: (value: unknown, field: string) => T, blocked = false): T {
  const value = msgOverride(msg, property, blocked);
  return value === undefined ? setting : check(value, `msg.${property}`);
}
