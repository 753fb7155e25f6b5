/**
 * leapcraft-telemetry: readings of the account's devices, polled on the account's shared
 * scheduler (so several nodes watching the same devices cost one request each per
 * interval) or fetched when a msg arrives, emitted per device, as one array, or as one
 * msg per metric for charts and gauges.
 */
import { setMaxListeners } from 'node:events';
import {
  Device, extractMetrics, isLeapcraftError, LeapcraftClient, oneOf, readingFingerprint,
  TelemetryQuery, telemetryQuery, TelemetryResponse,
} from '../lib';
import { attachAccount, clientOf, showStartStatus } from './common/account';
import { toNodeError } from './common/errors';
import { idsFromMsg, parseIdList } from './common/ids';
import { handleInput } from './common/input';
import { intervalMs, readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import { clock } from './common/time';
import type { Msg, Node, NodeAPI, NodeDef, NodeMessage } from './common/types';

interface TelemetryDef extends NodeDef {
  account: string;
  devices?: string;
  telemetryType?: string;
  resolution?: string;
  from?: string;
  to?: string;
  interval?: number | string;
  output?: string;
  changesOnly?: boolean;
  blockOverrides?: boolean;
}

const OUTPUTS = ['device', 'array', 'metric'] as const;
type OutputMode = (typeof OUTPUTS)[number];
/** How often "every device" re-reads the device list, so new sensors join the poll. */
const DEVICE_LIST_REFRESH_MS = 10 * 60_000;
/** The device list's place among the failing devices (no physical id can contain NUL). */
const DEVICE_LIST_SLOT = '\u0000devices';
const DEVICES_KEY = 'devices';

interface QuerySpec {
  type: unknown;
  resolution: unknown;
  from: unknown;
  to: unknown;
}

/** Scheduler key: the device and the query as configured (relative times unresolved). */
function telemetryKey(id: string, q: QuerySpec): string {
  return q.type === 'averages'
    ? ['telemetry', id, 'averages', q.resolution, q.from, q.to].join('\u0000')
    : ['telemetry', id, 'latest'].join('\u0000');
}

interface Outcome {
  id: string;
  value?: TelemetryResponse;
  error?: unknown;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftTelemetryNode(this: Node, def: TelemetryDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = attachAccount(RED, node, def.account);
    const configured: QuerySpec = {
      type: def.telemetryType || 'latest',
      resolution: def.resolution || 'daily',
      from: def.from || '-7d',
      to: def.to || 'now',
    };
    const changesOnly = def.changesOnly === true;
    const blockOverrides = def.blockOverrides === true;

    const directory = new Map<string, Device>();
    let directoryLoaded = false;
    const subscriptions = new Map<string, () => void>();
    const lastEmitted = new Map<string, string>();
    const failing = new Map<string, string>();
    const unsubscribers: Array<() => void> = [];
    let cycle: { pending: Set<string>; outcomes: Map<string, Outcome> } | undefined;

    const settings = readSettings(node, status, () => {
      const parsed = {
        output: oneOf(def.output || 'device', 'output', OUTPUTS),
        explicitIds: parseIdList(def.devices, 'devices'),
        pollMs: intervalMs(def.interval, 60),
      };
      // Check the query once now, so a bad setting shows at deploy, not at the first poll.
      telemetryQuery(configured);
      return parsed;
    });
    if (!settings) return;
    const { output, explicitIds, pollMs } = settings;

    showStartStatus(RED, status, account);
    const client = (): LeapcraftClient => clientOf(RED, account);

    // ---- building msgs ---------------------------------------------------------------

    function deviceMsg(base: Msg | undefined, id: string, value: TelemetryResponse): NodeMessage {
      const msg = (base ? RED.util.cloneMessage(base) : {}) as Msg;
      msg.topic = id;
      msg.payload = value;
      msg.physical_id = id;
      const device = directory.get(id);
      if (device) msg.device = device;
      else delete msg.device;
      return msg;
    }

    function metricMsgs(base: Msg | undefined, id: string, value: TelemetryResponse): NodeMessage[] {
      const device = directory.get(id);
      const name = typeof device?.name === 'string' && device.name.trim() !== '' ? device.name : id;
      return extractMetrics(value).map((m) => {
        const msg = (base ? RED.util.cloneMessage(base) : {}) as Msg;
        msg.topic = `${name}/${m.metric}`;
        msg.payload = m.value;
        msg.timestamp = m.timestamp;
        msg.metric = m.metric;
        msg.physical_id = id;
        if (m.unit) msg.unit = m.unit;
        if (device) msg.device = device;
        return msg;
      });
    }

    function arrayMsg(base: Msg | undefined, outcomes: Outcome[]): NodeMessage {
      const msg = (base ?? {}) as Msg;
      msg.topic = 'leapcraft/telemetry';
      msg.payload = outcomes.filter((o) => o.value !== undefined).map((o) => o.value);
      const errors = outcomes.filter((o) => o.error !== undefined).map((o) => {
        const e = toNodeError(o.error);
        return { physical_id: o.id, code: e.code, message: e.message };
      });
      if (errors.length) msg.errors = errors;
      else delete msg.errors;
      return msg;
    }

    function messagesFor(base: Msg | undefined, outcomes: Outcome[]): NodeMessage[] {
      if (output === 'array') return [arrayMsg(base, outcomes)];
      const ok = outcomes.filter((o) => o.value !== undefined);
      return ok.flatMap((o) => (output === 'metric' ? metricMsgs(base, o.id, o.value!) : [deviceMsg(base, o.id, o.value!)]));
    }

    // ---- polling ---------------------------------------------------------------------

    /** `id` undefined: the device list itself failed. */
    function reportFailure(id: string | undefined, err: unknown): void {
      const code = isLeapcraftError(err) ? err.code : 'error';
      const slot = id ?? DEVICE_LIST_SLOT;
      // Once when a device starts failing (or fails differently), not every round.
      if (failing.get(slot) !== code) {
        failing.set(slot, code);
        node.error(toNodeError(err), (id ? { topic: id, physical_id: id } : {}) as NodeMessage);
      }
      // Devices already polled keep emitting without the list (it only gives names and
      // new devices), so a failed list is a warning then, not a failure.
      if (id === undefined && subscriptions.size > 0) {
        node.status({ fill: 'yellow', shape: 'ring', text: RED._('leapcraft-telemetry.status.listStale', { count: subscriptions.size }) });
      } else {
        status.error(err);
      }
    }

    function showPollStatus(emitted: number): void {
      const listFailing = failing.has(DEVICE_LIST_SLOT);
      const devicesFailing = failing.size - (listFailing ? 1 : 0);
      if (devicesFailing > 0) {
        node.status({ fill: 'red', shape: 'ring', text: RED._('leapcraft-telemetry.status.failing', { failed: devicesFailing, count: subscriptions.size }) });
      } else if (listFailing) {
        node.status({ fill: 'yellow', shape: 'dot', text: RED._('leapcraft-telemetry.status.emittedListStale', { count: emitted, time: clock() }) });
      } else {
        status.ok(RED._('leapcraft-telemetry.status.emitted', { count: emitted, time: clock() }));
      }
    }

    function onValue(id: string, value: TelemetryResponse): void {
      failing.delete(id);
      if (output === 'array') return recordInCycle({ id, value });
      if (changesOnly) {
        const fp = readingFingerprint(value);
        if (lastEmitted.get(id) === fp) return showPollStatus(0);
        lastEmitted.set(id, fp);
      }
      const msgs = messagesFor(undefined, [{ id, value }]);
      if (msgs.length) node.send([msgs]);
      showPollStatus(msgs.length);
    }

    function onError(id: string, err: unknown): void {
      if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED') return;
      reportFailure(id, err);
      if (output === 'array') recordInCycle({ id, error: err });
    }

    /** Array mode: one msg once every polled device has answered (value or error). */
    function recordInCycle(outcome: Outcome): void {
      if (!cycle) cycle = { pending: new Set(subscriptions.keys()), outcomes: new Map() };
      cycle.outcomes.set(outcome.id, outcome);
      cycle.pending.delete(outcome.id);
      if (cycle.pending.size > 0) return;
      const outcomes = [...subscriptions.keys()].map((id) => cycle!.outcomes.get(id)).filter((o): o is Outcome => !!o);
      cycle = undefined;
      if (changesOnly) {
        const fp = readingFingerprint(outcomes.map((o) => o.value ?? null));
        if (lastEmitted.get('\u0000array') === fp) return showPollStatus(0);
        lastEmitted.set('\u0000array', fp);
      }
      node.send(arrayMsg(undefined, outcomes));
      showPollStatus(outcomes.filter((o) => o.value !== undefined).length);
    }

    function setPolledDevices(ids: string[]): void {
      if (pollMs === 0 || !account) return;
      const wanted = new Set(ids);
      for (const [id, unsubscribe] of subscriptions) {
        if (!wanted.has(id)) {
          unsubscribe();
          subscriptions.delete(id);
          cycle?.pending.delete(id);
        }
      }
      for (const id of ids) {
        if (subscriptions.has(id)) continue;
        cycle?.pending.add(id);
        subscriptions.set(id, account.getScheduler().subscribe<TelemetryResponse>(
          telemetryKey(id, configured),
          pollMs,
          // Relative from/to are resolved at each fetch, so "-24h" moves with time.
          (signal) => client().getTelemetry(id, configured, { signal }),
          { next: (value) => onValue(id, value), error: (err) => onError(id, err) },
        ));
      }
      if (subscriptions.size > 0) node.status({ fill: 'blue', shape: 'ring', text: RED._('leapcraft-telemetry.status.polling', { count: subscriptions.size }) });
    }

    function fetchDeviceList(signal: AbortSignal) {
      return client().listDevices({ signal });
    }

    function updateDirectory(list: Device[]): void {
      directory.clear();
      for (const d of list) if (typeof d.physical_id === 'string') directory.set(d.physical_id, d);
      directoryLoaded = true;
      if (explicitIds.length === 0) setPolledDevices([...directory.keys()]);
    }

    if (account && !account.configError) {
      try {
        // The device list gives names and types (msg.device, metric topics), and "every
        // device" when no ids are set. One shared subscription per account and refresh rate;
        // a failed refresh is retried within seconds rather than ten minutes later.
        unsubscribers.push(account.getScheduler().subscribe<Device[]>(DEVICES_KEY, DEVICE_LIST_REFRESH_MS, fetchDeviceList, {
          next: (list) => {
            failing.delete(DEVICE_LIST_SLOT);
            updateDirectory(list);
          },
          error: (err) => {
            if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED') return;
            reportFailure(undefined, err);
          },
        }, { retryFailures: true }));
        if (explicitIds.length > 0) setPolledDevices(explicitIds);
        else if (pollMs > 0) node.status({ fill: 'grey', shape: 'ring', text: RED._('leapcraft-telemetry.status.waiting') });
        if (pollMs === 0) node.status({ fill: 'grey', shape: 'ring', text: RED._('leapcraft-telemetry.status.manual') });
      } catch (err) {
        status.error(err);
        node.error(toNodeError(err));
      }
    }

    node.on('close', (_removed: boolean, done: () => void) => {
      for (const unsubscribe of subscriptions.values()) unsubscribe();
      subscriptions.clear();
      for (const unsubscribe of unsubscribers.splice(0)) unsubscribe();
      cycle = undefined;
      done();
    });

    // ---- on input --------------------------------------------------------------------

    handleInput(RED, node, status, async (msg, send, signal) => {
      // Every device of the msg waits on this one signal: a thousand listeners are expected,
      // and Node's leak warning (from 11 on) would fill the log at every msg.
      setMaxListeners(0, signal);
      const c = client();
      const o: Partial<Record<string, unknown>> = blockOverrides ? {} : msg;
      const spec: QuerySpec = {
        type: o.type ?? configured.type,
        resolution: o.resolution ?? configured.resolution,
        from: o.from ?? configured.from,
        to: o.to ?? configured.to,
      };
      const query: TelemetryQuery = telemetryQuery(spec);
      let ids = o.physical_id !== undefined && o.physical_id !== null ? idsFromMsg(o.physical_id, 'msg.physical_id') : explicitIds;
      const scheduler = account!.getScheduler();
      status.requesting();
      const readings = new Map<string, Promise<Outcome>>();
      const read = (id: string): Promise<Outcome> => {
        let reading = readings.get(id);
        if (!reading) {
          reading = scheduler.fetchNow(telemetryKey(id, spec), (s) => c.getTelemetry(id, query, { signal: s }), signal).then(
            (value) => ({ id, value }),
            (error: unknown) => ({ id, error }),
          );
          readings.set(id, reading);
        }
        return reading;
      };
      if (ids.length === 0) {
        // Every device: the readings of a page start while the next page of the list loads,
        // so walking a long list adds no round trips of its own to the msg. (When the list is
        // already being fetched for someone else, the readings start once it is complete; when
        // it fails half-way, the msg fails and readings already under way finish unused.)
        const walk = (s: AbortSignal) => c.listDevices({
          signal: s,
          onPage: (page) => { for (const d of page) if (typeof d.physical_id === 'string') void read(d.physical_id); },
        });
        updateDirectory(await scheduler.fetchNow(DEVICES_KEY, walk, signal));
        ids = [...directory.keys()];
      } else if (!directoryLoaded) {
        // Only for names in msg.device: the readings do not depend on it.
        await scheduler.fetchNow(DEVICES_KEY, fetchDeviceList, signal).then(updateDirectory, () => undefined);
      }
      const outcomes: Outcome[] = await Promise.all(ids.map(read));
      const failed = outcomes.filter((x) => x.error !== undefined);
      if (signal.aborted) return;
      // A single device that failed is the msg's error; with several, each failure goes
      // to Catch on its own and the devices that answered are still sent.
      if (ids.length === 1 && failed.length === 1) throw failed[0].error;
      if (output !== 'array') {
        for (const f of failed) {
          const errMsg = RED.util.cloneMessage(msg) as Msg;
          errMsg.physical_id = f.id;
          node.error(toNodeError(f.error), errMsg);
        }
      }
      const msgs = messagesFor(msg, outcomes);
      if (msgs.length) send([msgs]);
      status.ok(RED._('leapcraft-telemetry.status.emitted', { count: msgs.length, time: clock() }));
    });
  }

  RED.nodes.registerType('leapcraft-telemetry', LeapcraftTelemetryNode as never);
};
