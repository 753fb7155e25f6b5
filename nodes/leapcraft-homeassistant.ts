/**
 * leapcraft-homeassistant: every Leapcraft sensor as a Home Assistant device, through MQTT
 * discovery. Telemetry (and device lists) in; msgs for the core `mqtt out` node out
 * (`msg.topic`, `msg.payload`, `msg.retain`, `msg.qos`). Every decision lives in
 * lib/homeassistant/ (settings.ts, bridge.ts, status.ts) and the gateway look-up in
 * lib/api/topologies.ts; this node wires them to Node-RED: its timers, events and status.
 */
import {
  HA_TOPOLOGY_KEY, HA_TOPOLOGY_REFRESH_MS, HA_TOPOLOGY_WAIT_MS, haAnnounceDelayMs, haBridgeOptions, HaGatewayIndex, HaMessage,
  HaSettingsInput, haStaleCheck, HaStatusTracker, HomeAssistantBridge, listTopologiesWithDevices, parseHaInput, parseHaSettings, Topology,
} from '../lib';
import { findAccount, clientOf } from './common/account';
import { noAccountError, toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import { clock } from './common/time';
import type { Node, NodeAPI, NodeDef, NodeMessage, Send } from './common/types';

type HomeAssistantDef = NodeDef & HaSettingsInput & { account?: string };

export = function register(RED: NodeAPI): void {
  function LeapcraftHomeAssistantNode(this: Node, def: HomeAssistantDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const settings = readSettings(node, status, () => parseHaSettings(def));
    if (!settings) return;

    // The account is optional: it only tells which gateway each sensor reports through.
    const account = def.account ? findAccount(RED, def.account) : undefined;
    const accountProblem = def.account ? (account ? account.configError : noAccountError(RED)) : undefined;
    const bridge = new HomeAssistantBridge(haBridgeOptions(settings));
    const tracker = new HaStatusTracker();

    let closed = false;
    const emitFromTimer: Send = (msgs) => {
      if (!closed) node.send(msgs as never);
    };
    function emit(msgs: HaMessage[], send: Send = emitFromTimer): void {
      if (msgs.length) send([msgs as unknown as NodeMessage[]]);
    }

    function showStatus(): void {
      const { view, warnTooManyKeys } = tracker.update(bridge.stats());
      if (warnTooManyKeys) node.warn(RED._('leapcraft-homeassistant.warn.tooManyKeys'));
      if (view.kind === 'waiting') return status.waiting(RED._('leapcraft-homeassistant.status.waiting'));
      const { devices, entities, offline, lastStateAt } = view.params;
      const params = { devices, entities, offline, time: lastStateAt ? clock(lastStateAt) : '-' };
      if (view.kind === 'offline') status.warning(RED._('leapcraft-homeassistant.status.offline', params));
      else status.ok(RED._('leapcraft-homeassistant.status.announced', params));
    }

    // ---- gateways (via_device), from the account's topologies ----------------------------------

    let markReady = () => {};
    const ready = new Promise<void>((resolve) => { markReady = resolve; });
    let readyTimer: NodeJS.Timeout | undefined;
    let unsubscribeTopologies: (() => void) | undefined;
    const warnTopology = (err: unknown) => node.warn(RED._('leapcraft-homeassistant.warn.topology', { message: toNodeError(err).message }));

    if (account && !accountProblem) {
      readyTimer = setTimeout(markReady, HA_TOPOLOGY_WAIT_MS);
      const fetchTopologies = (signal: AbortSignal) => listTopologiesWithDevices(clientOf(RED, account), { signal });
      try {
        unsubscribeTopologies = account.getScheduler().subscribe<Topology[]>(HA_TOPOLOGY_KEY, HA_TOPOLOGY_REFRESH_MS, fetchTopologies, {
          next: (list) => {
            emit(bridge.setGatewayIndex(new HaGatewayIndex(list)));
            markReady();
            showStatus();
          },
          // Not fatal: the sensors are bridged without via_device (or with the last gateways) until a retry works.
          error: (err, failure) => {
            if (failure.first) warnTopology(err);
            markReady();
          },
        }, { retryFailures: true });
      } catch (err) {
        warnTopology(err);
        markReady();
      }
    } else {
      markReady();
      if (accountProblem) node.warn(RED._('leapcraft-homeassistant.warn.account', { message: accountProblem.message }));
    }

    // ---- timers: stale devices, re-announcing ---------------------------------------------------

    const stale = haStaleCheck(settings);
    const staleTimer = stale && setInterval(() => {
      const msgs = bridge.markStale(Date.now(), stale.maxAgeMs);
      if (msgs.length) {
        emit(msgs);
        showStatus();
      }
    }, stale.everyMs);

    let announceTimer: NodeJS.Timeout | undefined;
    /** Announces everything again after the delay; several triggers within it give one announcement. */
    const scheduleAnnounce = (): void => {
      if (announceTimer || closed) return;
      announceTimer = setTimeout(() => {
        announceTimer = undefined;
        void ready.then(() => {
          emit(bridge.announceAll());
          showStatus();
        });
      }, haAnnounceDelayMs(settings));
    };

    // The bridge is online once the flows run (its msgs then reach the mqtt out node).
    const onFlowsStarted = () => emit([bridge.bridgeAvailability(true)]);
    RED.events.once('flows:started', onFlowsStarted);

    node.on('close', (_removed: boolean, done: () => void) => {
      // Best effort (the mqtt out node may be stopping too): the broker's last will, set to
      // the same topic and payload, covers the rest.
      emit([bridge.bridgeAvailability(false)]);
      closed = true;
      RED.events.removeListener('flows:started', onFlowsStarted);
      clearTimeout(readyTimer);
      clearTimeout(announceTimer);
      clearInterval(staleTimer);
      unsubscribeTopologies?.();
      markReady();
      done();
    });

    status.waiting(RED._('leapcraft-homeassistant.status.waiting'));
    if (accountProblem) status.error(accountProblem);

    handleInput(RED, node, status, async (msg, send, signal) => {
      // Checked at once: a bad msg is refused before it waits for anything, and nothing is sent.
      const command = parseHaInput(msg, settings.birthTopic);
      await ready;
      if (signal.aborted || closed) return;
      const { messages, reannounce } = bridge.apply(command, Date.now());
      emit(messages, send);
      if (reannounce) scheduleAnnounce();
      showStatus();
    });
  }

  RED.nodes.registerType('leapcraft-homeassistant', LeapcraftHomeAssistantNode as never);
};
