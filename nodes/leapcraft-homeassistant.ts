/**
 * leapcraft-homeassistant: every Leapcraft sensor as a Home Assistant device, through MQTT
 * discovery. Telemetry (and device lists) in; msgs for the core `mqtt out` node out
 * (`msg.topic`, `msg.payload`, `msg.retain`, `msg.qos`). What to publish is decided by
 * lib/homeassistant/bridge.ts; this node adds the timers (stale data, re-announce after a
 * birth message), the gateway look-up for via_device and the status.
 */
import {
  HaGatewayIndex, HaMessage, HomeAssistantBridge, haTopicSetting, integerInRange, isLeapcraftError, parseHaInput, Topology,
} from '../lib';
import { packageInfo } from '../lib/package';
import { attachAccount, clientOf } from './common/account';
import { noAccountError, toNodeError } from './common/errors';
import { handleInput } from './common/input';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import { clock } from './common/time';
import type { Node, NodeAPI, NodeDef, NodeMessage, Send } from './common/types';

interface HomeAssistantDef extends NodeDef {
  account?: string;
  discoveryPrefix?: string;
  baseTopic?: string;
  birthTopic?: string;
  interval?: number | string;
  qos?: number | string;
  announceDelay?: number | string;
}

/** A device with no reading for this many expected intervals is offline; Home Assistant expires its values then too. */
const STALE_INTERVALS = 3;
/** Gateways rarely change: the topologies are read once an hour. */
const TOPOLOGY_REFRESH_MS = 60 * 60_000;
const TOPOLOGY_KEY = 'homeassistant\u0000topologies';
/** At most this many gateways' details are read when the topology list does not name their devices. */
const MAX_GATEWAY_DETAILS = 100;
/** How long the first msgs wait for the gateways (so the first announcement already has via_device). */
const TOPOLOGY_WAIT_MS = 5000;

function settingOr(value: unknown, fallback: number | string): unknown {
  return value === undefined || value === null || value === '' ? fallback : value;
}

export = function register(RED: NodeAPI): void {
  const info = packageInfo;

  function LeapcraftHomeAssistantNode(this: Node, def: HomeAssistantDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const settings = readSettings(node, status, () => ({
      discoveryPrefix: haTopicSetting(settingOr(def.discoveryPrefix, 'homeassistant'), 'discoveryPrefix'),
      baseTopic: haTopicSetting(settingOr(def.baseTopic, 'leapcraft'), 'baseTopic'),
      birthTopic: haTopicSetting(settingOr(def.birthTopic, 'homeassistant/status'), 'birthTopic'),
      intervalS: integerInRange(settingOr(def.interval, 60), 'interval', 0, 604_800),
      qos: integerInRange(settingOr(def.qos, 1), 'qos', 0, 2) as 0 | 1 | 2,
      announceDelayS: integerInRange(settingOr(def.announceDelay, 5), 'announceDelay', 0, 60),
    }));
    if (!settings) return;
    const { birthTopic, intervalS, announceDelayS } = settings;

    // The account is optional: it only tells which gateway each sensor reports through.
    const account = def.account ? attachAccount(RED, node, def.account) : undefined;
    const accountProblem = def.account ? (account ? account.configError : noAccountError(RED)) : undefined;

    const bridge = new HomeAssistantBridge({
      discoveryPrefix: settings.discoveryPrefix,
      baseTopic: settings.baseTopic,
      qos: settings.qos,
      origin: { name: info.name, ...(info.version ? { sw_version: info.version } : {}), ...(info.homepage ? { support_url: info.homepage } : {}) },
      ...(intervalS > 0 ? { expireAfterS: STALE_INTERVALS * intervalS } : {}),
    });

    let closed = false;
    const emitFromTimer: Send = (msgs) => {
      if (!closed) node.send(msgs as never);
    };
    function emit(msgs: HaMessage[], send: Send = emitFromTimer): void {
      if (msgs.length) send([msgs as unknown as NodeMessage[]]);
    }

    let warnedSkipped = 0;
    function showStatus(): void {
      const s = bridge.stats();
      if (s.skippedKeys > warnedSkipped && warnedSkipped === 0) node.warn(RED._('leapcraft-homeassistant.warn.tooManyKeys'));
      warnedSkipped = s.skippedKeys;
      if (s.devices === 0) {
        node.status({ fill: 'grey', shape: 'ring', text: RED._('leapcraft-homeassistant.status.waiting') });
        return;
      }
      const params = { devices: s.devices, entities: s.entities, offline: s.offline, time: s.lastStateAt ? clock(s.lastStateAt) : '-' };
      if (s.offline > 0) node.status({ fill: 'yellow', shape: 'ring', text: RED._('leapcraft-homeassistant.status.offline', params) });
      else node.status({ fill: 'green', shape: 'dot', text: RED._('leapcraft-homeassistant.status.announced', params) });
    }

    // ---- gateways (via_device), from the account's topologies ----------------------------------

    let markReady = () => {};
    const ready = new Promise<void>((resolve) => { markReady = resolve; });
    let readyTimer: NodeJS.Timeout | undefined;
    let unsubscribeTopologies: (() => void) | undefined;
    let topologyProblem: string | undefined;

    async function fetchTopologies(signal: AbortSignal): Promise<Topology[]> {
      const client = clientOf(RED, account);
      const list = await client.listTopologies({ signal });
      if (HaGatewayIndex.listsDevices(list)) return list;
      // The list does not say which sensors hang off each gateway: its details do.
      const detailed = await Promise.all(list.slice(0, MAX_GATEWAY_DETAILS).map((t) => {
        const id = t && typeof t === 'object' ? t.gateway_id : undefined;
        if (typeof id !== 'string' && typeof id !== 'number') return Promise.resolve(t);
        return client.getTopology(id, { signal }).then((details) => ({ ...t, ...details }), () => t);
      }));
      return [...detailed, ...list.slice(MAX_GATEWAY_DETAILS)];
    }

    if (account && !accountProblem) {
      readyTimer = setTimeout(markReady, TOPOLOGY_WAIT_MS);
      try {
        unsubscribeTopologies = account.getScheduler().subscribe<Topology[]>(TOPOLOGY_KEY, TOPOLOGY_REFRESH_MS, fetchTopologies, {
          next: (list) => {
            topologyProblem = undefined;
            emit(bridge.setGatewayIndex(new HaGatewayIndex(list)));
            markReady();
            showStatus();
          },
          error: (err) => {
            if (isLeapcraftError(err) && err.code === 'LEAPCRAFT_ABORTED') return;
            // Not fatal: the sensors are bridged without via_device until a retry works.
            const e = toNodeError(err);
            if (topologyProblem !== e.code) node.warn(RED._('leapcraft-homeassistant.warn.topology', { message: e.message }));
            topologyProblem = e.code;
            markReady();
          },
        }, { retryFailures: true });
      } catch (err) {
        node.warn(RED._('leapcraft-homeassistant.warn.topology', { message: toNodeError(err).message }));
        markReady();
      }
    } else {
      markReady();
      if (accountProblem) node.warn(RED._('leapcraft-homeassistant.warn.account', { message: accountProblem.message }));
    }

    // ---- timers: stale devices, re-announcing ---------------------------------------------------

    let staleTimer: NodeJS.Timeout | undefined;
    if (intervalS > 0) {
      const maxAgeMs = STALE_INTERVALS * intervalS * 1000;
      // One timer for the node, whatever the number of devices; checking every half interval
      // (1 s to 1 min) marks a device offline at most that late.
      const everyMs = Math.min(60_000, Math.max(1000, (intervalS * 1000) / 2));
      staleTimer = setInterval(() => {
        const msgs = bridge.markStale(Date.now(), maxAgeMs);
        if (msgs.length) {
          emit(msgs);
          showStatus();
        }
      }, everyMs);
    }

    let announceTimer: NodeJS.Timeout | undefined;
    /**
     * Home Assistant came online or the broker reconnected: announce everything again after a
     * random 1 s .. announceDelay, so a restart does not meet every bridge at the same instant.
     * Several triggers within the delay give one announcement.
     */
    function scheduleAnnounce(): void {
      if (announceTimer || closed) return;
      const delayMs = announceDelayS === 0 ? 0 : 1000 + Math.random() * (announceDelayS - 1) * 1000;
      announceTimer = setTimeout(() => {
        announceTimer = undefined;
        void ready.then(() => {
          emit(bridge.announceAll());
          showStatus();
        });
      }, delayMs);
    }

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

    node.status({ fill: 'grey', shape: 'ring', text: RED._('leapcraft-homeassistant.status.waiting') });
    if (accountProblem) status.error(accountProblem);

    // ---- input ----------------------------------------------------------------------------

    handleInput(RED, node, status, async (msg, send, signal) => {
      // Checked at once: a bad msg is refused before it waits for anything, and nothing is sent.
      const command = parseHaInput(msg, birthTopic);
      await ready;
      if (signal.aborted || closed) return;
      switch (command.kind) {
        case 'data':
          emit(bridge.addData(command.devices, command.readings, Date.now()), send);
          break;
        case 'failed':
          emit(bridge.markFailed(command.ids), send);
          break;
        case 'birth':
          // Home Assistant going offline needs nothing: its own last will says so.
          if (command.online) scheduleAnnounce();
          break;
        case 'connected':
          scheduleAnnounce();
          break;
        case 'announce':
          emit(bridge.announceAll(), send);
          break;
        case 'remove':
          emit(bridge.remove(command.ids), send);
          break;
        case 'ignore':
          break;
      }
      showStatus();
    });
  }

  RED.nodes.registerType('leapcraft-homeassistant', LeapcraftHomeAssistantNode as never);
};
