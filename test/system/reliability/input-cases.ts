/**
 * Hostile input for the reliability suite (input.test.ts, secrets.test.ts): the cases, the flow
 * that feeds them to our nodes inside a real Node-RED, and the checks of what reached the API.
 *
 * A case is one msg, sent as JSON to `POST /leapcraft-case/<target>` (an http-in node); a
 * function node copies its properties onto the msg (rebuilding NaN, Infinity and huge arrays,
 * which JSON cannot carry) and routes it to the target node. The answer comes back on the
 * same HTTP request: a Complete node (the node called done()) or a Catch node (done(err), with
 * msg.error.code) → http-response. A msg that neither completes nor fails times the request
 * out: a silently dropped msg is a failure too.
 *
 * Decisions (also the rows of docs/RELIABILITY.md): ids are opaque strings (docs: "physical_id
 * is an opaque string ... always URL-encode it"), so `../`, `?`, `#`, `%2F`, spaces and unicode
 * are valid and must arrive encoded inside their one path segment, decoding to the same id.
 * Refused before any request: empty or blank ids, ids over 256 characters (no sensor id comes
 * close; a 10 kB id is a bug upstream), control characters (C0, DEL, C1: they split log lines
 * and status texts), unpaired UTF-16 surrogates (no URL can carry them), `.` and `..` (URL
 * resolvers collapse them even when escaped), non-string non-number ids; unknown type or
 * resolution, from after to, unparseable or out-of-range dates, limits other than -1 or >= 1.
 */
import assert from 'node:assert/strict';
import { matchRoute } from '../../../simulator/api';
import { decodeSegment, parseTarget } from '../../../simulator/http';
import type { Endpoint, RequestLogEntry } from '../../../simulator';

export type Target = 'devices' | 'telemetry' | 'topology' | 'things' | 'notifications' | 'notifications-hostile';

/** JSON stand-ins for values JSON cannot carry; the case router rebuilds them. */
export const NAN = { $special: 'NaN' };
export const INFINITY = { $special: 'Infinity' };
export const manyIds = (count: number) => ({ $special: 'ids', count });

export type Expectation =
  /** LEAPCRAFT_INVALID_INPUT naming the field, the message matching; no request at all. */
  | { kind: 'refused'; field: string; message: RegExp }
  /** One request to `endpoint`, the id in one path segment decoding to `id`, the query exactly `query`. */
  | { kind: 'encoded'; endpoint: Endpoint; id?: string; query: Record<string, string>; answer: 'LEAPCRAFT_NOT_FOUND' | 'done' };

export interface InputCase {
  /** Short label for the table and failure messages. */
  name: string;
  target: Target;
  msg: Record<string, unknown>;
  expect: Expectation;
}

export const HUGE_ID = 'x'.repeat(10 * 1024);
export const LONGEST_ID = 'L'.repeat(256);
/** A printable opaque id the notifications node is configured with: it must stay one query value. */
export const QUERY_HOSTILE_ID = 'a&limit=1000&offset=-1#frag?x=1';

const refused = (field: string, message: RegExp): Expectation => ({ kind: 'refused', field, message });

/** Ids every id-taking node must refuse. */
const BAD_IDS: Array<[string, unknown, RegExp]> = [
  ['empty id', '', /must not be empty/],
  ['blank id', '   ', /must not be empty/],
  ['10 kB id', HUGE_ID, /longer than 256 characters/],
  ['NUL in id', 'D2:C1\u0000', /control characters/],
  ['newline in id (log injection)', 'abc\n26 Nov 00:00:00 - [error] forged line', /control characters/],
  ['tab in id', 'a\tb', /control characters/],
  ['DEL in id', '\u007f', /control characters/],
  ['C1 control (NEL) in id', 'a\u0085b', /control characters/],
  ['unpaired surrogate in id', 'a\ud800b', /unpaired UTF-16 surrogate/],
  ['".." as id', '..', /is not an id/],
  ['"." as id', '.', /is not an id/],
  ['" .. " as id (trimmed)', ' .. ', /is not an id/],
  ['object as id', { physical_id: 'D2' }, /expected a string, got an object/],
  ['boolean as id', true, /expected a string, got true/],
  ['NaN as id', NAN, /expected a string, got NaN/],
  ['Infinity as id', INFINITY, /expected a string, got Infinity/],
];

/** Printable ids that are valid opaque strings: sent, encoded, answered 404 by the API. */
const ODD_IDS: Array<[string, unknown, string]> = [
  ['path escape ../auth/client/token', '../auth/client/token', '../auth/client/token'],
  ['path escape ../../v1/things', '../../v1/things', '../../v1/things'],
  ['query injection ?limit=-1&type=averages', '?limit=-1&type=averages', '?limit=-1&type=averages'],
  ['fragment #frag', '#frag', '#frag'],
  ['pre-encoded slash a%2Fb', 'a%2Fb', 'a%2Fb'],
  ['pre-encoded dots %2e%2e', '%2e%2e', '%2e%2e'],
  ['slash and backslash a/b\\c', 'a/b\\c', 'a/b\\c'],
  ['unicode, space, emoji', 'Büro 3.OG – CO₂ 😀', 'Büro 3.OG – CO₂ 😀'],
  ['bidi override U+202E', '\u202eevil', '\u202eevil'],
  ['256 characters (the longest accepted)', LONGEST_ID, LONGEST_ID],
  ['__proto__', '__proto__', '__proto__'],
  ['number 12345', 12345, '12345'],
];

function idCases(target: 'devices' | 'telemetry' | 'topology', prop: string, endpoint: Endpoint, query: Record<string, string>): InputCase[] {
  const field = `msg.${prop}`;
  return [
    ...BAD_IDS.map(([name, value, message]): InputCase => ({ name, target, msg: { [prop]: value }, expect: refused(field, message) })),
    ...ODD_IDS.map(([name, value, id]): InputCase => ({
      name, target, msg: { [prop]: value }, expect: { kind: 'encoded', endpoint, id, query, answer: 'LEAPCRAFT_NOT_FOUND' },
    })),
  ];
}

export interface KnownIds {
  /** A device the simulator has. */
  device: string;
  /** A gateway (topology) the simulator has. */
  gateway: string;
}

const LATEST = { type: 'latest' };

/** Every msg case, for the simulator's estate `known`. */
export function msgCases(known: KnownIds): InputCase[] {
  const dev = known.device;
  const tel = (name: string, msg: Record<string, unknown>, field: string, message: RegExp): InputCase =>
    ({ name, target: 'telemetry', msg: { physical_id: dev, ...msg }, expect: refused(field, message) });
  const averages = (from: unknown, to: unknown) => ({ type: 'averages', resolution: 'daily', from, to });
  const things = (name: string, limit: unknown, message: RegExp): InputCase =>
    ({ name, target: 'things', msg: { limit }, expect: refused('msg.limit', message) });
  const notAllowed = /is not allowed: use a positive number, or -1 for all/;
  const notInteger = /expected an integer/;

  return [
    // ---- leapcraft-devices: msg.physical_id ----
    ...idCases('devices', 'physical_id', 'device', {}),
    { name: 'array as the one device id', target: 'devices', msg: { physical_id: [dev, dev] }, expect: refused('msg.physical_id', /expected a string, got an array/) },
    { name: 'known device (control)', target: 'devices', msg: { physical_id: dev }, expect: { kind: 'encoded', endpoint: 'device', id: dev, query: {}, answer: 'done' } },
    { name: '10 kB string payload is not an input (device list)', target: 'devices', msg: { payload: HUGE_ID }, expect: { kind: 'encoded', endpoint: 'devices', query: { limit: '-1' }, answer: 'done' } },

    // ---- leapcraft-telemetry: msg.physical_id and the query ----
    ...idCases('telemetry', 'physical_id', 'telemetry', LATEST),
    { name: 'empty id array', target: 'telemetry', msg: { physical_id: [] }, expect: refused('msg.physical_id', /the array is empty/) },
    { name: '10001 ids', target: 'telemetry', msg: { physical_id: manyIds(10_001) }, expect: refused('msg.physical_id', /more than 10000 ids/) },
    { name: 'one bad id among good ones: nothing sent', target: 'telemetry', msg: { physical_id: [dev, 'ok-2', 'bad\u0000'] }, expect: refused('msg.physical_id', /control characters/) },
    { name: 'nested array id', target: 'telemetry', msg: { physical_id: [[dev]] }, expect: refused('msg.physical_id', /got an array/) },
    tel('unknown type "hourly"', { type: 'hourly' }, 'type', /"hourly" is not one of latest, averages/),
    tel('type of the wrong kind (number)', { type: 7 }, 'type', /7 is not one of latest, averages/),
    tel('empty type', { type: '' }, 'type', /"" is not one of latest, averages/),
    tel('unknown resolution "hourly"', { ...averages('-7d', 'now'), resolution: 'hourly' }, 'resolution', /"hourly" is not one of daily, weekly, monthly/),
    tel('empty resolution', { ...averages('-7d', 'now'), resolution: '' }, 'resolution', /required for averages/),
    tel('from after to', averages('2026-03-02T00:00:00Z', '2026-03-01T00:00:00Z'), 'from', /is after to/),
    tel('from "now", to "-7d"', averages('now', '-7d'), 'from', /is after to/),
    tel('unparseable from "yesterday"', averages('yesterday', 'now'), 'from', /"yesterday" is not a date-time: use ISO 8601/),
    tel('February 30th', averages('2026-02-30', 'now'), 'from', /not a valid calendar date-time/),
    tel('hour 24', averages('2026-03-01T24:00:00', 'now'), 'from', /not a valid calendar date-time/),
    tel('month 13', averages('-7d', '2026-13-01'), 'to', /not a valid calendar date-time/),
    tel('zone +25:00', averages('2026-03-01T00:00:00+25:00', 'now'), 'from', /impossible zone offset/),
    tel('before 1970', averages('1969-12-31T23:59:59Z', 'now'), 'from', /out of range/),
    tel('negative epoch ms', averages(-1, 'now'), 'from', /out of range/),
    tel('epoch ms beyond year 9999', averages('-7d', 8.7e15), 'to', /out of range/),
    tel('six-digit year', averages('-7d', '+275760-09-13'), 'to', /is not a date-time/),
    tel('relative -9999999999w', averages('-9999999999w', 'now'), 'from', /out of range/),
    tel('from as an object', averages({ date: '2026-03-01' }, 'now'), 'from', /expected a date-time string, got an object/),
    tel('from NaN', averages(NAN, 'now'), 'from', /NaN is not a time/),
    tel('to true', averages('-7d', true), 'to', /expected a date-time string, got true/),
    { name: 'known device, latest (control)', target: 'telemetry', msg: { physical_id: dev }, expect: { kind: 'encoded', endpoint: 'telemetry', id: dev, query: LATEST, answer: 'done' } },

    // ---- leapcraft-topology: msg.topology_id ----
    ...idCases('topology', 'topology_id', 'topology', {}),
    { name: 'known gateway (control)', target: 'topology', msg: { topology_id: known.gateway }, expect: { kind: 'encoded', endpoint: 'topology', id: known.gateway, query: {}, answer: 'done' } },

    // ---- leapcraft-things: msg.limit (-1 or >= 1; the docs set no maximum for things) ----
    things('limit 0', 0, notAllowed),
    things('limit -2', -2, notAllowed),
    things('limit "abc"', 'abc', notInteger),
    things('limit 1.5', 1.5, notInteger),
    things('limit ""', '', notInteger),
    things('limit "12abc"', '12abc', notInteger),
    things('limit 1e21 (not a safe integer)', 1e21, notInteger),
    things('limit true', true, notInteger),
    things('limit {}', {}, notInteger),
    things('limit Infinity', INFINITY, notInteger),
    { name: 'limit 51 (valid for things)', target: 'things', msg: { limit: 51 }, expect: { kind: 'encoded', endpoint: 'things', query: { limit: '51' }, answer: 'done' } },
    { name: 'limit "7" (integer string)', target: 'things', msg: { limit: '7' }, expect: { kind: 'encoded', endpoint: 'things', query: { limit: '7' }, answer: 'done' } },
    { name: 'limit -1 (all)', target: 'things', msg: { limit: -1 }, expect: { kind: 'encoded', endpoint: 'things', query: { limit: '-1' }, answer: 'done' } },

    // ---- leapcraft-notifications: takes no msg overrides; its configured id stays one query value ----
    {
      name: 'stray msg.physical_id/limit/offset are not overrides', target: 'notifications',
      msg: { physical_id: '../x', limit: 9999, offset: -1, payload: { physical_id: 'y' } },
      expect: { kind: 'encoded', endpoint: 'notifications', query: { limit: '50', offset: '0' }, answer: 'done' },
    },
    {
      name: `configured id ${JSON.stringify(QUERY_HOSTILE_ID)} stays one query value`, target: 'notifications-hostile', msg: {},
      expect: { kind: 'encoded', endpoint: 'notifications', query: { physical_id: QUERY_HOSTILE_ID, limit: '50', offset: '0' }, answer: 'done' },
    },
  ];
}

/** A node deployed with a bad setting: red at deploy, every msg → Catch with this error, no request. */
export interface SettingsCase {
  name: string;
  node: Record<string, unknown> & { type: string };
  field: string;
  message: RegExp;
}

export function settingsCases(): SettingsCase[] {
  const tel = (name: string, settings: Record<string, unknown>, field: string, message: RegExp): SettingsCase => ({
    name,
    node: { type: 'leapcraft-telemetry', devices: '', telemetryType: 'latest', interval: 1, output: 'device', ...settings },
    field, message,
  });
  const avg = { telemetryType: 'averages', resolution: 'daily', from: '-7d', to: 'now' };
  return [
    tel('telemetry: unknown type', { telemetryType: 'hourly' }, 'type', /Invalid type: "hourly" is not one of/),
    tel('telemetry: unknown resolution', { ...avg, resolution: 'hourly' }, 'resolution', /Invalid resolution: "hourly"/),
    tel('telemetry: from after to', { ...avg, from: '2026-03-02', to: '2026-03-01' }, 'from', /is after to/),
    tel('telemetry: unparseable from', { ...avg, from: 'last tuesday' }, 'from', /Invalid from: "last tuesday" is not a date-time/),
    tel('telemetry: out-of-range to', { ...avg, to: '2026-02-30' }, 'to', /Invalid to: .*not a valid calendar date-time/),
    tel('telemetry: interval -5', { interval: '-5' }, 'interval', /Invalid interval: -5/),
    tel('telemetry: interval "abc"', { interval: 'abc' }, 'interval', /Invalid interval: abc/),
    tel('telemetry: interval 1e9 s', { interval: 1e9 }, 'interval', /Invalid interval: 1000000000/),
    tel('telemetry: control character in the device list', { devices: 'D2:C1:AA:FF:3E:09, bad\u0001id' }, 'devices', /Invalid devices: contains control characters/),
    tel('telemetry: 10 kB device id', { devices: HUGE_ID }, 'devices', /Invalid devices: longer than 256/),
    tel('telemetry: unknown output mode', { output: 'xml' }, 'output', /Invalid output: "xml"/),
    { name: 'devices: 10 kB physicalId', node: { type: 'leapcraft-devices', physicalId: HUGE_ID }, field: 'physicalId', message: /Invalid physicalId: longer than 256/ },
    { name: 'devices: NUL in physicalId', node: { type: 'leapcraft-devices', physicalId: 'a\u0000b' }, field: 'physicalId', message: /Invalid physicalId: contains control characters/ },
    { name: 'topology: ".." as topologyId', node: { type: 'leapcraft-topology', topologyId: '..' }, field: 'topologyId', message: /Invalid topologyId: ".." is not an id/ },
    { name: 'topology: 10 kB topologyId', node: { type: 'leapcraft-topology', topologyId: HUGE_ID }, field: 'topologyId', message: /Invalid topologyId: longer than 256/ },
    { name: 'things: limit 0', node: { type: 'leapcraft-things', limit: 0 }, field: 'limit', message: /Invalid limit: 0 is not allowed/ },
    { name: 'things: limit -2', node: { type: 'leapcraft-things', limit: -2 }, field: 'limit', message: /Invalid limit: -2 is not allowed/ },
    { name: 'things: limit "abc"', node: { type: 'leapcraft-things', limit: 'abc' }, field: 'limit', message: /Invalid limit: expected an integer, got "abc"/ },
    { name: 'notifications: 10 kB physicalId', node: { type: 'leapcraft-notifications', physicalId: HUGE_ID, interval: 1 }, field: 'physicalId', message: /Invalid physicalId: longer than 256/ },
    { name: 'notifications: interval -1', node: { type: 'leapcraft-notifications', physicalId: '', interval: -1 }, field: 'interval', message: /Invalid interval: -1/ },
    { name: 'notifications: interval "abc"', node: { type: 'leapcraft-notifications', physicalId: '', interval: 'abc' }, field: 'interval', message: /Invalid interval: abc/ },
  ];
}

// ---- the flow ------------------------------------------------------------------------

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export const CASE_PATH = '/leapcraft-case';

/**
 * Rebuilds the msg from the JSON body. Runs inside Node-RED's function node: plain ES5-ish JS.
 * `caseId` travels on the msg so the answer can be matched to the case.
 */
const ROUTER_FUNC = `
var body = msg.payload || {};
function revive(v) {
  if (Array.isArray(v)) return v.map(revive);
  if (v && typeof v === 'object' && typeof v.$special === 'string') {
    if (v.$special === 'NaN') return NaN;
    if (v.$special === 'Infinity') return Infinity;
    if (v.$special === 'ids') { var ids = []; for (var i = 0; i < v.count; i++) ids.push('id-' + i); return ids; }
  }
  return v;
}
delete msg.payload;
var props = body.msg || {};
Object.keys(props).forEach(function (k) { msg[k] = revive(props[k]); });
msg.caseId = body.caseId;
var i = TARGETS.indexOf(msg.req.params.target);
if (i < 0) { msg.statusCode = 404; msg.payload = { kind: 'no-such-target' }; var miss = TARGETS.map(function () { return null; }); miss.push(msg); return miss; }
var out = TARGETS.map(function () { return null; });
out[i] = msg;
out.push(null);
return out;`;

export interface CaseFlowOptions {
  tab: string;
  /** Node ids prefix, so two case flows can live in one deployment. */
  prefix: string;
  /** Target name → the node (without id, z, wires). */
  targets: Record<string, Record<string, unknown> & { type: string }>;
  /** Extra wires from every target's output (e.g. a tap). */
  outputWires?: string[];
}

/** http in → router → targets; Complete/Catch on the targets → http response. Returns the nodes. */
export function caseFlow(o: CaseFlowOptions): { nodes: FlowNode[]; targetIds: Record<string, string> } {
  const p = o.prefix;
  const names = Object.keys(o.targets);
  const targetIds: Record<string, string> = {};
  for (const name of names) targetIds[name] = `${p}-t-${name}`;
  const ids = names.map((n) => targetIds[n]);
  const nodes: FlowNode[] = [
    {
      id: `${p}-in`, type: 'http in', z: o.tab, name: 'case', url: `${CASE_PATH}/:target`, method: 'post',
      upload: false, swaggerDoc: '', x: 120, y: 40, wires: [[`${p}-router`]],
    },
    {
      id: `${p}-router`, type: 'function', z: o.tab, name: 'case router', outputs: names.length + 1, libs: [], x: 300, y: 40,
      func: `var TARGETS = ${JSON.stringify(names)};\n${ROUTER_FUNC}`,
      wires: [...ids.map((id) => [id]), [`${p}-reply`]],
    },
    ...names.map((name, i): FlowNode => ({
      ...o.targets[name], id: targetIds[name], z: o.tab, name: `case ${name}`, x: 520, y: 40 + i * 40,
      wires: [o.outputWires ?? []],
    })),
    { id: `${p}-complete`, type: 'complete', z: o.tab, name: '', scope: ids, uncaught: false, x: 120, y: 400, wires: [[`${p}-done`]] },
    {
      id: `${p}-done`, type: 'function', z: o.tab, name: 'done', outputs: 1, libs: [], x: 300, y: 400,
      func: "msg.statusCode = 200;\nmsg.payload = { kind: 'done', caseId: msg.caseId };\nreturn msg;",
      wires: [[`${p}-reply`]],
    },
    { id: `${p}-catch`, type: 'catch', z: o.tab, name: '', scope: ids, uncaught: false, x: 120, y: 440, wires: [[`${p}-error`]] },
    {
      id: `${p}-error`, type: 'function', z: o.tab, name: 'error', outputs: 1, libs: [], x: 300, y: 440,
      func: "var e = msg.error || {};\nmsg.statusCode = 200;\nmsg.payload = { kind: 'error', caseId: msg.caseId, code: e.code, message: e.message, source: e.source && e.source.id };\nreturn msg;",
      wires: [[`${p}-reply`]],
    },
    { id: `${p}-reply`, type: 'http response', z: o.tab, name: '', statusCode: '', headers: {}, x: 480, y: 420, wires: [] },
  ];
  return { nodes, targetIds };
}

export interface CaseAnswer {
  kind: 'done' | 'error' | 'no-such-target';
  caseId?: number;
  code?: string;
  message?: string;
  source?: string;
}

/** Sends one case; a msg that neither completes nor fails within `timeoutMs` fails the fetch. */
/**
 * The error text a Catch node shows: Node-RED puts `err.toString()` in msg.error.message, so the
 * class name comes first (`LeapcraftInvalidInputError: Invalid …`); this is the text after it.
 */
export function errorText(message: string | undefined): string {
  return (message ?? '').replace(/^Leapcraft\w*Error: /, '');
}

export async function sendCase(url: string, target: string, caseId: number, msg: Record<string, unknown>, headers: Record<string, string> = {}, timeoutMs = 15_000): Promise<CaseAnswer> {
  const res = await fetch(`${url}${CASE_PATH}/${encodeURIComponent(target)}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify({ caseId, msg }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  assert.equal(res.status, 200, `case ${caseId} → HTTP ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as CaseAnswer;
}

// ---- checking what reached the API ---------------------------------------------------

/** encodeURIComponent's output alphabet: unreserved characters and percent-escapes only. */
const ENCODED_SEGMENT = /^(?:[A-Za-z0-9\-_.!~*'()]|%[0-9A-F]{2})+$/;
const RESOURCE: Partial<Record<Endpoint, string>> = {
  device: 'devices', telemetry: 'telemetry', topology: 'topologies',
  devices: 'devices', things: 'things', notifications: 'notifications',
};

/**
 * Problems with the request the simulator received for an "encoded" case: the path must be
 * exactly /v1/<resource>[/<one segment>], the segment in encodeURIComponent's alphabet and
 * decoded by the simulator's own router to the same id, no fragment, the query exactly as expected.
 */
export function encodingProblems(entry: RequestLogEntry, endpoint: Endpoint, id: string | undefined, query: Record<string, string>): string[] {
  const problems: string[] = [];
  const raw = entry.rawUrl;
  if (entry.endpoint !== endpoint) problems.push(`reached endpoint ${entry.endpoint}, expected ${endpoint}`);
  if (raw.includes('#')) problems.push('a fragment was sent');
  const q = raw.indexOf('?');
  const path = q === -1 ? raw : raw.slice(0, q);
  const parts = path.split('/');
  const expectedParts = id === undefined ? 3 : 4;
  if (parts.length !== expectedParts || parts[0] !== '' || parts[1] !== 'v1' || parts[2] !== RESOURCE[endpoint]) {
    problems.push(`path ${path} is not /v1/${RESOURCE[endpoint]}${id === undefined ? '' : '/<segment>'}`);
  }
  if (id !== undefined) {
    const segment = parts[3] ?? '';
    if (!ENCODED_SEGMENT.test(segment)) problems.push(`segment ${segment} is not fully encoded`);
    if (segment === '.' || segment === '..') problems.push('a dot segment was sent');
    const route = matchRoute(parseTarget(raw).segments);
    if (route.endpoint !== endpoint) problems.push(`the simulator routed it to ${route.endpoint}`);
    const decoded = route.rawId === undefined ? null : decodeSegment(route.rawId);
    if (decoded !== id) problems.push(`the simulator decoded ${JSON.stringify(decoded)}, expected ${JSON.stringify(id)}`);
  }
  const sent: Record<string, string> = {};
  const keys: string[] = [];
  for (const [k, v] of new URLSearchParams(q === -1 ? '' : raw.slice(q + 1))) {
    sent[k] = v;
    keys.push(k);
  }
  if (keys.length !== new Set(keys).size) problems.push(`a query parameter was repeated: ${keys.join(',')}`);
  try {
    assert.deepEqual(sent, query);
  } catch {
    problems.push(`query ${JSON.stringify(sent)}, expected ${JSON.stringify(query)}`);
  }
  return problems;
}

/** Problems with one case's outcome: the answer and the API requests it caused (token exchanges included). */
export function caseProblems(c: InputCase, answer: CaseAnswer, requests: RequestLogEntry[]): string[] {
  const problems: string[] = [];
  const e = c.expect;
  if (e.kind === 'refused') {
    if (answer.kind !== 'error' || answer.code !== 'LEAPCRAFT_INVALID_INPUT') {
      problems.push(`expected LEAPCRAFT_INVALID_INPUT, got ${answer.kind} ${answer.code ?? ''} ${answer.message ?? ''}`);
    } else {
      const text = errorText(answer.message);
      if (!e.message.test(text)) problems.push(`message ${JSON.stringify(text)} does not match ${e.message}`);
      if (!text.startsWith(`Invalid ${e.field}:`)) problems.push(`message does not name the field ${e.field}: ${text}`);
    }
    if (requests.length !== 0) problems.push(`${requests.length} request(s) sent: ${requests.map((r) => r.rawUrl.slice(0, 80)).join(', ')}`);
    return problems;
  }
  const expectedAnswer = e.answer === 'done' ? 'done' : `error ${e.answer}`;
  const gotAnswer = answer.kind === 'done' ? 'done' : `${answer.kind} ${answer.code}`;
  if (gotAnswer !== expectedAnswer) problems.push(`expected ${expectedAnswer}, got ${gotAnswer} ${answer.message ?? ''}`);
  const api = requests.filter((r) => r.endpoint !== 'token');
  if (api.length !== 1) {
    problems.push(`expected 1 request, got ${api.length}: ${api.map((r) => r.rawUrl.slice(0, 80)).join(', ')}`);
  } else {
    problems.push(...encodingProblems(api[0], e.endpoint, e.id, e.query));
  }
  return problems;
}

// ---- Node-RED's editor socket: every status and debug msg, as the editor sees them ----

interface WsLike {
  on(event: string, fn: (...args: unknown[]) => void): void;
  once(event: string, fn: (...args: unknown[]) => void): void;
  send(data: string): void;
  close(): void;
}

export interface CommsEvent {
  topic: string;
  data: unknown;
}

/** A client of Node-RED's /comms websocket (what the editor listens to). */
export class CommsTap {
  readonly events: CommsEvent[] = [];
  /** Every frame as received, for the secrets scan. */
  readonly frames: string[] = [];
  private constructor(private readonly ws: WsLike) {}

  static async connect(url: string, token?: string): Promise<CommsTap> {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const WebSocket = require('ws') as new (url: string) => WsLike;
    const ws = new WebSocket(`${url.replace(/^http/, 'ws')}/comms`);
    const tap = new CommsTap(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', (err) => reject(err));
    });
    let authOk: (() => void) | undefined;
    const authed = new Promise<void>((resolve) => { authOk = resolve; });
    ws.on('message', (data) => {
      const text = String(data);
      tap.frames.push(text);
      const parsed = JSON.parse(text) as unknown;
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && (parsed as { auth?: string }).auth === 'ok') authOk?.();
      for (const e of Array.isArray(parsed) ? parsed : [parsed]) {
        if (e && typeof e === 'object' && typeof (e as CommsEvent).topic === 'string') tap.events.push(e as CommsEvent);
      }
    });
    if (token) {
      ws.send(JSON.stringify({ auth: token }));
      await authed;
    }
    // Subscribing replays the retained status of every node.
    ws.send(JSON.stringify({ subscribe: 'status/#' }));
    ws.send(JSON.stringify({ subscribe: 'debug' }));
    return tap;
  }

  /** The latest status of each node id. */
  statuses(): Map<string, { fill?: string; shape?: string; text?: string }> {
    const out = new Map<string, { fill?: string; shape?: string; text?: string }>();
    for (const e of this.events) if (e.topic.startsWith('status/')) out.set(e.topic.slice('status/'.length), e.data as { text?: string });
    return out;
  }

  close(): void {
    this.ws.close();
  }
}
