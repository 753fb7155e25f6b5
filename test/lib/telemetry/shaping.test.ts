import assert from 'node:assert/strict';
import {
  ArrayCycle, arrayMsg, ChangeFilter, Device, deviceMsg, DeviceDirectory, LeapcraftClient, LeapcraftNotFoundError, messagesFor,
  metricMsgs, Outcome, PolledDevices, PollHealth, PollOutput, PollScheduler, readOnDemand, Shaping, telemetryKey, TelemetryReading,
} from '../../../lib';
import { waitFor } from '../../support/wait';

type Msg = Record<string, unknown>;

const T = '2026-03-29T15:24:05Z';
/** A fake client's answer comes a turn of the event loop later, so concurrent reads overlap. */
const aTurnLater = () => new Promise<void>((resolve) => setImmediate(resolve));

function reading(id: string, co2 = 600, timestamp = T): TelemetryReading {
  return { physical_id: id, timestamp, data: { co2, temperature: 21.5, meta: { rssi: -60 } }, created_at: '2026-03-29T15:24:07Z' };
}

const DEVICES: Record<string, Device> = {
  a: { physical_id: 'a', name: 'Kitchen', type: 'ambinode' },
  b: { physical_id: 'b', name: '  ', type: 'ambinode' },
};

/** A clone that counts its calls and copies deeply enough to tell copies from the original. */
function shaping(devices: Record<string, Device> = DEVICES): Shaping<Msg> & { clones: number } {
  const s = {
    clones: 0,
    clone: (msg: Msg) => {
      s.clones++;
      return structuredClone(msg);
    },
    deviceOf: (id: string) => devices[id],
  };
  return s;
}

describe('telemetry shaping (lib/telemetry, without Node-RED)', () => {
  describe('telemetryKey', () => {
    it('latest ignores the range, so every "latest" node of a device shares one key', () => {
      const a = telemetryKey('dev', { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' });
      const b = telemetryKey('dev', { type: 'latest', resolution: 'weekly', from: '-1d', to: 'now' });
      assert.equal(a, b);
      assert.notEqual(a, telemetryKey('other', { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' }));
    });

    it('averages keep the query as configured, relative times unresolved', () => {
      const spec = { type: 'averages', resolution: 'daily', from: '-7d', to: 'now' };
      assert.equal(telemetryKey('dev', spec), telemetryKey('dev', { ...spec }));
      assert.notEqual(telemetryKey('dev', spec), telemetryKey('dev', { ...spec, from: '-3d' }));
      assert.notEqual(telemetryKey('dev', spec), telemetryKey('dev', { ...spec, resolution: 'weekly' }));
      assert.notEqual(telemetryKey('dev', spec), telemetryKey('dev', { ...spec, type: 'latest' }));
    });
  });

  describe('device mode', () => {
    it('without an input msg: a fresh msg with topic, payload as it came, physical_id and the list entry', () => {
      const s = shaping();
      const value = reading('a');
      const msg = deviceMsg(undefined, 'a', value, s);
      assert.deepEqual(msg, { topic: 'a', payload: value, physical_id: 'a', device: DEVICES.a });
      assert.equal(msg.payload, value, 'the reading is not copied');
      assert.equal(s.clones, 0);
    });

    it('with an input msg: a copy keeping its other properties, without a msg.device of another device', () => {
      const s = shaping();
      const base: Msg = { req: { id: 7 }, topic: 'ignored', device: { physical_id: 'zzz' } };
      const msg = deviceMsg(base, 'unlisted', reading('unlisted'), s);
      assert.equal(s.clones, 1);
      assert.notEqual(msg, base);
      assert.deepEqual(msg.req, { id: 7 });
      assert.equal(msg.topic, 'unlisted');
      assert.equal('device' in msg, false);
      assert.deepEqual(base, { req: { id: 7 }, topic: 'ignored', device: { physical_id: 'zzz' } }, 'the input msg is left alone');
    });

    it('messagesFor sends one msg per device that answered; failures give none', () => {
      const outcomes: Outcome[] = [{ id: 'a', value: reading('a') }, { id: 'x', error: new Error('gone') }, { id: 'b', value: reading('b') }];
      const msgs = messagesFor('device', undefined, outcomes, shaping());
      assert.deepEqual(msgs.map((m) => m.topic), ['a', 'b']);
    });
  });

  describe('metric mode', () => {
    it('one numeric msg per reading, topic "<name>/<metric>", unit and epoch-ms timestamp, meta skipped', () => {
      const msgs = metricMsgs(undefined, 'a', reading('a', 612), shaping());
      assert.deepEqual(msgs.map((m) => m.topic), ['Kitchen/co2', 'Kitchen/temperature']);
      const co2 = msgs[0];
      assert.deepEqual(co2, {
        topic: 'Kitchen/co2', payload: 612, timestamp: Date.parse(T), metric: 'co2', physical_id: 'a', unit: 'ppm', device: DEVICES.a,
      });
      assert.equal(msgs[1].unit, '°C');
    });

    it('a device with a blank name, or none in the list, is named by its id', () => {
      assert.equal(metricMsgs(undefined, 'b', reading('b'), shaping())[0].topic, 'b/co2');
      const unlisted = metricMsgs(undefined, 'u', reading('u'), shaping());
      assert.equal(unlisted[0].topic, 'u/co2');
      assert.equal('device' in unlisted[0], false);
    });

    it('each metric msg is its own copy of the input msg', () => {
      const s = shaping();
      const base: Msg = { req: { id: 1 } };
      const msgs = messagesFor('metric', base, [{ id: 'a', value: reading('a') }, { id: 'b', error: new Error('x') }], s);
      assert.equal(msgs.length, 2);
      assert.equal(s.clones, 2);
      assert.notEqual(msgs[0], msgs[1]);
      assert.notEqual(msgs[0].req, msgs[1].req);
      assert.deepEqual(base, { req: { id: 1 } });
    });

    it('a reading without numbers gives no msg', () => {
      assert.deepEqual(metricMsgs(undefined, 'a', { timestamp: T, data: { meta: {}, state: 'on' } }, shaping()), []);
    });
  });

  describe('array mode', () => {
    it('one msg: readings in device order, failed devices in msg.errors with code and message', () => {
      const outcomes: Outcome[] = [
        { id: 'a', value: reading('a') },
        { id: 'missing', error: new LeapcraftNotFoundError('no such device') },
        { id: 'b', value: reading('b') },
        { id: 'odd', error: 'plain text' },
      ];
      const msgs = messagesFor('array', undefined, outcomes, shaping());
      assert.equal(msgs.length, 1);
      const [msg] = msgs;
      assert.equal(msg.topic, 'leapcraft/telemetry');
      assert.deepEqual((msg.payload as TelemetryReading[]).map((r) => r.physical_id), ['a', 'b']);
      assert.deepEqual(msg.errors, [
        { physical_id: 'missing', code: 'LEAPCRAFT_NOT_FOUND', message: 'no such device' },
        { physical_id: 'odd', code: undefined, message: 'plain text' },
      ]);
    });

    it('sends the input msg itself on, dropping an msg.errors it brought when nothing failed', () => {
      const base: Msg = { req: 1, errors: ['stale'] };
      const msg = arrayMsg(base, [{ id: 'a', value: reading('a') }]);
      assert.equal(msg, base);
      assert.equal('errors' in msg, false);
      assert.equal(msg.req, 1);
    });
  });

  describe('ChangeFilter', () => {
    it('lets a device reading through once, and again only when it changed', () => {
      const f = new ChangeFilter();
      assert.equal(f.deviceChanged('a', reading('a')), true);
      assert.equal(f.deviceChanged('a', reading('a')), false);
      assert.equal(f.deviceChanged('a', { ...reading('a'), created_at: '2026-03-29T16:00:00Z' }), false, 're-stored, same reading');
      assert.equal(f.deviceChanged('a', reading('a', 601)), true, 'a new value');
      assert.equal(f.deviceChanged('a', reading('a', 601, '2026-03-29T15:29:05Z')), true, 'a new timestamp');
    });

    it('remembers each device on its own', () => {
      const f = new ChangeFilter();
      assert.equal(f.deviceChanged('a', reading('x')), true);
      assert.equal(f.deviceChanged('b', reading('x')), true, 'the same reading on another device is news');
      assert.equal(f.deviceChanged('a', reading('x')), false);
    });

    it('a round changes when a reading changes or a device starts or stops failing', () => {
      const f = new ChangeFilter();
      const ok: Outcome[] = [{ id: 'a', value: reading('a') }, { id: 'b', value: reading('b') }];
      assert.equal(f.roundChanged(ok), true);
      assert.equal(f.roundChanged(ok.map((o) => ({ ...o }))), false);
      const bFails: Outcome[] = [ok[0], { id: 'b', error: new Error('down') }];
      assert.equal(f.roundChanged(bFails), true);
      assert.equal(f.roundChanged([ok[0], { id: 'b', error: new Error('another error') }]), false, 'a failure is no reading, whatever its error');
      assert.equal(f.roundChanged(ok), true);
      assert.equal(f.deviceChanged('a', reading('a')), true, 'rounds and devices are remembered apart');
    });
  });

  describe('ArrayCycle', () => {
    it('completes only when every polled device answered, value or error, in polled order', () => {
      const polled = ['a', 'b', 'c'];
      const cycle = new ArrayCycle(() => polled);
      assert.equal(cycle.record({ id: 'c', value: reading('c') }), undefined);
      assert.equal(cycle.record({ id: 'a', error: new Error('down') }), undefined);
      assert.equal(cycle.record({ id: 'c', value: reading('c', 700) }), undefined, 'a second answer of one device does not complete the round');
      const done = cycle.record({ id: 'b', value: reading('b') });
      assert.ok(done);
      assert.deepEqual(done.map((o) => o.id), ['a', 'b', 'c']);
      assert.ok(done[0].error instanceof Error);
      assert.equal((done[2].value as TelemetryReading).data?.co2, 700, 'the latest answer counts');
      // The next answer starts a new round.
      assert.equal(cycle.record({ id: 'a', value: reading('a') }), undefined);
    });

    it('a device that joins during a round is waited for; one that leaves is not', () => {
      const polled = ['a', 'b'];
      const cycle = new ArrayCycle(() => polled);
      assert.equal(cycle.record({ id: 'a', value: reading('a') }), undefined);
      polled.push('c');
      cycle.joined('c');
      assert.equal(cycle.record({ id: 'b', value: reading('b') }), undefined, 'still waiting for c');
      polled.splice(polled.indexOf('b'), 1);
      cycle.left('b');
      const done = cycle.record({ id: 'c', value: reading('c') });
      assert.deepEqual(done?.map((o) => o.id), ['a', 'c'], 'b left: its answer is not listed');
    });

    it('reset drops a round under way', () => {
      const cycle = new ArrayCycle(() => ['a', 'b']);
      cycle.record({ id: 'a', value: reading('a') });
      cycle.reset();
      assert.equal(cycle.record({ id: 'b', value: reading('b') }), undefined, 'a fresh round waits for a again');
      assert.deepEqual(cycle.record({ id: 'a', value: reading('a') })?.map((o) => o.id), ['a', 'b']);
    });
  });

  describe('PollOutput', () => {
    it('array mode: one emission per complete round, errors listed, count of readings', () => {
      const out = new PollOutput<Msg>('array', false, () => ['a', 'missing'], shaping());
      assert.equal(out.answer({ id: 'a', value: reading('a') }), undefined);
      const emission = out.answer({ id: 'missing', error: new LeapcraftNotFoundError('nope') });
      assert.ok(emission);
      assert.equal(emission.emitted, 1);
      assert.equal(emission.msgs.length, 1);
      assert.deepEqual((emission.msgs[0].errors as Array<{ physical_id: string }>).map((e) => e.physical_id), ['missing']);
    });

    it('array mode with changesOnly: an unchanged round emits nothing', () => {
      const out = new PollOutput<Msg>('array', true, () => ['a'], shaping());
      assert.equal(out.answer({ id: 'a', value: reading('a') })?.msgs.length, 1);
      assert.deepEqual(out.answer({ id: 'a', value: reading('a') }), { msgs: [], emitted: 0 });
      assert.equal(out.answer({ id: 'a', value: reading('a', 900) })?.msgs.length, 1);
    });

    it('device and metric modes: a failure shows nothing, a value its msgs; changesOnly per device', () => {
      const device = new PollOutput<Msg>('device', true, () => ['a', 'b'], shaping());
      assert.equal(device.answer({ id: 'a', error: new Error('down') }), undefined);
      assert.equal(device.answer({ id: 'a', value: reading('a') })?.emitted, 1);
      assert.equal(device.answer({ id: 'b', value: reading('a') })?.emitted, 1);
      assert.deepEqual(device.answer({ id: 'a', value: reading('a') }), { msgs: [], emitted: 0 });
      const metric = new PollOutput<Msg>('metric', false, () => ['a'], shaping());
      const emission = metric.answer({ id: 'a', value: reading('a') });
      assert.deepEqual(emission?.msgs.map((m) => m.topic), ['Kitchen/co2', 'Kitchen/temperature']);
      assert.equal(emission?.emitted, 2);
    });
  });

  describe('PollHealth', () => {
    it('failing devices outweigh a stale list; both clear on recovery', () => {
      const h = new PollHealth();
      assert.deepEqual(h.state(), { state: 'ok' });
      h.listFailed();
      assert.deepEqual(h.state(), { state: 'listStale' });
      h.deviceFailed('a');
      h.deviceFailed('a');
      h.deviceFailed('b');
      assert.deepEqual(h.state(), { state: 'failing', failed: 2 });
      h.deviceRecovered('a');
      h.deviceRecovered('b');
      assert.deepEqual(h.state(), { state: 'listStale' });
      h.listRecovered();
      assert.deepEqual(h.state(), { state: 'ok' });
    });
  });

  describe('DeviceDirectory and PolledDevices', () => {
    it('the directory keeps the list order and skips entries without a string id', () => {
      const d = new DeviceDirectory();
      assert.equal(d.loaded, false);
      d.update([DEVICES.b, { physical_id: 42 } as unknown as Device, DEVICES.a]);
      assert.equal(d.loaded, true);
      assert.deepEqual(d.ids(), ['b', 'a']);
      assert.equal(d.get('a'), DEVICES.a);
      d.update([DEVICES.a]);
      assert.equal(d.get('b'), undefined, 'a new list replaces the old one');
    });

    it('polled devices follow the list: new ones subscribe, gone ones unsubscribe, the rest stay', () => {
      const events: string[] = [];
      const polled = new PolledDevices((id) => {
        events.push(`subscribe ${id}`);
        return () => events.push(`unsubscribe ${id}`);
      }, { joined: (id) => events.push(`joined ${id}`), left: (id) => events.push(`left ${id}`) });
      polled.set(['a', 'b']);
      polled.set(['b', 'c']);
      assert.deepEqual([...polled.ids()], ['b', 'c']);
      assert.equal(polled.size, 2);
      polled.clear();
      assert.deepEqual(events, [
        'joined a', 'subscribe a', 'joined b', 'subscribe b',
        'unsubscribe a', 'left a', 'joined c', 'subscribe c',
        'unsubscribe b', 'unsubscribe c',
      ]);
      assert.equal(polled.size, 0);
    });
  });

  describe('readOnDemand', () => {
    let scheduler: PollScheduler;
    beforeEach(() => { scheduler = new PollScheduler(); });
    afterEach(() => scheduler.close());

    /** A client with two pages of devices; telemetry fails for ids starting with "bad". */
    function fakeClient(log: string[], options: { listFails?: boolean } = {}) {
      const pages: Device[][] = [[{ physical_id: 'p1' }, { physical_id: 'p2' }], [{ physical_id: 'bad3' }]];
      return {
        concurrency: 8,
        async listDevices(o: { onPage?: (devices: Device[]) => void } = {}) {
          if (options.listFails) throw new Error('list down');
          for (const [i, page] of pages.entries()) {
            log.push(`page ${i + 1}`);
            o.onPage?.(page);
            await new Promise((r) => setImmediate(r));
          }
          return pages.flat();
        },
        async getTelemetry(id: string) {
          log.push(`read ${id}`);
          if (id.startsWith('bad')) throw new LeapcraftNotFoundError(`${id} not found`);
          return reading(id);
        },
      } as unknown as LeapcraftClient;
    }
    const spec = { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' };

    it('every device: readings start per page while the list is still walked; failures are outcomes', async () => {
      const log: string[] = [];
      const directory = new DeviceDirectory();
      let listUpdates = 0;
      const outcomes = await readOnDemand({
        scheduler, client: fakeClient(log), spec, query: { type: 'latest' }, ids: [], directory,
        listUpdated: () => listUpdates++, signal: new AbortController().signal,
      });
      assert.deepEqual(log.slice(0, 4), ['page 1', 'read p1', 'read p2', 'page 2']);
      assert.equal(log.filter((l) => l.startsWith('read')).length, 3, 'each device read once');
      assert.deepEqual(outcomes.map((o) => o.id), ['p1', 'p2', 'bad3']);
      assert.equal(outcomes[2].error instanceof LeapcraftNotFoundError, true);
      assert.equal(outcomes[0].error, undefined);
      assert.deepEqual(directory.ids(), ['p1', 'p2', 'bad3']);
      assert.equal(listUpdates, 1);
    });

    it('named devices: the list is read once for names, and its failure does not fail the readings', async () => {
      const log: string[] = [];
      const directory = new DeviceDirectory();
      const outcomes = await readOnDemand({
        scheduler, client: fakeClient(log, { listFails: true }), spec, query: { type: 'latest' }, ids: ['p2'], directory,
        signal: new AbortController().signal,
      });
      assert.deepEqual(outcomes.map((o) => [o.id, o.value !== undefined]), [['p2', true]]);
      assert.equal(directory.loaded, false);

      const loaded = new DeviceDirectory();
      loaded.update([{ physical_id: 'p2', name: 'Hall' }]);
      const log2: string[] = [];
      await readOnDemand({ scheduler, client: fakeClient(log2), spec, query: { type: 'latest' }, ids: ['p2'], directory: loaded, signal: new AbortController().signal });
      assert.deepEqual(log2, ['read p2'], 'a loaded directory is not read again');
    });

    it('a msg for many devices starts at most twice the concurrency of readings at once; a list failing half-way starts no more', async () => {
      const ids = Array.from({ length: 40 }, (_, i) => `d${i}`);
      let inFlight = 0;
      let most = 0;
      const reads: string[] = [];
      const client = (listFailsAfter?: number) => ({
        concurrency: 3,
        async listDevices(o: { onPage?: (devices: Device[]) => void } = {}) {
          for (let page = 0; page * 10 < ids.length; page++) {
            if (listFailsAfter !== undefined && page >= listFailsAfter) throw new Error('list down');
            o.onPage?.(ids.slice(page * 10, page * 10 + 10).map((physical_id) => ({ physical_id })));
            await aTurnLater();
            await aTurnLater();
          }
          return ids.map((physical_id) => ({ physical_id }));
        },
        async getTelemetry(id: string) {
          reads.push(id);
          most = Math.max(most, ++inFlight);
          await aTurnLater();
          inFlight--;
          return reading(id);
        },
      } as unknown as LeapcraftClient);
      const outcomes = await readOnDemand({
        scheduler, client: client(), spec, query: { type: 'latest' }, ids: [], directory: new DeviceDirectory(), signal: new AbortController().signal,
      });
      assert.deepEqual(outcomes.map((o) => o.id), ids, 'every device, in list order');
      assert.ok(outcomes.every((o) => o.value !== undefined));
      assert.deepEqual([...reads].sort(), [...ids].sort(), 'each device read once');
      assert.equal(most, 6, 'at most 2 x concurrency 3 readings under way, and as many as that');

      // The first page's devices may all be read while the second page loads; none after the list failed.
      reads.length = 0;
      await assert.rejects(readOnDemand({
        scheduler, client: client(1), spec, query: { type: 'latest' }, ids: [], directory: new DeviceDirectory(), signal: new AbortController().signal,
      }), /list down/);
      const atFailure = reads.length;
      // The readings under way end; one started after the failure would be counted by then.
      await waitFor(() => inFlight === 0, 1000, 'the readings under way to end');
      await aTurnLater();
      assert.equal(reads.length, atFailure, 'no reading started after the list failed');
      assert.ok(reads.every((id) => ids.indexOf(id) < 10), `only the first page's devices: ${reads.join(', ')}`);
    });
  });
});
