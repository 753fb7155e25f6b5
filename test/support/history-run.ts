/**
 * One run of the telemetry node's history output in a real Node-RED against the simulator, the
 * same for every database: 50 sensors reporting every 10 s, polled every 2 s, a backfill of 7
 * days on deploy, Node-RED restarted half-way (a file-backed context store), until the
 * simulator has served 600 distinct readings, and a full redeploy. Before the restart and at the
 * end the sensors' clock stops until every device was read again and every reading is stored, so
 * no answer is in flight when Node-RED stops (a reading dropped then is no fault of the node's). The database's part (its nodes, its counts) comes
 * from the caller. What the node sent goes to files too, so the test sees each msg, not only the
 * database's idempotent result.
 */
import fs from 'node:fs';
import path from 'node:path';
import { HistoryPoint } from '../../lib';
import { generateWorld } from '../../simulator/data';
import { latestTelemetry } from '../../simulator/model';
import { LeapcraftSimulator } from '../../simulator';
import { readJsonLines, RealNodeRed, RealNodeRedOptions } from './real-nodered';
import { waitFor } from './wait';
import { sleep } from './wait';

export const DEVICES = 50;
export const REPORT_MS = 10_000;
export const POLL_S = 2;
export const BACKFILL_DAYS = 7;
/** The run ends once the simulator has served this many distinct readings (about two minutes), restarting half-way. */
export const READINGS = 600;
const SEED = 7;
const SPEC = { seed: SEED, deviceCount: DEVICES, gateways: 3, thingCount: 0 };

type FlowNode = Record<string, unknown>;
/** A point as the node sent it, through JSON (the file node): the time is ISO 8601. */
export type SentPoint = Omit<HistoryPoint, 'timestamp'> & { timestamp: string };

export interface DatabaseSide {
  /** Nodes for the tab `tab` that write what the telemetry node `tel` sends to the node ids in `inputs`. */
  nodes: FlowNode[];
  inputs: string[];
  /** Points or rows stored: readings, daily averages. */
  counts(): Promise<{ readings: number; daily: number }>;
  nodeRed?: Partial<RealNodeRedOptions>;
  /** Before Node-RED first starts (e.g. to install a node into its user directory). */
  prepare?(red: RealNodeRed): void;
}

export interface HistoryRun {
  sim: LeapcraftSimulator;
  red: RealNodeRed;
  /** `<physical id>@<ISO time>` of every distinct reading the simulator served. */
  served: Set<string>;
  /** Latest-reading requests the node made. */
  polls: number;
  /** Averages requests, at the first deploy and after it (the restart and the redeploy). */
  averagesRequests: { first: number; later: number };
  sent: SentPoint[];
  errors: unknown[];
  counts: { readings: number; daily: number };
}

const key = (device: string, time: string | number) => `${device}@${new Date(time).toISOString()}`;

/** The simulator's values of a reading (its model computes any reading from device, time and seed). */
export function expectedValues(): (device: string, time: number) => Record<string, number> {
  const world = generateWorld(SPEC);
  return (device, time) => {
    const { meta: _meta, ...values } = latestTelemetry(world.byId.get(device)!, time, { seed: SEED, reportIntervalMs: REPORT_MS }).data;
    return values as Record<string, number>;
  };
}

export async function runHistory(db: DatabaseSide): Promise<HistoryRun> {
  const sim = new LeapcraftSimulator({ ...SPEC, reportIntervalMs: REPORT_MS });
  await sim.start();
  const red = new RealNodeRed({
    settingsSource: "contextStorage: { default: { module: 'localfilesystem', config: { flushInterval: 1 } } },",
    ...db.nodeRed,
  });
  const file = (name: string) => path.join(red.userDir, name);
  const fileNode = (id: string, name: string, y: number) => ({
    id, type: 'file', z: 'tab', x: 700, y, filename: file(name), filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]],
  });
  const toPayload = (id: string, from: string, y: number, next: string) => ({
    id, type: 'change', z: 'tab', x: 500, y, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: from, tot: 'msg' }], wires: [[next]],
  });
  const flows: FlowNode[] = [
    { id: 'tab', type: 'tab', label: 'history' },
    { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, budget: '', credentials: { apiKey: sim.apiKey } },
    {
      id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 150, y: 100, account: 'acct', devices: '', telemetryType: 'latest', resolution: 'daily',
      from: '-7d', to: 'now', interval: POLL_S, output: 'history', changesOnly: false, cadence: true, blockOverrides: false,
      historyTags: 'device,name,model,gateway', measurement: 'leapcraft', dailyMeasurement: 'leapcraft_daily', backfillDays: BACKFILL_DAYS, store: '',
      wires: [['sent', ...db.inputs]],
    },
    fileNode('sent', 'sent.jsonl', 100),
    { id: 'status', type: 'status', z: 'tab', x: 150, y: 300, name: '', scope: ['tel'], wires: [['status-payload']] },
    toPayload('status-payload', 'status', 300, 'status-file'),
    fileNode('status-file', 'status.jsonl', 300),
    { id: 'catch', type: 'catch', z: 'tab', x: 150, y: 400, name: '', scope: null, uncaught: false, wires: [['error-payload']] },
    toPayload('error-payload', 'error', 400, 'error-file'),
    fileNode('error-file', 'errors.jsonl', 400),
    ...db.nodes,
  ];
  const sent = (): SentPoint[] => (readJsonLines(file('sent.jsonl')) as SentPoint[][]).flat();
  const statuses = (): Array<{ text?: string; fill?: string }> => readJsonLines(file('status.jsonl')) as Array<{ text?: string }>;
  const latest = () => sim.stats.requests.filter((r) => r.endpoint === 'telemetry' && new URL(r.rawUrl, 'http://x').searchParams.get('type') === 'latest');
  const averages = () => sim.stats.requests.filter((r) => r.endpoint === 'telemetry' && new URL(r.rawUrl, 'http://x').searchParams.get('type') === 'averages').length;
  const served = new Set<string>();
  const countServed = () => {
    for (const r of latest()) if (r.reading) served.add(key(r.reading.physical_id, r.reading.timestamp));
    return served.size;
  };
  // The database's counts, kept fresh in the background, so waits can watch them.
  let counts = { readings: -1, daily: -1 };
  let watching = true;
  const watcher = (async () => {
    while (watching) {
      counts = await db.counts().catch(() => counts);
      await sleep(200);
    }
  })();

  let done = false;
  try {
    db.prepare?.(red);
    await red.start();
    await red.deploy(flows);
    await waitFor(() => counts.daily >= DEVICES * BACKFILL_DAYS, 30_000, `${DEVICES * BACKFILL_DAYS} daily averages in the database`);
    const firstAverages = averages();

    /**
     * The sensors stop reporting; once every device was read after that, no new reading can come,
     * and every reading served is sent and stored before Node-RED stops: no answer is in flight.
     */
    const quiesce = async (): Promise<void> => {
      const frozen = Date.now();
      sim.set({ now: () => frozen });
      const readAfter = () => new Set(latest().filter((r) => r.at === frozen).map((r) => new URL(r.rawUrl, 'http://x').pathname)).size;
      await waitFor(() => readAfter() >= DEVICES, 60_000, 'every device read after the sensors stopped');
      countServed();
      await waitFor(() => sent().filter((p) => p.measurement === 'leapcraft').length >= served.size && counts.readings >= served.size, 30_000, 'every reading sent and stored');
    };

    await waitFor(() => countServed() >= READINGS / 2, 120_000, `${READINGS / 2} readings served`);
    await quiesce();
    await red.stop();
    const atRestart = statuses().length;
    await red.start();
    // Back up, the node is served the readings it wrote before the stop again: none may go out twice.
    await waitFor(() => statuses().slice(atRestart).some((s) => /daily averages/.test(s.text ?? '')), 30_000, 'the backfill after the restart');
    sim.set({ now: Date.now });
    await waitFor(() => countServed() >= READINGS, 120_000, `${READINGS} readings served`);
    await quiesce();

    // A full redeploy: the backfill runs again and finds every day written.
    const atRedeploy = statuses().length;
    await red.deploy(flows, 'full');
    await waitFor(() => statuses().slice(atRedeploy).some((s) => /daily averages/.test(s.text ?? '')), 30_000, 'the backfill after the redeploy');
    await red.stop();
    countServed();
    const errors = readJsonLines(file('errors.jsonl'));
    done = true;
    return {
      sim, red, served, polls: latest().length, averagesRequests: { first: firstAverages, later: averages() - firstAverages }, sent: sent(), errors, counts: await db.counts(),
    };
  } catch (err) {
    // What Node-RED and the node said, for whoever reads the failure.
    const tail = (text: string) => text.split('\n').slice(-40).join('\n');
    const said = fs.existsSync(file('status.jsonl')) ? tail(fs.readFileSync(file('status.jsonl'), 'utf8')) : '';
    const sentReadings = readJsonLines(file('sent.jsonl')).flat().filter((p) => (p as SentPoint).measurement === 'leapcraft').length;
    (err as Error).message += `\nserved ${served.size} readings, sent ${sentReadings}, stored ${JSON.stringify(counts)}` +
      `\nNode-RED's log:\n${tail(red.log)}\nstatuses:\n${said}`;
    throw err;
  } finally {
    watching = false;
    await watcher;
    if (!done) await disposeRun({ red, sim });
  }
}

/** What every database's test checks of the run: each reading sent once, the days once. */
export function sentChecks(run: HistoryRun): { readings: SentPoint[]; daily: SentPoint[]; duplicates: number } {
  const readings = run.sent.filter((p) => p.measurement === 'leapcraft');
  const daily = run.sent.filter((p) => p.measurement === 'leapcraft_daily');
  const keys = readings.map((p) => key(p.tags.device!, p.timestamp));
  return { readings, daily, duplicates: keys.length - new Set(keys).size };
}

export async function disposeRun(run: Partial<HistoryRun>): Promise<void> {
  await run.red?.dispose();
  await run.sim?.stop();
}

export { key as readingKey };
