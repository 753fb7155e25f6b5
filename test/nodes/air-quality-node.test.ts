/**
 * leapcraft-air-quality inside Node-RED (node-red-node-test-helper): fed by leapcraft-telemetry
 * polling the simulator in each output mode, its three outputs, its status, bad settings and
 * msgs to Catch, and the daily report of a recorded day with a fake clock.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sinon from 'sinon';
import { AQ_DEFAULTS, AqReport, classify, buildProfile, deviceMsg, parseAqSettings } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import { assertHandReport, RECORDED_DAY, recordedDay } from '../support/airquality-day';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');
import airQualityNode = require('../../nodes/leapcraft-air-quality');

const NODES = [configNode, telemetryNode, airQualityNode, catchNode];
type Msg = Record<string, unknown>;
type FlowNode = Msg & { id: string; type: string };
type Annotation = { device: string; name: string; co2: number; category: string; label: string; level: number; color: string; demand: number; demandOn: boolean; since: string; timestamp: string };
type StatusSpy = { lastCall: { args: Array<{ fill: string; shape: string; text: string }> } };

const node = (id: string) => helper.getNode(id) as TestNode;
const lastStatus = (id: string) => (node(id).status as unknown as StatusSpy).lastCall.args[0];
const EN = buildProfile(parseAqSettings({ timeZone: 'UTC' }), (_p, c) => c);

function aqNode(props: Record<string, unknown> = {}) {
  return { id: 'aq', type: 'leapcraft-air-quality', z: 'tab', x: 300, y: 100, name: '', ...AQ_DEFAULTS, timeZone: 'UTC', ...props, wires: [['annotated'], ['changes'], ['reports']] };
}

function flow(props: Record<string, unknown> = {}, extra: FlowNode[] = []): FlowNode[] {
  return [
    { id: 'tab', type: 'tab', label: 'test' },
    aqNode(props),
    { id: 'annotated', type: 'helper', z: 'tab', x: 500, y: 60 },
    { id: 'changes', type: 'helper', z: 'tab', x: 500, y: 100 },
    { id: 'reports', type: 'helper', z: 'tab', x: 500, y: 140 },
    { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ...extra,
  ];
}

/** Lets Node-RED deliver what is on its way (it delivers msgs with setImmediate, which no clock fakes). */
async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise((r) => setImmediate(r));
}

describe('leapcraft-air-quality', function () {
  afterEach(async () => {
    await helper.unload();
  });

  describe('fed by leapcraft-telemetry polling the simulator', () => {
    let sim: LeapcraftSimulator;
    beforeEach(async () => {
      sim = new LeapcraftSimulator({ deviceCount: 6 });
      await sim.start();
    });
    afterEach(async () => {
      await sim.stop();
    });

    for (const output of ['device', 'array', 'metric'] as const) {
      it(`output mode ${output}: one annotated msg per device, each device's first reading a change`, async () => {
        await helper.load(NODES, flow({}, [
          { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
          {
            id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 100, y: 100, account: 'acct', devices: '', telemetryType: 'latest', resolution: 'daily',
            from: '-7d', to: 'now', interval: 0, output, changesOnly: false, blockOverrides: false, wires: [['aq']],
          },
        ]), { acct: { apiKey: sim.apiKey } });
        const annotated = nextMessages(node('annotated'), 6);
        const changes = nextMessages(node('changes'), 6);
        node('tel').receive({ payload: 'now' } as never);
        const msgs = await annotated;
        const devices = sim.devices();
        assert.deepEqual(msgs.map((m) => m.topic).sort(), devices.map((d) => d.physical_id).sort());
        for (const msg of msgs) {
          const p = msg.payload as Annotation;
          const device = devices.find((d) => d.physical_id === p.device)!;
          assert.equal(msg.physical_id, p.device);
          assert.equal(p.name, output === 'array' ? p.device : device.name, 'the name where the telemetry msg tells it');
          const level = classify(EN, p.co2, 420);
          assert.deepEqual([p.level, p.category, p.color], [level, EN.categories[level - 1].category, EN.categories[level - 1].color]);
          assert.equal(p.label, `leapcraft-air-quality.category.en16798.${p.category}`, 'the runtime\'s label (the helper loads no catalogs: its key)');
          assert.equal(typeof p.demand, 'number');
          assert.equal(p.since, p.timestamp, 'the first reading set the category');
          assert.deepEqual((msg.categories as Array<{ category: string }>).map((c) => c.category), ['I', 'II', 'III', 'IV']);
        }
        const first = await changes;
        assert.ok(first.every((m) => m.previous === null && (m.changed as string[]).includes('category')));
        assert.equal(lastStatus('aq').fill, msgs.every((m) => (m.payload as Annotation).level === 1) ? 'green' : 'yellow');
      });
    }
  });

  describe('examples/ventilation-on-co2.json against the simulator', () => {
    let sim: LeapcraftSimulator;
    afterEach(async () => {
      await sim?.stop();
    });

    it('deploys, and the fan gets one command per room at its first reading: ON where the CO2 is at 1000 ppm or above', async () => {
      sim = new LeapcraftSimulator({ deviceCount: 6 });
      await sim.start();
      const example = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'ventilation-on-co2.json'), 'utf8')) as FlowNode[];
      const byName = (name: string) => example.find((n) => n.name === name)!;
      // The example as a user deploys it, on a tab, with the simulator's address and key; its
      // debug nodes become test helpers that record what reaches them.
      const fan = byName('fan (an MQTT, BACnet or Modbus write)').id;
      const annotatedId = byName('every reading').id;
      const nodes = example.map((n) => {
        if (n.type === 'leapcraft-config') return { ...n, baseUrl: sim.baseUrl };
        if (n.type === 'debug') return { id: n.id, type: 'helper', z: 'tab', x: n.x, y: n.y };
        return { ...n, z: 'tab' };
      });
      const account = example.find((n) => n.type === 'leapcraft-config')!.id;
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const core = ['common/20-inject.js', 'common/90-comment.js', 'function/10-switch.js', 'function/15-change.js'].map((f) => require(`@node-red/nodes/core/${f}`));
      await helper.load([...NODES, ...core], [{ id: 'tab', type: 'tab', label: 'example' }, ...nodes] as never, { [account]: { apiKey: sim.apiKey } } as never);
      const annotated = nextMessages(node(annotatedId), 6);
      const commands = nextMessages(node(fan), 6);
      node(byName('read now').id).receive({ payload: Date.now() } as never);
      const readings = new Map((await annotated).map((m) => [m.topic as string, (m.payload as Annotation).co2]));
      const got = await commands;
      assert.deepEqual(got.map((m) => m.topic).sort(), [...readings.keys()].map((id) => `building/ventilation/${id}/fan`).sort());
      for (const m of got) {
        const co2 = readings.get(m.physical_id as string)!;
        assert.equal(m.payload, co2 >= 1000 ? 'ON' : 'OFF', `${m.physical_id}: ${co2} ppm`);
      }
      console.log(`      measured: ${got.filter((m) => m.payload === 'ON').length} of ${got.length} rooms ON at ${new Date().toISOString().slice(11, 16)} UTC`);
    });
  });

  describe('msgs in, msgs out', () => {
    const T = Date.now() - 30 * 60_000;
    const reading = (device: string, co2: number, minutes: number, name?: string): Msg => ({
      topic: device, payload: { physical_id: device, timestamp: new Date(T + minutes * 60_000).toISOString(), data: { co2, temperature: 21.5, humidity: 40 } },
      ...(name ? { device: { physical_id: device, name } } : {}), keep: 'me',
    });

    it('annotates every reading (output 1); a category change after the dwell is one msg with msg.previous (output 2)', async () => {
      await helper.load(NODES, flow());
      const annotated = collect(node('annotated'));
      const changes = collect(node('changes'));
      const aq = node('aq');
      for (const [co2, minute] of [[900, 0], [1300, 1], [1300, 2], [1300, 3], [1300, 4]] as const) aq.receive(reading('room-1', co2, minute, 'Room 1') as never);
      await nextMessages(node('annotated'), 5).catch(() => undefined);
      await settle();
      assert.equal(annotated.length, 5);
      const first = annotated[0];
      assert.deepEqual(first.payload, {
        device: 'room-1', name: 'Room 1', co2: 900, temperature: 21.5, humidity: 40, timestamp: new Date(T).toISOString(),
        category: 'I', label: 'leapcraft-air-quality.category.en16798.I', level: 1, color: '#009E73', since: new Date(T).toISOString(),
        demand: 50, demandOn: false, demandSince: new Date(T).toISOString(), profile: 'en16798', outdoorCo2: 420,
      });
      assert.equal(first.keep, 'me', 'the input msg\'s own properties stay');
      assert.deepEqual(first.device, { physical_id: 'room-1', name: 'Room 1' });
      assert.deepEqual(annotated.map((m) => (m.payload as Annotation).category), ['I', 'I', 'I', 'III', 'III']);
      // Changes: the first reading (category and demand set), the demand on at once (1300 ≥ 1000, but
      // held off for 5 minutes: not yet), and III after the 2-minute dwell at minute 3.
      assert.deepEqual(changes.map((m) => [(m.payload as Annotation).category, m.changed, (m.previous as { category: string } | null)?.category ?? null]),
        [['I', ['category', 'demandOn'], null], ['III', ['category'], 'I']]);
      assert.equal(changes[1].topic, 'room-1');
      console.log(`      annotated msg: ${JSON.stringify({ topic: annotated[3].topic, payload: annotated[3].payload })}`);
      console.log(`      change msg: ${JSON.stringify({ topic: changes[1].topic, payload: changes[1].payload, previous: changes[1].previous, changed: changes[1].changed })}`);
    });

    it('a msg asking for a report gets it on output 3, with its own properties', async () => {
      await helper.load(NODES, flow({ days: '1,2,3,4,5,6,7', occupiedFrom: '00:00', occupiedTo: '24:00', gap: 60 }));
      const aq = node('aq');
      aq.receive(reading('room-1', 1400, 0) as never);
      aq.receive(reading('room-1', 1400, 20) as never);
      await nextMessages(node('annotated'), 2);
      const report = nextMessages(node('reports'));
      aq.receive({ report: true, from: new Date(T).toISOString(), keep: 'me' } as never);
      const [msg] = await report;
      const payload = msg.payload as AqReport;
      assert.equal(msg.topic, 'leapcraft/air-quality/report');
      assert.equal(msg.keep, 'me');
      assert.equal(payload.kind, 'requested');
      assert.equal(payload.devices[0].device, 'room-1');
      assert.ok(payload.devices[0].categories[2].hours > 0.45, JSON.stringify(payload.devices[0]));
      assert.equal(payload.devices[0].max!.co2, 1400);
    });

    it('shows how many devices and how many in the worst category', async () => {
      await helper.load(NODES, flow());
      assert.deepEqual([lastStatus('aq').fill, lastStatus('aq').text], ['grey', 'leapcraft-air-quality.status.waiting']);
      const aq = node('aq');
      aq.receive(reading('a', 500, 0) as never);
      aq.receive(reading('b', 600, 0) as never);
      await nextMessages(node('annotated'), 2);
      assert.deepEqual([lastStatus('aq').fill, lastStatus('aq').text], ['green', 'leapcraft-air-quality.status.allIn']);
      aq.receive(reading('c', 2000, 0) as never);
      await nextMessages(node('annotated'));
      assert.deepEqual([lastStatus('aq').fill, lastStatus('aq').text], ['yellow', 'leapcraft-air-quality.status.someIn']);
    });

    it('a bad msg goes to Catch with LEAPCRAFT_INVALID_INPUT, and nothing is sent', async () => {
      await helper.load(NODES, flow());
      const annotated = collect(node('annotated'));
      const cases: Msg[] = [{ payload: 800 }, { topic: 'r', payload: { co2: -1 } }, { topic: 'r', payload: 'much' }, { report: true, from: 'yesterday' }, { topic: 'r', payload: 800, outdoorCo2: 'x' }];
      const caught = nextMessages(node('caught'), cases.length);
      for (const msg of cases) node('aq').receive(msg as never);
      const errors = await caught;
      assert.deepEqual(errors.map((m) => (m.error as { code: string }).code), cases.map(() => 'LEAPCRAFT_INVALID_INPUT'));
      assert.match((errors[0].error as { message: string }).message, /msg\.physical_id/);
      await settle();
      assert.equal(annotated.length, 0);
    });

    const BAD_SETTINGS: Array<[Record<string, unknown>, RegExp]> = [
      [{ profile: 'who' }, /Invalid profile/],
      [{ outdoorCo2: '5000' }, /Invalid outdoorCo2/],
      [{ demandLow: '1200', demandHigh: '1100' }, /Invalid demandHigh/],
      [{ onAt: '800', offAt: '900' }, /Invalid offAt/],
      [{ profile: 'custom', thresholds: '900, 800', labels: 'a, b, c' }, /Invalid thresholds/],
      [{ profile: 'custom', thresholds: '800', labels: 'a' }, /Invalid labels/],
      [{ dwell: '-1' }, /Invalid dwell/],
      [{ gap: '0' }, /Invalid gap/],
      [{ days: '8' }, /Invalid days/],
      [{ occupiedTo: '25:00' }, /Invalid occupiedTo/],
      [{ reportAt: '07:10' }, /Invalid reportAt/],
      [{ timeZone: 'Atlantis/Capital' }, /Invalid timeZone/],
      [{ store: 'x\u0000' }, /Invalid store/],
    ];
    for (const [settings, message] of BAD_SETTINGS) {
      it(`a bad setting is red at deploy and every msg goes to Catch with it: ${JSON.stringify(settings)}`, async () => {
        await helper.load(NODES, flow(settings));
        assert.equal(lastStatus('aq').fill, 'red');
        const caught = nextMessages(node('caught'));
        node('aq').receive({ topic: 'r', payload: 800 } as never);
        const [msg] = await caught;
        assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
        assert.match((msg.error as { message: string }).message, message);
      });
    }
  });

  describe('the daily report, with a fake clock', () => {
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(async () => {
      await helper.unload();
      clock?.restore();
      clock = undefined;
    });

    it('at local midnight, of the recorded day across the clock change, equal to the hand calculation', async () => {
      clock = sinon.useFakeTimers({ now: Date.parse('2026-03-28T22:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
      await helper.load(NODES, flow(RECORDED_DAY.settings));
      await settle();
      const reports = collect(node('reports'));
      const annotated = collect(node('annotated'));
      const day = recordedDay();
      const shaping = { clone: (m: Msg) => structuredClone(m), deviceOf: () => undefined };
      for (const reading of day) {
        clock.tick(Math.max(0, Date.parse(reading.created_at!) - Date.now()));
        node('aq').receive(deviceMsg<Msg>({ payload: 'poll' }, reading.physical_id!, reading, shaping) as never);
        await settle();
      }
      assert.equal(annotated.length, day.length);
      clock.tick(RECORDED_DAY.to - Date.now());
      await settle();
      assert.deepEqual(reports.map((m) => (m.payload as AqReport).to), ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z']);
      const report = reports[1];
      assert.equal(report.topic, 'leapcraft/air-quality/report');
      assertHandReport(report.payload as AqReport);
      const { devices: _devices, ...head } = report.payload as AqReport;
      console.log(`      report msg: ${JSON.stringify({ topic: report.topic, payload: { ...head, devices: [(report.payload as AqReport).devices[0], '…'] } })}`);
    });
  });
});
