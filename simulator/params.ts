/**
 * Query-parameter validation. Returns either a value or the human text for a 400; unknown
 * parameters are never looked at, so they are ignored. An empty value (`limit=`) counts as
 * absent: the default applies, which is the most lenient reading of an ambiguous request.
 */

export type Checked<T> = { ok: true; value: T } | { ok: false; message: string };

/** A plain decimal integer; longer than 15 digits cannot be exact in a double, so it is refused. */
const INTEGER = /^-?\d{1,15}$/;

function present(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === '' ? undefined : value;
}

export interface IntRule {
  def: number;
  min: number;
  max?: number;
  /** `-1` is accepted as "all" besides the [min, max] range. */
  minusOneMeansAll?: boolean;
}

export function intParam(query: URLSearchParams, name: string, rule: IntRule): Checked<number> {
  const raw = present(query, name);
  if (raw === undefined) return { ok: true, value: rule.def };
  const range = rule.max === undefined ? `>= ${rule.min}` : `${rule.min}..${rule.max}`;
  const expected = rule.minusOneMeansAll ? `an integer ${range}, or -1 for all` : `an integer ${range}`;
  if (!INTEGER.test(raw)) return { ok: false, message: `${name} must be ${expected}` };
  const value = Number(raw);
  if (rule.minusOneMeansAll && value === -1) return { ok: true, value };
  if (value < rule.min || (rule.max !== undefined && value > rule.max)) {
    return { ok: false, message: `${name} must be ${expected}` };
  }
  return { ok: true, value };
}

export function enumParam<T extends string>(
  query: URLSearchParams,
  name: string,
  allowed: readonly T[],
): Checked<T> {
  const raw = present(query, name);
  if (raw === undefined) return { ok: false, message: `${name} is required (one of ${allowed.join(', ')})` };
  if (!(allowed as readonly string[]).includes(raw)) {
    return { ok: false, message: `${name} must be one of ${allowed.join(', ')}` };
  }
  return { ok: true, value: raw as T };
}

export function dateTimeParam(
  query: URLSearchParams,
  name: string,
  parse: (text: string) => number | null,
): Checked<number> {
  const raw = present(query, name);
  if (raw === undefined) return { ok: false, message: `${name} is required` };
  const value = parse(raw);
  if (value === null) {
    return { ok: false, message: `${name} must be a date-time such as 2021-05-26T00:00:00.000 (UTC when no zone is given)` };
  }
  return { ok: true, value };
}

export function stringParam(query: URLSearchParams, name: string): string | undefined {
  return present(query, name);
}
