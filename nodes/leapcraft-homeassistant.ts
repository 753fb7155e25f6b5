/**
 * leapcraft-homeassistant: every Leapcraft sensor as a Home Assistant device, through MQTT
 * discovery. Telemetry, device lists and alerts in; msgs for the core `mqtt out` node out
 * (`msg.topic`, `msg.payload`, `msg.retain`, `msg.qos`). Every decision lives in
 * lib/homeassistant/ (service.ts: timers and readiness; bridge.ts: what to publish; settings.ts,
 * status.ts) and the gateway look-up in lib/api/topologies.ts; this node wires them to
 * Node-RED: its account, context store, events, status and msgs.
 */
import {
  Device, DEVICE_LIST_KEY, HA_DEFAULT_MAX_DEVICES, HA_TOPOLOGY_KEY, HA_TOPOLOGY_REFRESH_MS, HaBridgeService, HaMessage,
  HaRecord, HaSettingsInput, HaStatusTracker, Listener, listTopologiesWithDevices, parseHaInput, parseHaSettings, readHaRecord, subscribeDeviceList, Topology,
} from '../lib';
import { clientOf, findAccount } from './common/account';
import { nodeMemory } from './common/context';
import { noAccountError, toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import { clock } from './common/time';
import type { Node, NodeAPI, NodeDef, NodeMessage, Send } from './common/types';

type HomeAssistantDef = NodeDef & HaSettingsInput & { account?: string };
const CONTEXT_KEY = 'leapcraft-homeassistant';

export = function register(RED: NodeAPI): void {
  /** What each bridge announced, by node id, carried across redeploys (see nodes/common/context.ts). */
  const carried = new Map<string, HaRecord>();

  function LeapcraftHomeAssistantNode(this: Node, def: HomeAssistantDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const settings = readSettings(node, status, () => parseHaSettings(def));
    if (!settings) return;

    // The account is optional: it tells the gateways, the device list (clean-up) and the API's health.
    const account = def.account ? findAccount(RED, def.account) : undefined;
    const accountProblem = def.account ? (account ? account.configError : noAccountError(RED)) : undefined;
    const usable = account && !accountProblem ? account : undefined;
    const memory = nodeMemory<HaRecord>(node, CONTEXT_KEY, settings.store, carried, (v) => readHaRecord(v, HA_DEFAULT_MAX_DEVICES));
    const tracker = new HaStatusTracker();
    const warn = (key: string, err: unknown) => node.warn(RED._(`leapcraft-homeassistant.warn.${key}`, { message: toNodeError(err).message }));

    let closed = false;
    // With the account shared through Redis, only the replica acting for it publishes (discovery,
    // states, alert events); the others keep the same record and stay silent.
    function emit(msgs: HaMessage[], send?: Send): void {
      if (usable && !usable.acting()) return;
      if (msgs.length && (send || !closed)) (send ?? ((m) => node.send(m as never)))([msgs as unknown as NodeMessage[]]);
    }
    if (usable) {
      usable.register(node, (view) => status.account(view));
      node.on('close', () => usable.deregister(node));
    }

    function showStatus(): void {
      const { view, warnTooManyKeys } = tracker.update(service.bridge.stats());
      if (warnTooManyKeys) node.warn(RED._('leapcraft-homeassistant.warn.tooManyKeys'));
      if (view.kind === 'waiting') return status.waiting(RED._('leapcraft-homeassistant.status.waiting'));
      const { devices, entities, offline, lastStateAt } = view.params;
      const params = { devices, entities, offline, time: lastStateAt ? clock(lastStateAt) : '-' };
      if (view.kind === 'offline') status.warning(RED._('leapcraft-homeassistant.status.offline', params));
      else status.ok(RED._('leapcraft-homeassistant.status.announced', params));
    }

    let saveWarned = false;
    const service = new HaBridgeService(settings, {
      send: (msgs) => emit(msgs),
      changed: showStatus,
      save: (record) => memory.save(record).then(() => { saveWarned = false; }),
      saveFailed: (err) => { if (!saveWarned) warn('store', err); saveWarned = true; },
      rateLimitRemainingMs: usable ? () => usable.getClient().rateLimitRemainingMs() : undefined,
    }, usable !== undefined);
    memory.load().then((stored) => service.load(stored), (err: unknown) => {
      warn('store', err);
      service.load(undefined);
    });

    // ---- the account: gateways (via_device), the device list (clean-up), the API's health ------

    const client = () => clientOf(RED, usable);
    const listDevices = (signal?: AbortSignal) => client().listDevices({ signal });
    const unsubscribe: Array<() => void> = [];
    /** `start` subscribes the listener on the account's scheduler (retrying failures soon). */
    function watch<T>(start: (listener: Listener<T>) => () => void, next: (value: T) => void, warnKey: string): void {
      try {
        unsubscribe.push(start({
          next,
          // Not fatal: the bridge goes on without (the gateways, the clean-up) until a retry works.
          error: (err, failure) => {
            if (failure.first) warn(warnKey, err);
            service.accountFailed(err, failure);
          },
          recovered: () => service.accountRecovered(),
        }));
      } catch (err) {
        warn(warnKey, err);
        service.accountFailed(err, { code: toNodeError(err).code ?? 'error', since: Date.now() });
      }
    }
    if (usable) {
      const scheduler = usable.getScheduler();
      watch<Topology[]>((l) => scheduler.subscribe(HA_TOPOLOGY_KEY, HA_TOPOLOGY_REFRESH_MS, (signal) => listTopologiesWithDevices(client(), { signal }), l, { retryFailures: true }),
        (list) => service.topologies(list), 'topology');
      if (settings.removeAfterMs > 0) watch<Device[]>((l) => subscribeDeviceList(scheduler, client, l), (list) => service.deviceList(list), 'deviceList');
    } else if (accountProblem) {
      node.warn(RED._('leapcraft-homeassistant.warn.account', { message: accountProblem.message }));
    }

    /** A device whose poll answered "not found" may have left the account: the device list now, shared with any read under way. */
    function checkDeviceList(): void {
      usable!.getScheduler().fetchNow<Device[]>(DEVICE_LIST_KEY, listDevices).then(
        (list) => { if (!closed) service.deviceList(list); },
        (err: unknown) => warn('deviceList', err),
      );
    }

    // The bridge is online once the flows run (its msgs then reach the mqtt out node).
    const onFlowsStarted = () => service.flowsStarted();
    RED.events.once('flows:started', onFlowsStarted);

    node.on('close', (removed: boolean, done: () => void) => {
      // Best effort (the mqtt out node may be stopping too): the broker's last will, set to
      // the same topic and payload, covers the rest.
      emit(service.close());
      closed = true;
      RED.events.removeListener('flows:started', onFlowsStarted);
      for (const stop of unsubscribe) stop();
      if (removed) memory.forget();
      done();
    });

    status.waiting(RED._('leapcraft-homeassistant.status.waiting'));
    if (accountProblem) status.error(accountProblem);

    handleInput(RED, node, status, async (msg, send, signal) => {
      // Checked at once: a bad msg is refused before it waits for anything, and nothing is sent.
      const command = parseHaInput(msg, settings.birthTopic);
      await service.ready;
      if (signal.aborted || closed) return;
      emit(service.handle(command), send);
      if (usable && service.wantsDeviceList(command)) checkDeviceList();
    });
  }

  RED.nodes.registerType('leapcraft-homeassistant', LeapcraftHomeAssistantNode as never);
};
