/**
 * Settings given as `${NAME}`: Node-RED replaces such a value from its environment when the flow
 * starts, and leaves it as it is when the variable is not set. A value still of this form when
 * the node starts names a variable Node-RED's environment lacks.
 */
const REFERENCE = /^\$\{(\S+)\}$/;

/** The variable a setting still refers to (so one not set in Node-RED's environment), or undefined. */
export function unsetEnvVariable(value: unknown): string | undefined {
  return typeof value === 'string' ? REFERENCE.exec(value.trim())?.[1] : undefined;
}
