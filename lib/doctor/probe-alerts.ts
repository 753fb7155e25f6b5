/** alertOrder, alertTime and alertIds from one page of up to 50 alerts. */
import { fieldList, isObject } from './answers';
import { DoctorSession } from './session';
import { dateTimeOf } from './shape';

/** A field name the simulator's alertTime option could take (simulator/dialect.ts). */
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;

export async function notifications(s: DoctorSession, token: string): Promise<void> {
  const label = 'GET /notifications?limit=50';
  const a = await s.send(label, { path: '/notifications', query: { limit: 50 }, bearer: token });
  const points = ['alertOrder', 'alertTime', 'alertIds'] as const;
  if (!a || a.status < 200 || a.status >= 300) {
    for (const p of points) {
      if (a) s.cannotTell(p, `notifications got HTTP ${a.status}`);
      else s.noAnswer(p, 'notifications');
    }
    return;
  }
  const list = s.noteList(label, a.json);
  const alerts = list.items.filter(isObject);
  if (list.items.length > 50) s.surprise(`limit=50 answered ${list.items.length} alerts`);
  if (alerts.length === 0) {
    for (const p of points) s.cannotTell(p, 'no alerts');
    return;
  }
  alertIds(s, alerts);
  const field = alertTime(s, alerts);
  alertOrder(s, alerts, field);
}

function alertIds(s: DoctorSession, alerts: Record<string, unknown>[]): void {
  const withId = alerts.filter((x) => x.id !== undefined && x.id !== null).length;
  if (withId === alerts.length) s.found('alertIds', true, `all ${alerts.length} alerts carry an id`);
  else if (withId === 0) s.found('alertIds', false, `none of ${alerts.length} alerts carries an id`);
  else {
    s.surprise(`${withId} of ${alerts.length} alerts carry an id`);
    s.cannotTell('alertIds', `${withId} of ${alerts.length} alerts carry an id`);
  }
}

/** The fields that hold a date-time in every alert; returns the one taken for the time. */
function alertTime(s: DoctorSession, alerts: Record<string, unknown>[]): string | undefined {
  const keys = [...new Set(alerts.flatMap((x) => Object.keys(x)))];
  const timeFields = keys.filter((k) => alerts.every((x) => dateTimeOf(x[k]) !== undefined));
  if (timeFields.length === 0) {
    const some = keys.filter((k) => alerts.some((x) => dateTimeOf(x[k]) !== undefined));
    if (some.length > 0) {
      s.surprise(`date-times in only some alerts: ${fieldList(some)}`);
      s.cannotTell('alertTime', `no field holds a date-time in every alert (some do: ${fieldList(some)})`);
    } else {
      s.found('alertTime', 'none', `no field of ${alerts.length} alerts holds a date-time (fields: ${fieldList(keys)})`);
    }
    return undefined;
  }
  const field = timeFields.includes('created_at') ? 'created_at' : timeFields[0] as string;
  if (timeFields.length > 1) s.surprise(`several alert fields hold date-times: ${fieldList(timeFields)} (${field} taken for the time)`);
  if (FIELD_NAME.test(field)) s.found('alertTime', field, `"${field}" holds a date-time in all ${alerts.length} alerts`);
  else s.cannotTell('alertTime', 'the date-time field has a name the simulator cannot take');
  return field;
}

function alertOrder(s: DoctorSession, alerts: Record<string, unknown>[], field: string | undefined): void {
  if (field === undefined) return s.cannotTell('alertOrder', 'the alerts carry no time field');
  if (alerts.length < 2) return s.cannotTell('alertOrder', 'only 1 alert');
  const times = alerts.map((x) => dateTimeOf(x[field]) as number);
  let up = 0;
  let down = 0;
  for (let i = 1; i < times.length; i++) {
    if ((times[i] as number) > (times[i - 1] as number)) up += 1;
    else if ((times[i] as number) < (times[i - 1] as number)) down += 1;
  }
  if (down > 0 && up === 0) s.found('alertOrder', 'newest', `${alerts.length} alerts, ${field} descending`);
  else if (up > 0 && down === 0) s.found('alertOrder', 'oldest', `${alerts.length} alerts, ${field} ascending`);
  else if (up === 0 && down === 0) s.cannotTell('alertOrder', `all ${alerts.length} alerts have the same ${field}`);
  else {
    s.surprise(`alerts are in no time order (${up} steps up, ${down} down)`);
    s.cannotTell('alertOrder', `${field} neither ascending nor descending`);
  }
}
