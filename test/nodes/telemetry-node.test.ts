import assert from 'node:assert/strict';
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { NodeClock, NodeWork } from '../support/node-clock';
import { catchNode, collect, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import telemetryNode = require('../../nodes/leapcraft-telemetry');

const NODES = [configNode, telemetryNode, catchNode];
type Reading = { physical_id: string; timestamp: string; data: Record<string, unknown> };
type Msg = Record<string, unknown>;

function query(rawUrl: string): URLSearchParams {
  return new URL(rawUrl, 'http://x').searchParams;
}

/** The nodes' poll interval in these flows (1 s). */
const INTERVAL = 1000;
/**
 * Fixed rounds, for the tests that count requests per interval: a cadence-aware key (the
 * default) stops asking once it has learnt when its device's next reading is due
 * (test/nodes/telemetry-emit.test.ts), which simulated time reaches within seconds.
 */
const FIXED = { cadence: false };

describe('leapcraft-telemetry', function () {
  let sim: LeapcraftSimulator;
  /** Simulated time for the tests that count over intervals (started before the flow loads). */
  let clock: NodeClock | undefined;
  let work: NodeWork | undefined;

  async function startSim(options: SimulatorOptions = {}) {
    // Its clock is this process's: simulated while a NodeClock runs.
    sim = new LeapcraftSimulator({ deviceCount: 12, now: () => Date.now(), ...options });
    await sim.start();
  }
  function fakeTime(): NodeClock {
    clock = new NodeClock();
    return clock;
  }
  /** For the tests that wait until the nodes are done (no request under way, no msg in transit). */
  function watchWork(): NodeWork {
    work = new NodeWork();
    return work;
  }
  afterEach(async () => {
    clock?.stop();
    clock = undefined;
    work?.stop();
    work = undefined;
    await helper.unload();
    await sim?.stop();
  });

  function telemetryNodeDef(id: string, props: Record<string, unknown>, y = 100) {
    return {
      id, type: 'leapcraft-telemetry', z: 'tab', x: 100, y, account: 'acct', devices: '', telemetryType: 'latest',
      resolution: 'daily', from: '-7d', to: 'now', interval: 1, output: 'device', changesOnly: false, blockOverrides: false,
      wires: [['out']], ...props,
    };
  }
  function flow(props: Record<string, unknown> = {}) {
    return [
      { id: 'tab', type: 'tab', label: 'test' },
      { id: 'acct', type: 'leapcraft-config', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30 },
      telemetryNodeDef('tel', props),
      { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
      { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
      { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
    ];
  }
  const creds = () => ({ acct: { apiKey: sim.apiKey } });
  const ids = (n: number) => sim.devices().slice(0, n).map((d) => d.physical_id);
  const telemetryRequests = () => sim.stats.requests.filter((r) => r.endpoint === 'telemetry');
  /** How many requests for each device fell into each of `n` intervals from `start`. */
  const perInterval = (devices: string[], start: number, n: number) => devices.map((id) => Array.from({ length: n }, (_, k) => telemetryRequests()
    .filter((r) => r.rawUrl.includes(`/telemetry/${encodeURIComponent(id)}?`) && r.at >= start + k * INTERVAL && r.at < start + (k + 1) * INTERVAL).length));
  const out = () => helper.getNode('out') as TestNode;
  const tel = () => helper.getNode('tel') as TestNode;
  type StatusSpy = { lastCall: { args: Array<{ fill: string; text: string }> }; getCalls(): Array<{ args: Array<{ text?: string }> }> };
  const lastStatus = (node: TestNode) => (node.status as unknown as StatusSpy).lastCall.args[0];
  const statusTexts = (node: TestNode) => (node.status as unknown as StatusSpy).getCalls().map((c) => String(c.args[0]?.text));

  describe('polling, device mode', () => {
    it('emits one msg per device with topic, payload as it came, and the list entry', async () => {
      await startSim();
      const wanted = ids(3);
      await helper.load(NODES, flow({ devices: wanted.join(', ') }), creds());
      const msgs = await nextMessages(out(), 3);
      assert.deepEqual(msgs.map((m) => m.topic).sort(), [...wanted].sort());
      for (const m of msgs) {
        const reading = m.payload as Reading;
        assert.equal(reading.physical_id, m.topic);
        assert.equal(typeof reading.data.co2, 'number');
        assert.ok(reading.data.meta && typeof reading.data.meta === 'object', 'data.meta kept as it came');
        assert.deepEqual(m.device, sim.devices().find((d) => d.physical_id === m.topic));
        assert.equal(m.physical_id, m.topic);
      }
    });

    it('with no devices set polls every device of the account', async () => {
      await startSim({ deviceCount: 7 });
      await helper.load(NODES, flow(), creds());
      const msgs = await nextMessages(out(), 7);
      assert.deepEqual(msgs.map((m) => m.topic).sort(), sim.devices().map((d) => d.physical_id).sort());
    });

    it('polls once per interval: a device is never fetched more often', async () => {
      const time = fakeTime();
      await startSim();
      const wanted = ids(4);
      await helper.load(NODES, flow({ devices: wanted.join(','), ...FIXED }), creds());
      const start = time.now;
      await time.run(5 * INTERVAL - 1);
      assert.equal(new Set(telemetryRequests().map((r) => r.rawUrl)).size, 4);
      assert.deepEqual(perInterval(wanted, start, 5), wanted.map(() => [1, 1, 1, 1, 1]), 'requests per device in each of 5 intervals');
    });

    it('reports a failing device to Catch once while the others keep emitting', async () => {
      await startSim();
      const good = ids(2);
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: [...good, 'no-such-device'].join(','), ...FIXED }), creds());
      const errors = collect(helper.getNode('caught') as TestNode);
      const msgs = collect(out());
      const start = time.now;
      await time.run(3 * INTERVAL - 1);
      assert.equal(errors.length, 1);
      assert.equal((errors[0].error as { code: string }).code, 'LEAPCRAFT_NOT_FOUND');
      assert.equal(errors[0].physical_id, 'no-such-device');
      assert.equal(msgs.length, 2 * 3, 'the good devices kept emitting: one msg each in each of 3 intervals');
      assert.ok(perInterval(['no-such-device'], start, 3)[0].every((n) => n >= 1), 'the failing device is retried each round');
    });
    it('a failed device list is a warning, not a failing device, while the devices keep emitting', async () => {
      await startSim();
      sim.injectFault({ kind: 'html', endpoint: 'devices' });
      const wanted = ids(3);
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: wanted.join(','), ...FIXED }), creds());
      const errors = collect(helper.getNode('caught') as TestNode);
      const msgs = collect(out());
      await time.run(3 * INTERVAL - 1);
      assert.equal(msgs.length, 3 * 3, 'the devices kept emitting: one msg each in each of 3 intervals');
      assert.ok(msgs.every((m) => m.device === undefined), 'no list entry to attach');
      assert.equal(errors.length, 1, 'the list failure reaches Catch once');
      assert.equal((errors[0].error as { code: string }).code, 'LEAPCRAFT_BAD_RESPONSE');
      assert.equal(errors[0].physical_id, undefined);
      // The test helper loads no catalogs: status texts are their keys here. The list's retries
      // (every few seconds) and the devices' polls both say the list is out of date.
      const texts = statusTexts(tel());
      assert.ok(texts.includes('leapcraft-telemetry.status.emittedListStale'), texts.join(', '));
      assert.ok(!texts.includes('leapcraft-telemetry.status.failing'), texts.join(', '));
      assert.equal(lastStatus(tel()).fill, 'yellow');
    });

    it('a device list refresh that fails after it once worked leaves the devices emitting, and is retried within seconds', async () => {
      await startSim({ deviceCount: 4 });
      const time = fakeTime();
      await helper.load(NODES, flow({ interval: 900 }), creds());
      const msgs = collect(out());
      const errors = collect(helper.getNode('caught') as TestNode);
      await time.until(() => msgs.length >= 4, 5000, 'the first poll');
      assert.equal(lastStatus(tel()).fill, 'green');

      const listReads = () => sim.stats.requests.filter((r) => r.endpoint === 'devices').length;
      sim.injectFault({ kind: 'html', endpoint: 'devices' });
      const before = listReads();
      await time.run(10 * 60_000 - 5000);
      assert.equal(errors.length, 0, 'nothing failed before the refresh');
      await time.until(() => errors.length > 0, 10_000, 'the refresh after 10 minutes fails');
      assert.equal(listReads(), before + 1, 'the refresh after 10 minutes');
      assert.equal((errors[0].error as { code: string }).code, 'LEAPCRAFT_BAD_RESPONSE');
      assert.deepEqual([lastStatus(tel()).fill, lastStatus(tel()).text], ['yellow', 'leapcraft-telemetry.status.listStale']);

      // Retried after 2 s, then 4 s, not at the next refresh ten minutes on; Catch heard it once.
      await time.until(() => listReads() >= before + 2, 3000, 'the first retry');
      sim.clearFaults();
      await time.until(() => listReads() >= before + 3, 5000, 'the second retry');
      assert.equal(errors.length, 1, 'the same failure reached Catch once');

      // Back: the next poll (15 min after the first) reads every device and the status is green again.
      await time.until(() => msgs.length >= 8, 5 * 60_000, 'the second poll');
      assert.equal(msgs.length, 8, 'one msg per device in each poll');
      assert.equal(lastStatus(tel()).fill, 'green');
      assert.equal(lastStatus(tel()).text, 'leapcraft-telemetry.status.emitted');
      assert.equal(errors.length, 1);
    });
  });

  describe('output modes', () => {
    it('array: one msg per cycle with every device', async () => {
      await startSim();
      const wanted = ids(4);
      await helper.load(NODES, flow({ devices: wanted.join(','), output: 'array' }), creds());
      const [msg] = await nextMessages(out(), 1);
      const payload = msg.payload as Reading[];
      assert.equal(payload.length, 4);
      assert.deepEqual(payload.map((r) => r.physical_id), wanted);
      assert.equal(msg.topic, 'leapcraft/telemetry');
      assert.equal(msg.errors, undefined);
    });

    it('array: failures listed in msg.errors, the rest still delivered', async () => {
      await startSim();
      await helper.load(NODES, flow({ devices: `${ids(2).join(',')},missing-one`, output: 'array' }), creds());
      const [msg] = await nextMessages(out(), 1);
      assert.equal((msg.payload as Reading[]).length, 2);
      assert.deepEqual((msg.errors as Array<{ physical_id: string; code: string }>).map((e) => [e.physical_id, e.code]), [['missing-one', 'LEAPCRAFT_NOT_FOUND']]);
    });

    it('metric: one numeric msg per reading, topic "<name>/<metric>", epoch-ms timestamp, meta skipped', async () => {
      await startSim();
      const device = sim.devices().find((d) => d.type === 'ambinode')!;
      await helper.load(NODES, flow({ devices: device.physical_id, output: 'metric', interval: 0 }), creds());
      const got = collect(out());
      const nodes = watchWork();
      tel().receive({} as never);
      await nextMessages(out(), 1);
      // Every msg of the reading delivered, and no request under way that could send more.
      await nodes.idle();
      const metrics = got.map((m) => m.metric).sort();
      assert.deepEqual(metrics, ['co2', 'humidity', 'noise', 'pm2_5', 'temperature']);
      const reading = (await fetchLatest(device.physical_id));
      for (const m of got) {
        assert.equal(m.topic, `${device.name}/${m.metric}`);
        assert.equal(typeof m.payload, 'number');
        assert.equal(m.payload, reading.data[m.metric as string]);
        assert.equal(m.timestamp, Date.parse(reading.timestamp));
        assert.equal(m.physical_id, device.physical_id);
      }
      assert.equal(got.find((m) => m.metric === 'co2')!.unit, 'ppm');
    });

    async function fetchLatest(id: string): Promise<Reading> {
      const token = await (await fetch(`${sim.baseUrl}/auth/client/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `api_key=${sim.apiKey}` })).json() as { token: string };
      const res = await fetch(`${sim.baseUrl}/telemetry/${encodeURIComponent(id)}?type=latest`, { headers: { Authorization: `Bearer ${token.token}` } });
      return res.json() as Promise<Reading>;
    }
  });

  describe('changesOnly', () => {
    it('emits a device only when its reading changed', async () => {
      await startSim({ reportIntervalMs: 3_600_000 });
      const time = fakeTime();
      const wanted = ids(3);
      await helper.load(NODES, flow({ devices: wanted.join(','), changesOnly: true, ...FIXED }), creds());
      const msgs = collect(out());
      const start = time.now;
      await time.run(3 * INTERVAL - 1);
      assert.deepEqual(perInterval(wanted, start, 3), wanted.map(() => [1, 1, 1]), 'polled every round');
      assert.equal(msgs.length, 3, 'one msg per device: the readings never changed');
    });

    it('emits again when the sensor reports a new reading', async () => {
      await startSim({ reportIntervalMs: 2 * INTERVAL });
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: ids(1).join(','), changesOnly: true }), creds());
      const msgs = collect(out());
      await time.run(30 * INTERVAL - 1);
      // A new reading every 2 s, polled every second (then, once the node has learnt the
      // sensor's cadence, when one is due): the 15 readings of the 30 s, each emitted once.
      const stamps = msgs.map((m) => Date.parse((m.payload as Reading).timestamp));
      assert.equal(new Set(stamps).size, stamps.length, 'no reading emitted twice');
      assert.deepEqual(stamps, Array.from({ length: 15 }, (_, k) => stamps[0] + k * 2 * INTERVAL), 'every new reading was emitted');
    });

    it('without changesOnly every poll emits', async () => {
      await startSim({ reportIntervalMs: 3_600_000 });
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: ids(2).join(','), ...FIXED }), creds());
      const msgs = collect(out());
      await time.run(3 * INTERVAL - 1);
      assert.equal(msgs.length, 2 * 3, 'one msg per device in each of 3 intervals');
    });
  });

  describe('on input', () => {
    it('interval 0 polls nothing and fetches when a msg arrives, keeping the msg', async () => {
      await startSim();
      const wanted = ids(2);
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: wanted.join(','), interval: 0 }), creds());
      await time.run(10 * 60_000);
      assert.equal(telemetryRequests().length, 0, 'nothing polled in 10 minutes');
      const got = nextMessages(out(), 2);
      tel().receive({ payload: 'go', req: { id: 7 }, topic: 'ignored/topic' } as never);
      const msgs = await got;
      assert.deepEqual(msgs.map((m) => m.topic).sort(), [...wanted].sort());
      for (const m of msgs) assert.deepEqual(m.req, { id: 7 });
      assert.equal(telemetryRequests().length, 2);
    });

    it('msg.physical_id (string or array) overrides the devices; msg.topic is never an id', async () => {
      await startSim();
      const [a, b, c] = ids(3);
      await helper.load(NODES, flow({ devices: a, interval: 0 }), creds());
      let got = nextMessages(out(), 1);
      tel().receive({ physical_id: b, topic: c } as never);
      assert.equal((await got)[0].topic, b);
      got = nextMessages(out(), 2);
      tel().receive({ physical_id: [b, c] } as never);
      assert.deepEqual((await got).map((m) => m.topic).sort(), [b, c].sort());
    });

    it('msg.type, msg.resolution, msg.from and msg.to override the settings', async () => {
      await startSim();
      const [a] = ids(1);
      await helper.load(NODES, flow({ devices: a, interval: 0 }), creds());
      const got = nextMessages(out(), 1);
      tel().receive({ type: 'averages', resolution: 'weekly', from: '2026-01-05T00:00:00Z', to: '2026-01-25T23:59:59Z' } as never);
      const [msg] = await got;
      assert.ok(Array.isArray(msg.payload));
      const q = query(telemetryRequests()[0].rawUrl);
      assert.equal(q.get('type'), 'averages');
      assert.equal(q.get('resolution'), 'weekly');
      assert.equal(q.get('from'), '2026-01-05T00:00:00.000');
      assert.equal(q.get('to'), '2026-01-25T23:59:59.000');
    });

    it('"block input overrides" ignores them', async () => {
      await startSim();
      const [a, b] = ids(2);
      await helper.load(NODES, flow({ devices: a, interval: 0, blockOverrides: true }), creds());
      const got = nextMessages(out(), 1);
      tel().receive({ physical_id: b, type: 'averages', resolution: 'bogus', from: 'x' } as never);
      const [msg] = await got;
      assert.equal(msg.topic, a);
      assert.equal(query(telemetryRequests()[0].rawUrl).get('type'), 'latest');
    });

    it('relative ranges resolve at fetch time', async () => {
      await startSim();
      const [a] = ids(1);
      await helper.load(NODES, flow({ devices: a, interval: 0, telemetryType: 'averages', resolution: 'daily', from: '-3d', to: 'now' }), creds());
      const before = Date.now();
      const got = nextMessages(out(), 1);
      tel().receive({} as never);
      const [msg] = await got;
      const after = Date.now();
      assert.ok(Array.isArray(msg.payload) && (msg.payload as unknown[]).length >= 3);
      const q = query(telemetryRequests()[0].rawUrl);
      const from = Date.parse(`${q.get('from')}Z`);
      const to = Date.parse(`${q.get('to')}Z`);
      assert.ok(from >= before - 3 * 86400e3 - 1000 && from <= after - 3 * 86400e3, `from ${q.get('from')}`);
      assert.ok(to >= before - 1000 && to <= after, `to ${q.get('to')}`);
    });

    const bad: Array<[string, Msg]> = [
      ['unknown type', { type: 'raw' }],
      ['unknown resolution', { type: 'averages', resolution: 'hourly', from: '-1d', to: 'now' }],
      ['from after to', { type: 'averages', resolution: 'daily', from: 'now', to: '-7d' }],
      ['unparseable date', { type: 'averages', resolution: 'daily', from: 'last week', to: 'now' }],
      ['out-of-range date', { type: 'averages', resolution: 'daily', from: '2026-02-30T00:00:00', to: 'now' }],
      ['empty physical_id', { physical_id: '' }],
      ['object physical_id', { physical_id: { a: 1 } }],
      ['empty id array', { physical_id: [] }],
      ['hostile control chars', { physical_id: 'a\nb' }],
    ];
    for (const [name, msg] of bad) {
      it(`rejects ${name} before any request, to Catch as LEAPCRAFT_INVALID_INPUT`, async () => {
        await startSim();
        const nodes = watchWork();
        await helper.load(NODES, flow({ devices: ids(1)[0], interval: 0 }), creds());
        await nodes.idle();
        sim.resetStats();
        const caught = nextMessages(helper.getNode('caught') as TestNode);
        tel().receive({ ...msg } as never);
        const [err] = await caught;
        assert.equal((err.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
        assert.equal(telemetryRequests().length, 0);
      });
    }

    it('a bad node setting shows red at deploy and polls nothing', async () => {
      await startSim();
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: ids(1)[0], telemetryType: 'averages', from: 'garbage' }), creds());
      await time.run(60 * 60_000);
      assert.equal(telemetryRequests().length, 0, 'nothing polled in an hour');
      const status = (tel().status as unknown as { lastCall: { args: Array<{ fill: string }> } }).lastCall.args[0];
      assert.equal(status.fill, 'red');
    });
  });

  describe('sharing and lifecycle', () => {
    it('coalesces: 5 nodes watching the same 20 devices cost 20 requests per interval, not 100', async () => {
      await startSim({ deviceCount: 20 });
      const all = sim.devices().map((d) => d.physical_id).join(',');
      const f = flow({ devices: all, ...FIXED });
      for (let i = 2; i <= 5; i++) f.push(telemetryNodeDef(`tel${i}`, { devices: all }, 100 * i) as never);
      const time = fakeTime();
      await helper.load(NODES, f, creds());
      const msgs = collect(out());
      const start = time.now;
      await time.run(3 * INTERVAL - 1);
      const requests = telemetryRequests().length;
      const emitted = msgs.length;
      // 3 rounds of 20: 60 requests, each device once per interval; each answer reached all 5 nodes.
      assert.equal(requests, 60, `requests in 3 intervals: ${requests}`);
      assert.deepEqual(perInterval(sim.devices().map((d) => d.physical_id), start, 3).flat(), Array(60).fill(1), 'each device once per interval');
      assert.equal(emitted, requests * 5, `each answer went to all 5 nodes: ${emitted} msgs for ${requests} requests`);
      console.log(`      coalescing: 5 nodes x 20 devices -> ${(requests / 3).toFixed(1)} telemetry requests per interval, ${(emitted / 3).toFixed(1)} msgs per interval`);
    });

    it('redeploying the flow 20 times leaves the poll rate as it was', async () => {
      await startSim();
      const time = fakeTime();
      const f = flow({ devices: ids(5).join(','), ...FIXED });
      await helper.load(NODES, f, creds());
      /** Requests per interval over the next 3 intervals. */
      async function rate(): Promise<number> {
        sim.resetStats();
        await time.run(3 * INTERVAL - 1);
        return telemetryRequests().length / 3;
      }
      const before = await rate();
      for (let i = 0; i < 20; i++) await helper.setFlows(f, 'full', creds());
      const outs = collect(out());
      const after = await rate();
      console.log(`      redeploy: ${before.toFixed(1)} req/s before, ${after.toFixed(1)} req/s after 20 full redeploys; ${outs.length} msgs in those 3 s`);
      assert.equal(before, 5, `before ${before}`);
      assert.equal(after, before, `after ${after} vs before ${before}`);
      assert.equal(outs.length, 5 * 3, `output did not double: ${outs.length}`);
    });

    it('stops polling when the node is closed', async () => {
      await startSim();
      const time = fakeTime();
      await helper.load(NODES, flow({ devices: ids(3).join(',') }), creds());
      await time.until(() => telemetryRequests().length === 3, INTERVAL, 'the first round');
      await helper.unload();
      const count = sim.stats.total;
      await time.run(60 * 60_000);
      assert.equal(sim.stats.total, count, 'no request in the hour after the close');
      assert.equal(sim.openConnections(), 0);
    });
  });
});
