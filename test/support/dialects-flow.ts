/**
 * The flow of the dialects acceptance test (test/system/dialects.test.ts): every Leapcraft flow node on
 * one account, each output reduced by a function node to one small JSON line, all lines into one
 * core `file` node. The test reads the file from outside the process, as it grows
 * (JsonLinesTail), so it sees what a user's flow would see.
 *
 *   inject (once at deploy) ─▶ devices / topology / things / telemetry averages (metric)
 *   telemetry latest ×3 (device, array, metric), polling ─▶ capture
 *   telemetry (device) ─▶ homeassistant ─▶ capture
 *   notifications (polling) ─▶ capture
 *   catch (whole tab), status (red/yellow of our nodes) ─▶ capture
 *
 * Every line: `{src, at, ...}` with `at` = Date.now() in Node-RED.
 */
import fs from 'node:fs';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export const TAB = 'dl-tab';
export const ACCOUNT = 'dl-acct';

/** The nodes under test, by what they are. */
export const NODES = {
  devices: 'dl-devices',
  telDevice: 'dl-tel-device',
  telArray: 'dl-tel-array',
  telMetric: 'dl-tel-metric',
  averages: 'dl-avg',
  topology: 'dl-topology',
  notifications: 'dl-ntf',
  things: 'dl-things',
  homeassistant: 'dl-ha',
} as const;

export interface DialectFlowOptions {
  baseUrl: string;
  /** Left out of the flow (as the editor does for an unchanged credential) when undefined. */
  apiKey?: string;
  /** The JSON-lines file every capture goes to. */
  file: string;
  /** Poll interval of the latest-telemetry nodes (and the bridge's expected interval), in seconds. */
  intervalS: number;
  /** Poll interval of the notifications node, in seconds. */
  alertsIntervalS: number;
  /** The averages node reads these devices (comma-separated in its setting). */
  averagesDevices: string[];
}

/** A function node turning a msg into `{src, at, ...}` (body: JS returning an object, or null to drop it). */
function capture(id: string, src: string, body: string, y: number, file: string): FlowNode {
  return {
    id, type: 'function', z: TAB, name: `capture ${src}`, x: 640, y, outputs: 1, libs: [], noerr: 0,
    func: `var r = (function () {\n${body}\n})();\nif (!r) return null;\nr.src = ${JSON.stringify(src)};\nr.at = Date.now();\nreturn { payload: r };`,
    wires: [[file]],
  };
}

const METRIC_BODY = 'return { id: msg.physical_id, topic: msg.topic, metric: msg.metric, value: msg.payload, ts: msg.timestamp, unit: msg.unit };';

export function dialectFlow(o: DialectFlowOptions): FlowNode[] {
  const FILE = 'dl-file';
  const latest = (id: string, name: string, output: string, y: number, wires: string[]): FlowNode => ({
    id, type: 'leapcraft-telemetry', z: TAB, name, x: 200, y, account: ACCOUNT, devices: '', telemetryType: 'latest',
    resolution: 'daily', from: '-7d', to: 'now', interval: o.intervalS, output, changesOnly: false, blockOverrides: false, wires: [wires],
  });
  return [
    { id: TAB, type: 'tab', label: 'dialects', disabled: false, info: '' },
    {
      id: ACCOUNT, type: 'leapcraft-config', name: 'simulator', baseUrl: o.baseUrl, concurrency: 8, timeout: 10,
      ...(o.apiKey === undefined ? {} : { credentials: { apiKey: o.apiKey } }),
    },
    {
      id: 'dl-go', type: 'inject', z: TAB, name: 'at deploy', x: 90, y: 40, props: [{ p: 'payload' }], repeat: '', crontab: '',
      once: true, onceDelay: 0.3, topic: '', payload: '', payloadType: 'date',
      wires: [[NODES.devices, NODES.topology, NODES.things, NODES.averages]],
    },
    { id: NODES.devices, type: 'leapcraft-devices', z: TAB, name: 'all devices', x: 300, y: 40, account: ACCOUNT, physicalId: '', wires: [['dl-cap-devices']] },
    capture('dl-cap-devices', 'devices', 'var p = msg.payload;\nreturn { ids: Array.isArray(p) ? p.map(function (d) { return d && d.physical_id; }) : null, kind: typeof p };', 40, FILE),
    {
      id: NODES.topology, type: 'leapcraft-topology', z: TAB, name: 'gateways', x: 300, y: 80, account: ACCOUNT, topologyId: '', joinDevices: true,
      wires: [['dl-cap-topology']],
    },
    capture('dl-cap-topology', 'topology', [
      'var p = msg.payload;',
      'if (!Array.isArray(p)) return { bad: typeof p };',
      'var n = 0, named = 0;',
      'p.forEach(function (t) { (Array.isArray(t.devices) ? t.devices : []).forEach(function (d) { n++; if (d && d.name) named++; }); });',
      'return { gws: p.map(function (t) { return t && t.gateway_id; }), devices: n, named: named };',
    ].join('\n'), 80, FILE),
    { id: NODES.things, type: 'leapcraft-things', z: TAB, name: 'things', x: 300, y: 120, account: ACCOUNT, limit: -1, wires: [['dl-cap-things']] },
    capture('dl-cap-things', 'things', 'var p = msg.payload;\nreturn { ids: Array.isArray(p) ? p.map(function (t) { return t && t.id; }) : null };', 120, FILE),
    {
      id: NODES.averages, type: 'leapcraft-telemetry', z: TAB, name: 'weekly averages', x: 300, y: 160, account: ACCOUNT,
      devices: o.averagesDevices.join(','), telemetryType: 'averages', resolution: 'daily', from: '-7d', to: 'now', interval: 0,
      output: 'metric', changesOnly: false, blockOverrides: false, wires: [['dl-cap-avg']],
    },
    capture('dl-cap-avg', 'avg', METRIC_BODY, 160, FILE),
    latest(NODES.telDevice, 'per device', 'device', 200, ['dl-cap-tel-device', NODES.homeassistant]),
    capture('dl-cap-tel-device', 'tel-device', [
      'var p = msg.payload || {};',
      'var d = (p.data && typeof p.data === "object") ? p.data : p;',
      'return { id: msg.physical_id, pid: p.physical_id, co2: d.co2, named: !!(msg.device && msg.device.name) };',
    ].join('\n'), 200, FILE),
    latest(NODES.telArray, 'one array', 'array', 240, ['dl-cap-tel-array']),
    capture('dl-cap-tel-array', 'tel-array', [
      'var p = msg.payload;',
      'return { ids: Array.isArray(p) ? p.map(function (x) { return x && x.physical_id; }) : null, errors: Array.isArray(msg.errors) ? msg.errors.length : 0 };',
    ].join('\n'), 240, FILE),
    latest(NODES.telMetric, 'per metric', 'metric', 280, ['dl-cap-tel-metric']),
    capture('dl-cap-tel-metric', 'tel-metric', METRIC_BODY, 280, FILE),
    {
      id: NODES.homeassistant, type: 'leapcraft-homeassistant', z: TAB, name: 'home assistant', x: 420, y: 320, account: ACCOUNT,
      discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft', birthTopic: 'homeassistant/status', interval: o.intervalS, qos: '1', announceDelay: 5,
      wires: [['dl-cap-ha']],
    },
    capture('dl-cap-ha', 'ha', 'return { kind: msg.kind, topic: msg.topic, id: msg.physical_id, gw: msg.gateway_id, state: msg.kind === "state" ? msg.payload : undefined };', 320, FILE),
    {
      id: NODES.notifications, type: 'leapcraft-notifications', z: TAB, name: 'alerts', x: 200, y: 360, account: ACCOUNT,
      interval: o.alertsIntervalS, physicalId: '', emitExisting: false, store: '', wires: [['dl-cap-alert']],
    },
    capture('dl-cap-alert', 'alert', 'return { topic: msg.topic, alert: msg.payload };', 360, FILE),
    { id: 'dl-catch', type: 'catch', z: TAB, name: 'every error', x: 200, y: 400, scope: null, uncaught: false, wires: [['dl-cap-catch']] },
    capture('dl-cap-catch', 'catch', [
      'var e = msg.error || {};',
      'var s = e.source || {};',
      'return { code: e.code, message: e.message, source: s.id, stype: s.type, pid: msg.physical_id };',
    ].join('\n'), 400, FILE),
    { id: 'dl-status', type: 'status', z: TAB, name: 'our nodes', x: 200, y: 440, scope: Object.values(NODES), wires: [['dl-cap-status']] },
    capture('dl-cap-status', 'status', [
      'var s = msg.status || {};',
      'if (s.fill !== "red" && s.fill !== "yellow") return null;',
      'return { source: s.source && s.source.id, fill: s.fill, text: s.text };',
    ].join('\n'), 440, FILE),
    {
      id: FILE, type: 'file', z: TAB, name: '', x: 880, y: 240, filename: o.file, filenameType: 'str', appendNewline: true,
      createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]],
    },
  ];
}

export interface WrongKeyAccount {
  id: string;
  baseUrl: string;
  /** The simulator's device ids, for the node that polls devices by id. */
  deviceIds: string[];
}

/** The nodes of one wrong-key account, by what they poll. */
export const wrongKeyNodes = (id: string) => ({
  all: `wk-tel-all-${id}`,
  byId: `wk-tel-ids-${id}`,
  alerts: `wk-ntf-${id}`,
});

/**
 * Per account holding a key its simulator refuses, three nodes that each want a token every
 * second: telemetry of every device (the device list), telemetry of each device by id (one poll
 * per device), and alerts. A Catch node's msgs go to `file` as `{src: 'catch', ...}` lines,
 * anything the nodes emit as `{src: 'msg', ...}`.
 */
export function wrongKeyFlow(accounts: WrongKeyAccount[], apiKey: string, file: string): FlowNode[] {
  const tab = 'wk-tab';
  const flow: FlowNode[] = [{ id: tab, type: 'tab', label: 'wrong key', disabled: false, info: '' }];
  const telemetry = (id: string, account: string, devices: string, y: number): FlowNode => ({
    id, type: 'leapcraft-telemetry', z: tab, name: id, x: 200, y, account, devices, telemetryType: 'latest', resolution: 'daily',
    from: '-7d', to: 'now', interval: 1, output: 'device', changesOnly: false, blockOverrides: false, wires: [['wk-cap-msg']],
  });
  accounts.forEach((a, i) => {
    const account = `wk-acct-${a.id}`;
    const nodes = wrongKeyNodes(a.id);
    flow.push(
      { id: account, type: 'leapcraft-config', name: `wrong key ${a.id}`, baseUrl: a.baseUrl, concurrency: 4, timeout: 10, credentials: { apiKey } },
      telemetry(nodes.all, account, '', 40 + 120 * i),
      telemetry(nodes.byId, account, a.deviceIds.join(','), 80 + 120 * i),
      {
        id: nodes.alerts, type: 'leapcraft-notifications', z: tab, name: nodes.alerts, x: 200, y: 120 + 120 * i, account,
        interval: 1, physicalId: '', emitExisting: false, store: '', wires: [['wk-cap-msg']],
      },
    );
  });
  flow.push(
    {
      id: 'wk-cap-msg', type: 'function', z: tab, name: 'msg', x: 500, y: 40, outputs: 1, libs: [], noerr: 0,
      func: 'return { payload: { src: "msg", at: Date.now(), id: msg.physical_id } };', wires: [['wk-file']],
    },
    { id: 'wk-catch', type: 'catch', z: tab, name: '', x: 200, y: 600, scope: null, uncaught: false, wires: [['wk-cap-catch']] },
    {
      id: 'wk-cap-catch', type: 'function', z: tab, name: 'catch', x: 500, y: 600, outputs: 1, libs: [], noerr: 0,
      func: 'var e = msg.error || {};\nreturn { payload: { src: "catch", at: Date.now(), code: e.code, message: e.message, source: e.source && e.source.id, pid: msg.physical_id } };',
      wires: [['wk-file']],
    },
    {
      id: 'wk-file', type: 'file', z: tab, name: '', x: 760, y: 300, filename: file, filenameType: 'str', appendNewline: true,
      createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]],
    },
  );
  return flow;
}

export interface Captured {
  src: string;
  at: number;
  [key: string]: unknown;
}

/**
 * Reads a JSON-lines file as it grows: each poll() parses only the bytes appended since the last
 * one (a last line without its newline is left for the next poll), so a long run stays cheap.
 */
export class JsonLinesTail {
  readonly all: Captured[] = [];
  private offset = 0;
  private rest = '';

  constructor(private readonly file: string) {}

  poll(): Captured[] {
    if (!fs.existsSync(this.file)) return [];
    const size = fs.statSync(this.file).size;
    if (size <= this.offset) return [];
    const fd = fs.openSync(this.file, 'r');
    try {
      const buf = Buffer.alloc(size - this.offset);
      const read = fs.readSync(fd, buf, 0, buf.length, this.offset);
      this.offset += read;
      const text = this.rest + buf.subarray(0, read).toString('utf8');
      const lines = text.split('\n');
      this.rest = lines.pop() ?? '';
      const added = lines.filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as Captured);
      this.all.push(...added);
      return added;
    } finally {
      fs.closeSync(fd);
    }
  }

  /**
   * Lines from `src` (or every line) captured at or after `since` (Node-RED's Date.now()). Lines
   * are appended in about the order they were stamped: the scan from the end stops a second
   * before `since`.
   */
  since(since: number, src?: string): Captured[] {
    this.poll();
    const out: Captured[] = [];
    for (let i = this.all.length - 1; i >= 0; i--) {
      const c = this.all[i] as Captured;
      if (c.at < since - 1000) break;
      if (c.at >= since && (src === undefined || c.src === src)) out.push(c);
    }
    return out.reverse();
  }
}
