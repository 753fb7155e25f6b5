/**
 * The observed flow of the reliability suite: our nodes polling, and core nodes writing
 * everything that leaves them to JSON-lines files, so the test reads Node-RED's behaviour
 * from outside the process, as a user's dashboard or log would see it.
 *
 *   leapcraft-telemetry ─▶ function (stamp) ─▶ file telemetry.jsonl   one line per msg
 *   leapcraft-notifications ─▶ function ─▶ file alerts.jsonl           one line per alert msg
 *   catch (whole tab) ─▶ function ─▶ file caught.jsonl                 code, message, source
 *   status (our nodes) ─▶ function ─▶ file status.jsonl                fill, text, source
 *   http in GET /reliability/probe ─▶ function ─▶ http response        process counters (probe.ts)
 *
 * Each line carries `at` (Date.now() in Node-RED) so a test can cut the files into phases.
 */
import path from 'node:path';

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface ObservedFlowOptions {
  baseUrl: string;
  apiKey: string;
  /** The account's `concurrency` setting (requests at once). */
  concurrency: number;
  /** The account's `timeout` setting, in seconds. */
  timeoutS: number;
  /** Poll interval of the telemetry and notifications nodes, in seconds. */
  intervalS: number;
  /** Directory the four JSON-lines files go to. */
  dir: string;
  /** Add the process probe route (see probe.ts; needs its settings). */
  probe?: boolean;
}

/** Node ids the tests refer to. */
export const IDS = {
  tab: 'rel-tab',
  account: 'rel-acct',
  telemetry: 'rel-tel',
  notifications: 'rel-ntf',
  catch: 'rel-catch',
  status: 'rel-status',
} as const;

export interface ObservedFiles {
  telemetry: string;
  alerts: string;
  caught: string;
  status: string;
}

export function observedFiles(dir: string): ObservedFiles {
  return {
    telemetry: path.join(dir, 'telemetry.jsonl'),
    alerts: path.join(dir, 'alerts.jsonl'),
    caught: path.join(dir, 'caught.jsonl'),
    status: path.join(dir, 'status.jsonl'),
  };
}

/** A function node that replaces msg.payload with `body` (JS returning an object) plus `at`. */
function stamp(id: string, body: string, next: string, y: number): FlowNode {
  return {
    id, type: 'function', z: IDS.tab, name: `stamp ${id}`, x: 420, y, outputs: 1, libs: [],
    func: `msg.payload = Object.assign({ at: Date.now() }, (function () { ${body} })());\nreturn msg;`,
    wires: [[next]],
  };
}

function fileOut(id: string, filename: string, y: number): FlowNode {
  return {
    id, type: 'file', z: IDS.tab, name: '', x: 640, y, filename, filenameType: 'str',
    appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]],
  };
}

export function observedFlow(o: ObservedFlowOptions): FlowNode[] {
  const files = observedFiles(o.dir);
  const flow: FlowNode[] = [
    { id: IDS.tab, type: 'tab', label: 'reliability' },
    {
      id: IDS.account, type: 'leapcraft-config', name: 'simulator', baseUrl: o.baseUrl,
      concurrency: o.concurrency, timeout: o.timeoutS, credentials: { apiKey: o.apiKey },
    },
    {
      id: IDS.telemetry, type: 'leapcraft-telemetry', z: IDS.tab, name: 'all devices', x: 160, y: 60, account: IDS.account,
      devices: '', telemetryType: 'latest', interval: o.intervalS, output: 'device', changesOnly: false, blockOverrides: false,
      // Every interval a request: the faults are met by requests, and each reading emitted is one served.
      cadence: false,
      wires: [['rel-stamp-tel']],
    },
    stamp('rel-stamp-tel', 'return { physical_id: msg.physical_id, timestamp: msg.payload && msg.payload.timestamp };', 'rel-file-tel', 60),
    fileOut('rel-file-tel', files.telemetry, 60),
    {
      id: IDS.notifications, type: 'leapcraft-notifications', z: IDS.tab, name: 'alerts', x: 160, y: 120, account: IDS.account,
      interval: o.intervalS, physicalId: '', emitExisting: false, store: '', wires: [['rel-stamp-ntf']],
    },
    stamp('rel-stamp-ntf', 'return { id: msg.payload && msg.payload.id, physical_id: msg.topic };', 'rel-file-ntf', 120),
    fileOut('rel-file-ntf', files.alerts, 120),
    { id: IDS.catch, type: 'catch', z: IDS.tab, name: '', x: 160, y: 180, scope: null, uncaught: false, wires: [['rel-stamp-catch']] },
    stamp(
      'rel-stamp-catch',
      'var e = msg.error || {}; return { code: e.code, message: e.message, source: e.source && e.source.id, physical_id: msg.physical_id };',
      'rel-file-catch', 180,
    ),
    fileOut('rel-file-catch', files.caught, 180),
    {
      id: IDS.status, type: 'status', z: IDS.tab, name: '', x: 160, y: 240,
      scope: [IDS.telemetry, IDS.notifications], wires: [['rel-stamp-status']],
    },
    stamp(
      'rel-stamp-status',
      'var s = msg.status || {}; return { source: s.source && s.source.id, fill: s.fill, shape: s.shape, text: s.text };',
      'rel-file-status', 240,
    ),
    fileOut('rel-file-status', files.status, 240),
  ];
  if (o.probe) {
    flow.push(
      { id: 'rel-probe-in', type: 'http in', z: IDS.tab, name: '', x: 160, y: 300, url: '/reliability/probe', method: 'get', upload: false, swaggerDoc: '', wires: [['rel-probe-fn']] },
      {
        id: 'rel-probe-fn', type: 'function', z: IDS.tab, name: 'probe', x: 420, y: 300, outputs: 1, libs: [],
        func: "msg.payload = global.get('reliabilityProbe')();\nreturn msg;", wires: [['rel-probe-out']],
      },
      { id: 'rel-probe-out', type: 'http response', z: IDS.tab, name: '', x: 640, y: 300, statusCode: '', headers: {}, wires: [] },
    );
  }
  return flow;
}

/**
 * The same flow with one node's name changed, for a "modified nodes" deploy: that node restarts
 * (and, for the account, every node using it). `round` picks the node and makes the name new.
 * Credentials are left out, as the editor does for unchanged ones: Node-RED counts a node that
 * carries credentials as modified, and keeps the stored ones when none are sent.
 */
export function withOneNodeChanged(flow: FlowNode[], round: number): { flow: FlowNode[]; changed: string } {
  const targets = [IDS.telemetry, IDS.notifications, IDS.account];
  const changed = targets[round % targets.length] as string;
  return {
    flow: flow.map((n) => {
      const { credentials: _stored, ...node } = n;
      return (node.id === changed ? { ...node, name: `${String(node.name ?? '')} #${round}` } : node) as FlowNode;
    }),
    changed,
  };
}
