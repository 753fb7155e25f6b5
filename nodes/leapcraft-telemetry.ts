/**
 * leapcraft-telemetry: readings of the account's devices, polled on the account's shared
 * scheduler (so several nodes watching the same devices cost one request each per
 * interval) or fetched when a msg arrives, emitted per device, as one array, as one msg
 * per metric for charts and gauges, or as points for a database (nodes/telemetry/history.ts); an
 * optional second output tells each device's health (nodes/telemetry/health.ts).
 * What the msgs look like lives in lib/telemetry/ and lib/history/.
 */
import {
  AnswerMeta, DeviceDirectory, Failure, LeapcraftClient, messagesFor, Outcome, PolledDevices, PollEmission, PollHealth, PollOutput,
  pollStatusView, readingTime, readOnDemand, subscribeDeviceList, telemetryKey, telemetryQuery, TelemetryResponse, UnreadableAnswers,
} from '../lib';
import { clientOf } from './common/account';
import { startAccountNode } from './common/start';
import { toNodeError } from './common/errors';
import { idsFromMsg } from './common/ids';
import { handleInput } from './common/input';
import { msgOverride, withOverrides } from './common/overrides';
import { clock } from './common/time';
import type { Msg, Node, NodeAPI, NodeMessage } from './common/types';
import { HealthOutput } from './telemetry/health';
import { HistoryOutput } from './telemetry/history';
import { configuredQuery, readTelemetrySettings, TelemetryDef } from './telemetry/settings';

export = function register(RED: NodeAPI): void {
  function LeapcraftTelemetryNode(this: Node, def: TelemetryDef) {
    const configured = configuredQuery(def);
    const started = startAccountNode(RED, this, def, () => readTelemetrySettings(def));
    if (!started) return;
    const { node, status, account, settings: { output, emit, replicas, explicitIds, pollMs, history: historySettings, health: healthSettings } } = started;
    status.polls(pollMs);
    // Poll just after each sensor's next report rather than on a fixed beat (latest readings only).
    const cadenceAware = def.cadence !== false && configured.type === 'latest';
    const client = (): LeapcraftClient => clientOf(RED, account);
    const text = (key: string, params?: Record<string, string | number>) => RED._(`leapcraft-telemetry.status.${key}`, params);
    const directory = new DeviceDirectory();
    const health = new PollHealth();
    const unreadableAnswers = new UnreadableAnswers();
    const shaping = { clone: (msg: Msg) => RED.util.cloneMessage(msg) as Msg, deviceOf: (id: string) => directory.get(id) };
    const pollOutput: PollOutput<Msg> = new PollOutput(output, def.changesOnly === true, () => polled.ids(), shaping, emit);
    const history = historySettings && new HistoryOutput({ RED, node, status, account, settings: historySettings, directory, shaping, explicitIds, blockOverrides: def.blockOverrides === true });
    const deviceHealth = healthSettings && account && configured.type === 'latest'
      ? new HealthOutput({ RED, node, account, settings: healthSettings, directory, replicas, pollMs, keyOf: (id) => telemetryKey(id, configured) }) : undefined;
    let unsubscribeList: (() => void) | undefined;

    /** Metric mode: an answer with no reading the node can read is said once per shape, and shown. */
    function unreadable(outcome: Outcome): boolean {
      const found = output === 'metric' && outcome.value !== undefined ? unreadableAnswers.check(outcome.value) : undefined;
      if (found?.first) node.warn(RED._('leapcraft-telemetry.warn.noReadings', { id: outcome.id, shape: found.shape }));
      if (found) status.warning(text('noReadings'));
      return found !== undefined;
    }

    // The history output sends each reading once, whenever the poll brings it (its memory decides).
    function onAnswer(outcome: Outcome, meta?: AnswerMeta): void {
      deviceHealth?.answer(outcome);
      if (history) void history.answer(outcome).then((e) => shown(outcome, e));
      else shown(outcome, pollOutput.answer(outcome, meta));
    }
    function shown(outcome: Outcome, emission: PollEmission<Msg> | undefined): void {
      if (!emission) return;
      // One replica only: the others keep the same memory (what was sent) but send nothing.
      if (replicas === 'one' && !account!.acting()) return;
      if (emission.msgs.length) node.send([emission.msgs]);
      if (unreadable(outcome)) return;
      const view = pollStatusView(health.state(), { msgs: emission.msgs.length, readings: emission.emitted }, polled.size, clock());
      status[view.kind](text(view.key, view.params));
    }

    /** `id` undefined: the device list itself failed. The scheduler says when a failure is news. */
    function reportFailure(id: string | undefined, err: unknown, failure: Failure): void {
      if (failure.first) node.error(toNodeError(err), (id ? { topic: id, physical_id: id } : {}) as NodeMessage);
      // Devices already polled keep emitting without the list (it only gives names and
      // new devices), so a failed list is a warning then, not a failure.
      if (id === undefined && polled.size > 0) status.warning(text('listStale', { count: polled.size }));
      else status.error(err);
    }

    const polled: PolledDevices = new PolledDevices((id) => account!.getScheduler().subscribe<TelemetryResponse>(
      // Relative from/to are resolved at each fetch, so "-24h" moves with time.
      telemetryKey(id, configured), pollMs, (signal) => client().getTelemetry(id, configured, { signal }), {
        next: (value, _key, meta) => onAnswer({ id, value }, meta),
        error: (err, failure) => { health.deviceFailed(id); reportFailure(id, err, failure); onAnswer({ id, error: err }); },
        recovered: () => health.deviceRecovered(id),
      }, cadenceAware ? { cadence: { timeOf: readingTime } } : {}), {
      joined: (id) => pollOutput.joined(id),
      // A failing device that leaves the list no longer counts as failing.
      left: (id) => { health.deviceRecovered(id); pollOutput.left(id); deviceHealth?.forget(id); },
    });

    function setPolledDevices(ids: string[]): void {
      if (pollMs === 0 || !account) return;
      polled.set(ids);
      if (polled.size > 0) status.busy(text('polling', { count: polled.size }));
    }
    const pollEveryDevice = () => { if (explicitIds.length === 0) setPolledDevices(directory.ids()); };

    if (account && !account.configError) {
      try {
        // The device list gives names and types, and "every device" when no ids are set; one
        // subscription per account, a failed refresh retried within seconds, not ten minutes.
        unsubscribeList = subscribeDeviceList(account.getScheduler(), client, {
          next: (list) => { directory.update(list); pollEveryDevice(); },
          error: (err, failure) => { health.listFailed(); reportFailure(undefined, err, failure); },
          recovered: () => health.listRecovered(),
        });
        if (explicitIds.length > 0) setPolledDevices(explicitIds);
        else if (pollMs > 0) status.waiting(text('waiting'));
        if (pollMs === 0) status.waiting(text('manual'));
      } catch (err) {
        status.error(err);
        node.error(toNodeError(err));
      }
    }

    node.on('close', (removed: boolean, done: () => void) => {
      polled.clear(); unsubscribeList?.(); pollOutput.reset(); deviceHealth?.close(removed);
      void Promise.resolve(history?.close(removed)).then(done);
    });

    handleInput(RED, node, status, async (msg, send, signal) => {
      if (history && await history.input(msg, (msgs) => send([msgs]), signal)) return;
      const c = client();
      const spec = withOverrides(msg, configured, def.blockOverrides === true);
      const query = telemetryQuery(spec);
      const physicalId = msgOverride(msg, 'physical_id', def.blockOverrides === true);
      const ids = physicalId !== undefined ? idsFromMsg(physicalId, 'msg.physical_id') : explicitIds;
      status.requesting();
      const outcomes = await readOnDemand({ scheduler: account!.getScheduler(), client: c, spec, query, ids, directory, listUpdated: pollEveryDevice, signal });
      if (signal.aborted) return;
      const failed = outcomes.filter((o) => o.error !== undefined);
      // A single device that failed is the msg's error; with several, each failure goes
      // to Catch on its own and the devices that answered are still sent.
      if (outcomes.length === 1 && failed.length === 1) throw failed[0].error;
      if (output !== 'array') for (const f of failed) node.error(toNodeError(f.error), { ...shaping.clone(msg), physical_id: f.id });
      const msgs = history ? await history.messages(msg, outcomes) : messagesFor(output, msg, outcomes, shaping);
      pollOutput.markFresh(outcomes, msgs);
      if (msgs.length) send([msgs]);
      const readings = output === 'array' ? outcomes.length - failed.length : msgs.length;
      const view = pollStatusView({ state: 'ok' }, { msgs: msgs.length, readings }, outcomes.length, clock());
      if (!outcomes.map(unreadable).includes(true)) status.ok(text(view.key, view.params));
    });
  }

  RED.nodes.registerType('leapcraft-telemetry', LeapcraftTelemetryNode as never);
};
