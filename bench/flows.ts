/**
 * The flows the benchmark deploys: the package's (leapcraft-telemetry) and the one a user
 * would build by hand from core nodes. Each ends in a junction node, the lightest core
 * node, which the Node-RED process counts msgs on; a Catch node counts errors.
 */

export const TAB = 'bench';
export const ACCOUNT = 'acct';
export const TRIGGER = 'trigger';
export const SINK = 'sink';
export const ERRORS = 'errors';
/** The core-node flow reads the key from the environment, as a user keeps it out of flows.json. */
export const KEY_ENV = 'LEAPCRAFT_BENCH_API_KEY';

type FlowNode = Record<string, unknown> & { id: string; type: string };

function frame(): FlowNode[] {
  return [
    { id: TAB, type: 'tab', label: 'benchmark' },
    { id: SINK, type: 'junction', z: TAB, x: 900, y: 100, wires: [] },
    { id: 'catch', type: 'catch', z: TAB, x: 100, y: 300, scope: null, uncaught: false, wires: [[ERRORS]] },
    { id: ERRORS, type: 'junction', z: TAB, x: 300, y: 300, wires: [] },
  ];
}

function inject(next: string): FlowNode {
  return {
    id: TRIGGER, type: 'inject', z: TAB, x: 100, y: 100, name: '', props: [{ p: 'payload' }],
    payload: '', payloadType: 'date', repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', wires: [[next]],
  };
}

export interface AccountSettings {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
}

function account(a: AccountSettings, id = ACCOUNT): FlowNode {
  return { id, type: 'leapcraft-config', name: 'bench', baseUrl: a.baseUrl, concurrency: a.concurrency, timeout: 30 };
}

export function credentials(a: AccountSettings, id = ACCOUNT): Record<string, unknown> {
  return { [id]: { apiKey: a.apiKey } };
}

function telemetry(id: string, props: Record<string, unknown>, wires: string[][], y = 100): FlowNode {
  return {
    id, type: 'leapcraft-telemetry', z: TAB, x: 400, y, name: '', account: ACCOUNT, devices: '', telemetryType: 'latest',
    resolution: 'daily', from: '-7d', to: 'now', interval: 0, output: 'device', changesOnly: false, blockOverrides: false,
    wires, ...props,
  };
}

/**
 * (b): inject → leapcraft-telemetry → sink. With no devices set, a msg fetches the device
 * list and then every device, at the account's concurrency.
 */
export function packageFlow(a: AccountSettings, props: Record<string, unknown> = {}): FlowNode[] {
  return [...frame(), account(a), inject('tel'), telemetry('tel', props, [[SINK]])];
}

/**
 * (n): Node-RED's own share of (b), without the package: inject → function → sink, the
 * function sending `devices` msgs shaped as leapcraft-telemetry's device mode sends them (each
 * a copy of the input msg with a reading, its device's list entry and its id) in one
 * `node.send`, as the node does. What Node-RED costs to carry them (its send, the copies it
 * makes of every msg after the first of an array, the hand-over to the sink).
 */
export function nodeRedOnlyFlow(devices: number): FlowNode[] {
  const func = [
    'const msgs = [];',
    `for (let i = 0; i < ${devices}; i++) {`,
    "  const id = 'D4:70:3D:C9:' + (0x1000 + i).toString(16).toUpperCase();",
    '  const m = RED.util.cloneMessage(msg);',
    '  m.topic = id;',
    "  m.payload = { physical_id: id, timestamp: '2026-12-01T15:13:08Z', data: { temperature: 21.3, humidity: 50.4, co2: 782 + (i % 50), battery: 26,",
    "    meta: { firmware: '1.4.2', rssi: -57 } }, created_at: '2026-12-01T15:13:10Z' };",
    '  m.physical_id = id;',
    "  m.device = { name: 'Lounge #' + i, physical_id: id, serial: 'LC-2020-N' + i, topology_id: 'eb7119f94da3f7f644',",
    "    meta: { floor: 2, zone: 'west', installed: '2023-10-14' }, type: 'airbird' };",
    '  msgs.push(m);',
    '}',
    'node.send([msgs]);',
    'return null;',
  ].join('\n');
  return [...frame(), inject('shape'), fn('shape', func, [[SINK]])];
}

/** Coalescing: `nodes` telemetry nodes polling the same devices at the same interval, each into its own sink. */
export function coalescingFlow(a: AccountSettings, nodes: number, ids: string[], intervalS: number): { flow: FlowNode[]; sinks: string[] } {
  const flow = [...frame(), account(a)];
  const sinks: string[] = [];
  for (let i = 1; i <= nodes; i++) {
    const sink = `sink${i}`;
    sinks.push(sink);
    // Fixed rounds: coalescing is measured as requests per interval (cadence-aware polling has a section of its own).
    flow.push(telemetry(`tel${i}`, { devices: ids.join(','), interval: intervalS, cadence: false }, [[sink]], 100 * i));
    flow.push({ id: sink, type: 'junction', z: TAB, x: 700, y: 100 * i, wires: [] });
  }
  return { flow, sinks };
}

/**
 * The cluster: one leapcraft-telemetry per account (`acct1`, `acct2`, …), each polling every
 * device of its account every `intervalS` s into the sink, emitting on every replica. No Redis URL
 * in the flow: each replica takes it from LEAPCRAFT_REDIS_URL, as a FlowFuse or Kubernetes
 * deployment sets it.
 */
export function clusterFlow(accounts: AccountSettings[], intervalS: number): { flow: FlowNode[]; credentials: Record<string, unknown>; accountIds: string[] } {
  const flow = frame();
  const accountIds = accounts.map((_, i) => `acct${i + 1}`);
  const creds: Record<string, unknown> = {};
  accounts.forEach((a, i) => {
    const id = accountIds[i]!;
    flow.push({ ...account(a, id), redisUrl: '' });
    Object.assign(creds, credentials(a, id));
    // Fixed rounds: requests per interval compare across replica counts (cadence-aware polling has a section of its own).
    flow.push(telemetry(`tel${i + 1}`, { account: id, interval: intervalS, cadence: false, emit: 'interval', replicas: 'every' }, [[SINK]], 100 * (i + 1)));
  });
  return { flow, credentials: creds, accountIds };
}

function fn(id: string, func: string, wires: string[][], y = 100): FlowNode {
  return { id, type: 'function', z: TAB, x: 300, y, name: id, func, outputs: wires.length, timeout: 0, noerr: 0, initialize: '', finalize: '', libs: [], wires };
}

function httpRequest(id: string, method: 'GET' | 'POST', url: string, wires: string[][], y = 100): FlowNode {
  return {
    id, type: 'http request', z: TAB, x: 500, y, name: id, method, ret: 'obj', paytoqs: 'ignore', url, tls: '',
    // Keep-alive on, as the package uses it: the comparison is of the flows, not of TCP handshakes.
    persist: true, proxy: '', insecureHTTPParser: false, authType: '', senderr: false, headers: [], wires,
  };
}

export interface CoreFlowOptions {
  baseUrl: string;
  /** Requests per device on the wire at once; undefined: no limit (the http request node has none). */
  concurrency?: number;
}

/**
 * (c): the flow a user builds by hand. inject → function (token request) → http request
 * POST /auth/client/token → function (bearer header) → http request GET /devices?limit=-1
 * → function (bearer header again: the http request node replaced msg.headers with the
 * response's) → split → http request GET /telemetry/{{{payload.physical_id}}} → sink.
 *
 * With a concurrency limit: split → delay (rate limit, queueing, 1 msg a day: it only
 * lets msgs through when flushed) → http request → sink, and every response sends
 * {flush: 1} back to the delay node; the first `concurrency - 1` parts of the split prime
 * it (switch on msg.parts.index). That holds `concurrency` requests on the wire, as a
 * semaphore does. A delay node in plain rate-limit mode would cap requests per second,
 * not requests in flight.
 */
export function coreFlow(o: CoreFlowOptions): FlowNode[] {
  const limited = o.concurrency !== undefined;
  const flow: FlowNode[] = [
    ...frame(),
    { ...inject('tokenRequest'), props: [{ p: 'payload' }], payload: KEY_ENV, payloadType: 'env' },
    fn('tokenRequest', [
      "msg.payload = 'api_key=' + encodeURIComponent(msg.payload);",
      "msg.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };",
      'return msg;',
    ].join('\n'), [['token']]),
    httpRequest('token', 'POST', `${o.baseUrl}/auth/client/token`, [['listRequest']]),
    fn('listRequest', [
      'msg.token = msg.payload.token;',
      "msg.headers = { Authorization: 'Bearer ' + msg.token };",
      'delete msg.payload;',
      'return msg;',
    ].join('\n'), [['list']]),
    httpRequest('list', 'GET', `${o.baseUrl}/devices?limit=-1`, [['authHeader']]),
    fn('authHeader', "msg.headers = { Authorization: 'Bearer ' + msg.token };\nreturn msg;", [['split']]),
    {
      id: 'split', type: 'split', z: TAB, x: 300, y: 200, name: '', splt: '\\n', spltType: 'str', arraySplt: 1,
      arraySpltType: 'len', stream: false, addname: '', wires: [limited ? ['queue', 'prime'] : ['telemetry']],
    },
    httpRequest('telemetry', 'GET', `${o.baseUrl}/telemetry/{{{payload.physical_id}}}?type=latest`, [limited ? [SINK, 'flush'] : [SINK]], 200),
  ];
  if (limited) {
    flow.push(
      {
        id: 'queue', type: 'delay', z: TAB, x: 400, y: 250, name: 'queue', pauseType: 'rate', timeout: '5', timeoutUnits: 'seconds',
        rate: '1', nbRateUnits: '1', rateUnits: 'day', randomFirst: '1', randomLast: '5', randomUnits: 'seconds',
        drop: false, allowrate: false, outputs: 1, wires: [['telemetry']],
      },
      {
        id: 'prime', type: 'switch', z: TAB, x: 400, y: 300, name: 'prime', property: 'parts.index', propertyType: 'msg',
        rules: [{ t: 'lt', v: String(o.concurrency! - 1), vt: 'num' }], checkall: 'true', repair: false, outputs: 1, wires: [['flush']],
      },
      fn('flush', 'return { flush: 1 };', [['queue']], 300),
    );
  }
  return flow;
}
