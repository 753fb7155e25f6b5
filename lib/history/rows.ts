/**
 * The same points as rows for a SQL insert, carried in `msg.params` the way
 * node-red-contrib-postgresql binds them to `$1…`: one parameter, the rows as JSON, so one msg
 * is one statement however many rows it holds:
 *
 *   INSERT INTO leapcraft_readings (device, time, co2)
 *   SELECT device, time, co2 FROM jsonb_to_recordset($1::jsonb)
 *     AS r(device text, time timestamptz, co2 double precision)
 *   ON CONFLICT DO NOTHING;
 *
 * A row is `{time, <tags>, <fields>}`: `time` in ISO 8601 UTC, a column per tag and per
 * reading; `jsonb_to_recordset` takes the columns it names and leaves the rest.
 */
import { HistoryPoint } from './points';

export type SqlRow = Record<string, string | number>;

export function sqlRow(point: HistoryPoint): SqlRow {
  return { time: point.timestamp.toISOString(), ...point.tags, ...point.fields };
}

/**
 * JSON of the rows without a single quote (each one written `\u0027`, which JSON reads as the
 * same text): so a node that can only template the query, not bind it, can still put the text
 * between quotes, `'…'::jsonb`, and no device name can end the string early.
 */
export function rowsJson(points: readonly HistoryPoint[]): string {
  return JSON.stringify(points.map(sqlRow)).replace(/'/g, '\\u0027');
}

/** `msg.params` for `$1`: the rows as one JSON parameter. */
export function sqlParams(points: readonly HistoryPoint[]): [string] {
  return [rowsJson(points)];
}
