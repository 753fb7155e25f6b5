/**
 * Issue 5, item 3: bad input through msgs and through node settings, inside a real Node-RED
 * running the packed package, against the simulator on 127.0.0.1. Every case is either refused
 * with LEAPCRAFT_INVALID_INPUT (reaching a Catch node, naming the field) while the simulator
 * sees no request, or, for ids that are valid opaque strings, sent with the id encoded inside
 * its one path segment, decoding to the same id (see input-cases.ts for the decisions).
 */
import assert from 'node:assert/strict';
import { LeapcraftSimulator, RequestLogEntry } from '../../../simulator';
import { packOnce } from '../../support/pack';
import { RealNodeRed } from '../../support/real-nodered';
import {
  caseFlow, caseProblems, CommsTap, errorText, FlowNode, InputCase, msgCases, QUERY_HOSTILE_ID, sendCase, settingsCases,
} from './input-cases';
import { sleep, waitFor } from '../../support/wait';

const TAB = 'bad-input-tab';
const ACCOUNT = 'bad-input-acct';

/** Lines that would mean a crash or an unhandled failure inside Node-RED. */
const CRASH_LINES = /unhandled|uncaught|TypeError|RangeError|URIError|ReferenceError|SyntaxError|ERR_[A-Z_]+|Node-RED exited|FATAL/i;

describe('reliability: bad input through a real Node-RED (issue 5, item 3)', function () {
  this.timeout(180_000);
  let sim: LeapcraftSimulator;
  let red: RealNodeRed;
  let tap: CommsTap | undefined;
  let caseId = 0;

  before(async function () {
    sim = new LeapcraftSimulator({ deviceCount: 6, gateways: 2 });
    await sim.start();
    red = new RealNodeRed({
      tarball: await packOnce(),
      // trace: the strongest check that nothing odd (a crash, a forged log line) gets logged.
      settingsSource: "logging: { console: { level: 'trace', audit: true } },",
    });
    await red.start();
  });
  after(async () => {
    tap?.close();
    await red?.dispose();
    await sim?.stop();
  });

  function account(): FlowNode {
    return { id: ACCOUNT, type: 'leapcraft-config', name: 'simulator', baseUrl: sim.baseUrl, concurrency: 4, timeout: 10, credentials: { apiKey: sim.apiKey } };
  }

  /** Sends one case; returns the answer and every API request the simulator saw meanwhile. */
  async function run(target: string, msg: Record<string, unknown>) {
    const before = sim.stats.total;
    const answer = await sendCase(red.url, target, ++caseId, msg);
    const stats = sim.stats;
    const added = stats.total - before;
    const requests: RequestLogEntry[] = added > 0 ? stats.requests.slice(-added) : [];
    return { answer, requests };
  }

  it('bad node settings: red at deploy, logged, every msg → Catch LEAPCRAFT_INVALID_INPUT, no request', async () => {
    const cases = settingsCases();
    const targets: Record<string, Record<string, unknown> & { type: string }> = {};
    cases.forEach((c, i) => { targets[`s${i}`] = { ...c.node, account: ACCOUNT }; });
    const { nodes, targetIds } = caseFlow({ tab: TAB, prefix: 'set', targets });
    sim.resetStats();
    await red.deploy([{ id: TAB, type: 'tab', label: 'bad settings' }, account(), ...nodes]);
    tap = await CommsTap.connect(red.url);
    await waitFor(() => Object.values(targetIds).every((id) => tap!.statuses().has(id)), 10_000, 'a status from every node');
    // Polling nodes would have polled within 2 s (interval 1 s): none may. (No node here polls,
    // so no event marks the end of that window.)
    await sleep(2000);

    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const name = `s${i}`;
      const status = tap.statuses().get(targetIds[name]);
      if (status?.fill !== 'red' || status.text !== 'invalid input') problems.push(`${c.name}: status ${JSON.stringify(status)}`);
      const logged = red.log.split('\n').find((l) => l.includes(`[${c.node.type}:case ${name}]`));
      if (!logged || !/\[error\]/.test(logged) || !c.message.test(logged)) problems.push(`${c.name}: deploy log line ${JSON.stringify(logged)}`);
      const { answer, requests } = await run(name, {});
      const text = errorText(answer.message);
      if (answer.code !== 'LEAPCRAFT_INVALID_INPUT' || !c.message.test(text) || !text.startsWith(`Invalid ${c.field}:`)) {
        problems.push(`${c.name}: Catch got ${answer.kind} ${answer.code} ${answer.message}`);
      }
      if (answer.source !== targetIds[name]) problems.push(`${c.name}: error from ${answer.source}`);
      if (requests.length) problems.push(`${c.name}: ${requests.length} request(s)`);
    }
    const total = sim.stats.total;
    console.log(`      measured: ${cases.length} bad-settings nodes deployed (interval 1 s where they poll), red at deploy, ` +
      `${cases.length} msgs → Catch LEAPCRAFT_INVALID_INPUT; requests sent: ${total}; problems: ${problems.length}`);
    assert.deepEqual(problems, []);
    assert.equal(total, 0, 'a node with a bad setting sent a request');
  });

  it('hostile msgs: refused before any request (Catch gets LEAPCRAFT_INVALID_INPUT), or sent with the id safely encoded', async () => {
    const [device] = sim.devices();
    const known = { device: device.physical_id, gateway: device.topology_id };
    const cases: InputCase[] = msgCases(known);
    const { nodes } = caseFlow({
      tab: TAB,
      prefix: 'msg',
      targets: {
        devices: { type: 'leapcraft-devices', account: ACCOUNT, physicalId: '' },
        telemetry: { type: 'leapcraft-telemetry', account: ACCOUNT, devices: '', telemetryType: 'latest', resolution: 'daily', from: '-7d', to: 'now', interval: 0, output: 'device' },
        topology: { type: 'leapcraft-topology', account: ACCOUNT, topologyId: '', joinDevices: false },
        things: { type: 'leapcraft-things', account: ACCOUNT, limit: 10 },
        notifications: { type: 'leapcraft-notifications', account: ACCOUNT, physicalId: '', interval: 0, emitExisting: false, store: '' },
        'notifications-hostile': { type: 'leapcraft-notifications', account: ACCOUNT, physicalId: QUERY_HOSTILE_ID, interval: 0, emitExisting: false, store: '' },
      },
    });
    await red.deploy([{ id: TAB, type: 'tab', label: 'bad msgs' }, account(), ...nodes]);
    // The telemetry node reads the device list once at start (names for its msgs): let it settle.
    await waitFor(() => sim.stats.byEndpoint.devices >= 1, 10_000, 'the telemetry node\'s device list');
    let last = -1;
    await waitFor(() => { const t = sim.stats.total; const quiet = t === last; last = t; return quiet; }, 10_000, 'a quiet API');

    const problems: string[] = [];
    let refused = 0;
    let refusedRequests = 0;
    let encoded = 0;
    for (const c of cases) {
      const { answer, requests } = await run(c.target, c.msg);
      for (const p of caseProblems(c, answer, requests)) problems.push(`${c.target} / ${c.name}: ${p}`);
      if (c.expect.kind === 'refused') {
        refused++;
        refusedRequests += requests.length;
      } else {
        encoded++;
      }
    }
    console.log(`      measured: ${cases.length} hostile msgs into 5 node types: ${refused} refused (requests sent for them: ${refusedRequests}), ` +
      `${encoded} sent with the id/query checked at the simulator; problems: ${problems.length}`);
    assert.deepEqual(problems, []);
    assert.equal(refusedRequests, 0);
  });

  it('Node-RED stays up; its log (trace level) has no crash, unhandled rejection or forged line', async () => {
    const res = await fetch(`${red.url}/settings`, { headers: { Accept: 'application/json' } });
    assert.equal(res.status, 200, 'Node-RED answers');
    const crashes = red.log.split('\n').filter((l) => CRASH_LINES.test(l));
    console.log(`      measured: Node-RED alive after ${caseId} cases; log ${red.log.length} bytes at trace level, crash lines: ${crashes.length}`);
    assert.deepEqual(crashes, []);
    // The newline case would have forged this line, had the id reached a log line.
    assert.doesNotMatch(red.log, /forged line/);
  });
});
