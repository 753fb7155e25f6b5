/**
 * leapcraft-telemetry's history output (`output: history`) inside Node-RED against the
 * simulator: each reading once at its own time, as points and rows; the backfill of daily
 * averages on deploy and on msg.backfill, once per day and device; bad settings and msgs to Catch.
 */
import assert from 'node:assert/strict';
import { dayOf, DAY_MS, HistoryPoint } from '../../lib';
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import { waitFor } from '../support/wait';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import { NodeClock, NodeWork } from '../support/node-clock';

const NODES = [configNode, telemetryNode, catchNode];
type Msg = Record<string, unknown>;
const REPORT_MS = 60_000;

describe('leapcraft-telemetry, output for a database (history)', function () {
  let sim: LeapcraftSimulator;
  /** The simulator's clock: now when it starts (a backfill's days are the real ones), then moved by the test. */
  let start = 0;
  let clock = 0;
  /** Simulated time for the nodes, where a test waits for rounds or for nothing to happen. */
  let time: NodeClock | undefined;
  let work: NodeWork | undefined;

  async function startSim(options: SimulatorOptions = {}) {
    start = clock = Date.now();
    sim = new LeapcraftSimulator({ deviceCount: 4, reportIntervalMs: REPORT_MS, now: () => clock, ...options });
    await sim.start();
  }
  afterEach(async () => {
    time?.stop();
    time = undefined;
    work?.stop();
    work = undefined;
    await helper.unload();
    await sim?.stop();
  });

  function flow(props: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 100, y: 100, account: 'acct', devices: '', telemetryType: 'latest',
        resolution: 'daily', from: '-7d', to: 'now', interval: 1, output: 'history', changesOnly: false, cadence: false, blockOverrides: false,
        historyTags: 'device,name,model,gateway', measurement: 'leapcraft', dailyMeasurement: 'leapcraft_daily', backfillDays: 0, store: '',
        wires: [['out']], ...props,
      },
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const out = () => helper.getNode('out') as TestNode;
  const caught = () => helper.getNode('caught') as TestNode;
  const tel = () => helper.getNode('tel') as TestNode;
  const telemetryRequests = () => sim.stats.requests.filter((r) => r.endpoint === 'telemetry');
  const statusCalls = () => (tel().status as unknown as { getCalls(): Array<{ args: Array<{ fill?: string }> }> }).getCalls().map((c) => c.args[0]!);
  const points = (msgs: Msg[]) => msgs.flatMap((m) => m.payload as HistoryPoint[]);
  const key = (p: HistoryPoint) => `${p.tags.device}@${p.timestamp.toISOString()}`;
  /** Every reading the simulator served, once. */
  const served = () => [...new Set(sim.stats.requests.filter((r) => r.reading).map((r) => `${r.reading!.physical_id}@${new Date(r.reading!.timestamp).toISOString()}`))].sort();

  it('polls: each reading goes out once, at its own time, as points and rows, however often it is served', async () => {
    const nodes = time = new NodeClock();
    await startSim();
    const devices = sim.devices();
    await helper.load(NODES, flow(), creds());
    const got = collect(out());
    await nodes.until(() => got.length >= 4, 10_000, 'the first reading of each device');
    // The same readings, served again at every poll.
    const polls = telemetryRequests().length;
    await nodes.until(() => telemetryRequests().length >= polls + 8, 10_000, 'two more rounds');
    assert.equal(got.length, 4, 'a reading served again is not sent again');
    // The sensors report again: one new reading each.
    clock += REPORT_MS;
    await nodes.until(() => got.length >= 8, 10_000, 'the second reading of each device');
    const after = telemetryRequests().length;
    await nodes.until(() => telemetryRequests().length >= after + 8, 10_000, 'two more rounds');
    assert.equal(got.length, 8);
    assert.deepEqual(points(got).map(key).sort(), served());

    const msg = got[0]!;
    const device = devices.find((d) => d.physical_id === msg.topic)!;
    const [point] = msg.payload as HistoryPoint[];
    assert.equal(msg.physical_id, device.physical_id);
    assert.equal(msg.measurement, 'leapcraft');
    assert.equal(msg.skipped, 1, 'meta');
    assert.deepEqual(msg.device, device);
    assert.equal(point!.measurement, 'leapcraft');
    assert.deepEqual(point!.tags, { device: device.physical_id, name: device.name, model: device.type, gateway: device.topology_id });
    assert.ok(point!.timestamp instanceof Date && point!.timestamp.getTime() <= start && point!.timestamp.getTime() > start - REPORT_MS);
    assert.ok(Object.values(point!.fields).every((v) => typeof v === 'number'));
    assert.deepEqual(JSON.parse((msg.params as string[])[0]!), [{ time: point!.timestamp.toISOString(), ...point!.tags, ...point!.fields }]);
  });

  it('a msg reads the latest readings, sends those not sent before, and keeps its own properties', async () => {
    await startSim();
    await helper.load(NODES, flow({ interval: 0 }), creds());
    const got = collect(out());
    tel().receive({ _msgid: 'm1', mine: 'kept' });
    await waitFor(() => got.length >= 4, 10_000, 'one msg per device');
    assert.ok(got.every((m) => m.mine === 'kept' && m._msgid === 'm1'));
    const requests = telemetryRequests().length;
    const nodes = work = new NodeWork();
    tel().receive({ physical_id: got[0]!.topic });
    await waitFor(() => telemetryRequests().length > requests, 5000, 'the read');
    // Its answer handled, every msg it led to delivered.
    await nodes.idle();
    assert.equal(got.length, 4, 'nothing new');
  });

  it('msg.backfill: the days of daily averages each device lacks, once per day', async () => {
    await startSim();
    const devices = sim.devices().slice(0, 2).map((d) => d.physical_id);
    await helper.load(NODES, flow({ interval: 0, devices: devices.join(',') }), creds());
    const got = collect(out());
    tel().receive({ backfill: 3 });
    await waitFor(() => got.length >= 2, 10_000, 'one msg per device');
    for (const msg of got) {
      assert.equal(msg.measurement, 'leapcraft_daily');
      const days = (msg.payload as HistoryPoint[]).map((p) => p.timestamp.getTime());
      assert.deepEqual(days, [3, 2, 1].map((n) => (dayOf(start) - n) * DAY_MS));
      assert.ok((msg.payload as HistoryPoint[]).every((p) => p.measurement === 'leapcraft_daily' && p.fields.co2 !== undefined));
    }
    const requests = telemetryRequests().length;
    const statuses = statusCalls().length;
    tel().receive({ backfill: 3 });
    await waitFor(() => statusCalls().slice(statuses).some((s) => s.fill === 'green'), 5000, 'the backfill to end');
    assert.equal(got.length, 2, 'nothing twice');
    assert.equal(telemetryRequests().length, requests, 'nothing asked for');
    tel().receive({ backfill: 5, physical_id: devices[0] });
    await waitFor(() => got.length >= 3, 10_000, 'the two days more of one device');
    assert.deepEqual((got[2]!.payload as HistoryPoint[]).map((p) => p.timestamp.getTime()), [5, 4].map((n) => (dayOf(start) - n) * DAY_MS));
  });

  it('backfills on deploy, in whatever shape the server answers averages', async () => {
    await startSim({ dialect: 'averages-object,readings-flat' });
    await helper.load(NODES, flow({ interval: 0, backfillDays: 2 }), creds());
    const got = await nextMessages(out(), 4, 10_000);
    assert.deepEqual(got.map((m) => (m.payload as HistoryPoint[]).length), [2, 2, 2, 2]);
    assert.ok(points(got).every((p) => p.timestamp.getTime() % DAY_MS === 0 && typeof p.fields.temperature === 'number'));
  });

  describe('refuses', () => {
    for (const [what, props] of [
      ['averages', { telemetryType: 'averages' }],
      ['an unknown tag', { historyTags: 'device,room' }],
      ['too many backfill days', { backfillDays: 366 }],
      ['the same measurement twice', { measurement: 'x', dailyMeasurement: 'x' }],
    ] as const) {
      it(`${what} at deploy: red, and nothing is asked`, async () => {
        const nodes = time = new NodeClock();
        await startSim();
        await helper.load(NODES, flow(props), creds());
        // A minute: 60 rounds of a node that polled.
        await nodes.run(60_000);
        assert.equal(statusCalls().at(-1)!.fill, 'red');
        assert.equal(telemetryRequests().length, 0);
      });
    }

    for (const [what, msg] of [
      ['msg.backfill that is no number of days', { backfill: 'a week' }],
      ['msg.backfill true when the node backfills no days', { backfill: true }],
      ['msg.type averages', { type: 'averages' }],
    ] as const) {
      it(`${what}: LEAPCRAFT_INVALID_INPUT to Catch, no request`, async () => {
        await startSim();
        await helper.load(NODES, flow({ interval: 0 }), creds());
        const [error] = await Promise.all([nextMessages(caught(), 1), Promise.resolve(tel().receive({ ...msg }))]);
        assert.equal((error![0]!.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
        assert.equal(telemetryRequests().length, 0);
      });
    }
  });
});
