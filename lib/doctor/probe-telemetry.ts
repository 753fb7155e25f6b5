/**
 * The telemetry probes on one device: how a latest reading is wrapped (latestBody), how averages
 * are answered (averages), whether from/to need a zone (dateTimes), and where a point keeps its
 * readings (pointReadings). The reading is looked for as the client looks for it (lib/telemetry/answer.ts).
 */
import { type Dialect } from '../api/dialects';
import { TelemetryReading } from '../api/types';
import { formatApiDateTime } from '../api/validation';
import { findAverages, findLatestReading, WrapperKey, WRAPPER_KEYS } from '../telemetry/answer';
import { describeTelemetryShape } from '../telemetry/readings';
import { fieldList, isObject, readingsPlace } from './answers';
import { Answer, DoctorSession } from './session';

type Place = 'nested' | 'flat' | 'none';

const isWrapperKey = (via: string): via is WrapperKey => (WRAPPER_KEYS as readonly string[]).includes(via);

/** latestBody from a latest answer; returns the point found, if any. */
function latestBody(s: DoctorSession, body: unknown): TelemetryReading | undefined {
  const found = findLatestReading(body);
  if (found === undefined) {
    s.surprise(`type=latest answered no reading (${describeTelemetryShape(body)})`);
    s.cannotTell('latestBody', `no reading found in ${describeTelemetryShape(body)}`);
    return undefined;
  }
  const via = found.via.join(' → ');
  if (via === '') s.found('latestBody', 'point', 'type=latest answered the point itself');
  else if (via === 'array' && Array.isArray(body) && body.length === 1) s.found('latestBody', 'in-array', 'type=latest answered an array of one point');
  else if (via === 'array' && Array.isArray(body)) {
    s.surprise(`type=latest answered an array of ${body.length} points, not one point (the client takes the newest)`);
    s.cannotTell('latestBody', `an array of ${body.length} points`);
  } else if (isWrapperKey(via)) s.found('latestBody', `under-${via}`, `type=latest answered the point under "${via}"`);
  else {
    s.surprise(`type=latest answered the point wrapped as ${via}`);
    s.cannotTell('latestBody', `the point found under ${via}`);
  }
  return found.value;
}

/** averages from an averages answer; returns its points. */
function averagesBody(s: DoctorSession, avg: Answer): TelemetryReading[] {
  const found = findAverages(avg.json);
  if (found === undefined) {
    s.cannotTell('averages', `averages answered ${avg.bodyKind === 'json' ? describeTelemetryShape(avg.json) : avg.bodyKind}`);
    return [];
  }
  const { value } = found;
  const via = found.via.join(' → ');
  if (via === '' && Array.isArray(value)) {
    // The range spans three days: one item without a resolution is the whole range as one object.
    const one = value.length === 1 && isObject(value[0]) && !('resolution' in value[0]);
    if (one) s.found('averages', 'object-in-array', `averages answered an array of one object (${fieldList(Object.keys(value[0] as object))}), no buckets`);
    else s.found('averages', 'array', `averages answered an array of ${value.length} buckets`);
  } else if (via === '') {
    s.found('averages', 'object', `averages answered one object (${fieldList(Object.keys(value))})`);
  } else if (via === 'data' && Array.isArray(value)) {
    const keys = Object.keys(avg.json as object);
    s.found('averages', 'envelope', `averages answered {data: [${value.length}]${keys.length > 1 ? ` with ${fieldList(keys)}` : ''}}`);
  } else if (isWrapperKey(via) && !Array.isArray(value)) {
    s.found('averages', `object-under-${via}` as Dialect['averages'], `averages answered one object under "${via}"`);
  } else {
    s.surprise(`averages answered ${Array.isArray(value) ? `a list of ${value.length}` : 'one object'} wrapped as ${via}`);
    s.cannotTell('averages', `${Array.isArray(value) ? 'a list' : 'one object'} found under ${via}`);
  }
  return Array.isArray(value) ? value : [value];
}

/** dateTimes: the docs' zone-less from/to, and once more with a Z when those are refused. */
async function averagesAnswer(s: DoctorSession, token: string, path: string): Promise<Answer | undefined> {
  // The last two UTC days to now, as the docs' example writes from/to: zone-less.
  const now = (s.options.now ?? Date.now)();
  const to = new Date(Math.floor(now / 1000) * 1000);
  const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth(), to.getUTCDate() - 2));
  const averages = (zoned: boolean, label: string) => s.send(label, {
    path,
    query: { type: 'averages', resolution: 'daily', from: formatApiDateTime(from, zoned), to: formatApiDateTime(to, zoned) },
    bearer: token,
  });
  const avg = await averages(false, 'GET /telemetry/{physical_id}?type=averages (zone-less from/to)');
  if (!avg) {
    s.noAnswer('dateTimes', 'averages');
    return undefined;
  }
  if (avg.status >= 200 && avg.status < 300) {
    s.found('dateTimes', 'zoneless', `averages with zone-less from/to (as the docs' example) got HTTP ${avg.status}`);
    return avg;
  }
  if (avg.status !== 400 && avg.status !== 422) {
    s.cannotTell('dateTimes', `averages got HTTP ${avg.status}`);
    return avg;
  }
  const first = avg.status;
  const zoned = await averages(true, 'GET /telemetry/{physical_id}?type=averages (from/to with Z)');
  if (zoned && zoned.status >= 200 && zoned.status < 300) {
    s.found('dateTimes', 'zone-required', `averages with zone-less from/to got HTTP ${first}; with a Z, HTTP ${zoned.status}`);
  } else {
    if (zoned || s.stopped === undefined) s.cannotTell('dateTimes', `averages got HTTP ${first} zone-less and ${zoned ? `HTTP ${zoned.status}` : 'no answer'} with a Z`);
    if (zoned) s.surprise(`averages were refused with and without a zone (HTTP ${first}, HTTP ${zoned.status})`);
  }
  return zoned;
}

/** latestBody, pointReadings, dateTimes and averages, on one device; and the device details' shape. */
export async function telemetry(s: DoctorSession, token: string, device: string | undefined): Promise<void> {
  if (device === undefined) {
    for (const point of ['latestBody', 'pointReadings', 'dateTimes', 'averages'] as const) s.cannotTell(point, 'no device to read telemetry of');
    return;
  }
  const path = (base: string) => `${base}/${encodeURIComponent(device)}`;
  await s.send('GET /devices/{physical_id}', { path: path('/devices'), bearer: token });

  const latest = await s.send('GET /telemetry/{physical_id}?type=latest', { path: path('/telemetry'), query: { type: 'latest' }, bearer: token });
  let latestPlace: Place | undefined;
  let latestEvidence: string;
  if (latest && latest.status >= 200 && latest.status < 300) {
    const where = readingsPlace(latestBody(s, latest.json));
    latestPlace = where.place;
    latestEvidence = where.place === 'nested'
      ? `latest: readings under data (${fieldList(where.fields)})`
      : where.place === 'flat' ? `latest: readings beside timestamp (${fieldList(where.fields)})` : 'latest: no readings found';
  } else {
    if (latest) s.cannotTell('latestBody', `latest got HTTP ${latest.status}`);
    else s.noAnswer('latestBody', 'latest');
    latestEvidence = latest ? `latest got HTTP ${latest.status}` : 'no answer to latest';
  }

  const avg = await averagesAnswer(s, token, path('/telemetry'));
  let avgPlace: Place | undefined;
  let avgEvidence = '';
  if (avg && avg.status >= 200 && avg.status < 300) {
    const points = averagesBody(s, avg);
    const places = new Set(points.map((p) => readingsPlace(p).place).filter((p) => p !== 'none'));
    if (places.size === 1) {
      avgPlace = [...places][0];
      avgEvidence = `averages: readings ${avgPlace === 'nested' ? 'under data' : 'beside timestamp'}`;
    } else if (places.size > 1) {
      s.surprise('averages points keep their readings both under data and beside timestamp');
      avgEvidence = 'averages: mixed';
    } else {
      avgEvidence = points.length === 0 ? 'averages: no points' : 'averages: no readings found';
    }
  } else if (avg) {
    s.cannotTell('averages', `averages got HTTP ${avg.status}`);
  } else {
    s.noAnswer('averages', 'averages');
  }

  const evidence = [latestEvidence, avgEvidence].filter((e) => e !== '').join('; ');
  const place = latestPlace !== undefined && latestPlace !== 'none' ? latestPlace : avgPlace;
  if (latestPlace && avgPlace && latestPlace !== 'none' && latestPlace !== avgPlace) {
    s.surprise('latest and averages keep their readings in different places');
  }
  if (place === 'nested' || place === 'flat') s.found('pointReadings', place, evidence);
  else s.cannotTell('pointReadings', evidence);
}
