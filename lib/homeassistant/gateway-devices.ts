/**
 * The gateways as Home Assistant devices of their own: each announced once (again when its
 * name changes or after an announcement of everything), with one diagnostic entity, how many
 * sensors report through it (the topology's count, else the sensors announced behind it), and
 * removed when no announced sensor is behind it any more.
 */
import { haGatewayComponents, haGatewayConfig, HaConfigContext, haGatewayState } from './device-configs';
import { haDeviceKey, haGatewayNodeId } from './ids';
import { haComponentMap, HaMessage, HaPublisher } from './publisher';
import { HaAnnouncedRecord, HaDiscoveryMode } from './record';
import { HaGateway } from './topology';

interface Gateway {
  gateway: HaGateway;
  key: string;
  nodeId: string;
  announcedConfig?: string;
  lastState?: string;
}

export class HaGatewayDevices {
  /** Every entry here was announced (one is made only to announce it). */
  private readonly gateways = new Map<string, Gateway>();
  /** Sensors announced behind each gateway, for its count when the topology does not give one. */
  private readonly members = new Map<string, Set<string>>();

  constructor(private readonly ctx: HaConfigContext, private readonly publisher: HaPublisher, private readonly record: HaAnnouncedRecord) {}

  get size(): number {
    return this.gateways.size;
  }

  /** A sensor now reports through `to` (or none) instead of `from`. */
  move(physicalId: string, from: string | undefined, to: string | undefined): void {
    if (from === to) return;
    if (from) this.members.get(from)?.delete(physicalId);
    if (to) {
      let set = this.members.get(to);
      if (!set) this.members.set(to, (set = new Set()));
      set.add(physicalId);
    }
  }

  /** Its config when it changed (or is in the other form), and its count when that changed. */
  announce(gateway: HaGateway): HaMessage[] {
    let g = this.gateways.get(gateway.id);
    if (!g) {
      const key = haDeviceKey(gateway.id);
      g = { gateway, key, nodeId: haGatewayNodeId(key) };
      this.gateways.set(gateway.id, g);
    }
    g.gateway = gateway;
    const out: HaMessage[] = [];
    const about = { gateway_id: gateway.id };
    const config = haGatewayConfig(gateway, g.key, g.nodeId, this.ctx);
    const text = JSON.stringify(config);
    const mode = this.record.gatewayMode(gateway.id);
    if (g.announcedConfig !== text || mode !== this.publisher.mode) {
      g.announcedConfig = text;
      out.push(...this.publisher.whole(g.nodeId, config, mode, about));
      this.record.setGatewayMode(gateway.id, this.publisher.mode);
    }
    const state = haGatewayState(gateway.sensors ?? this.members.get(gateway.id)?.size ?? 0);
    if (g.lastState !== state) {
      g.lastState = state;
      out.push(this.publisher.message(this.ctx.topics.gatewayState(g.key), state, 'state', about));
    }
    return out;
  }

  /** A known gateway again (a sensor left it: one less behind it). */
  reannounce(id: string): HaMessage[] {
    const g = this.gateways.get(id);
    return g ? this.announce(g.gateway) : [];
  }

  /** The next announcement publishes config and count whatever they are. */
  republish(): void {
    for (const g of this.gateways.values()) {
      g.announcedConfig = undefined;
      g.lastState = undefined;
    }
  }

  /** After sensors were removed: a gateway with sensors behind it is announced again (its count), one without removed. */
  removeEmpty(): HaMessage[] {
    const out: HaMessage[] = [];
    for (const [id, g] of this.gateways) {
      if (this.members.get(id)?.size) {
        out.push(...this.announce(g.gateway));
        continue;
      }
      const mode = this.record.gatewayMode(id);
      if (g.announcedConfig !== undefined || mode !== undefined) out.push(...this.removal(id, g.nodeId, g.key, mode ?? this.publisher.mode));
      this.gateways.delete(id);
      this.members.delete(id);
      this.record.deleteGateway(id);
    }
    return out;
  }

  /** Every gateway still in the record (announced before a restart and not seen since): removed. */
  removeRecorded(): HaMessage[] {
    const out: HaMessage[] = [];
    for (const [id, mode] of this.record.gatewayModes()) {
      const key = haDeviceKey(id);
      out.push(...this.removal(id, haGatewayNodeId(key), key, mode));
    }
    this.record.clearGateways();
    return out;
  }

  private removal(id: string, nodeId: string, key: string, mode: HaDiscoveryMode): HaMessage[] {
    const about = { gateway_id: id };
    return [
      ...this.publisher.removal(nodeId, mode, haComponentMap(haGatewayComponents(nodeId)), about),
      this.publisher.message(this.ctx.topics.gatewayState(key), '', 'state', about),
    ];
  }
}
