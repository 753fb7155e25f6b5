/**
 * Which gateway a sensor reports through, from the account's topologies. The docs leave the
 * link open: a device list item carries `topology_id` (a number in the docs' sample, the
 * gateway id in the simulator), a topology carries `gateway_id` and, in its details, the
 * `devices` behind it. So a sensor is found by its physical id in a topology's devices
 * first, then by its topology_id against a topology's gateway_id, `id` or `topology_id`.
 */
import { Topology } from '../api/types';

export interface HaGateway {
  id: string;
  name?: string;
  /** How many sensors the topology lists behind the gateway, when it says. */
  sensors?: number;
}

function idText(value: unknown): string | undefined {
  if (typeof value === 'string' && value.trim() !== '') return value.trim();
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export class HaGatewayIndex {
  private readonly byDevice = new Map<string, HaGateway>();
  private readonly byTopology = new Map<string, HaGateway>();

  constructor(topologies: readonly Topology[] = []) {
    for (const t of topologies) {
      if (!t || typeof t !== 'object') continue;
      const id = idText(t.gateway_id);
      if (!id) continue;
      const devices = Array.isArray(t.devices) ? t.devices : undefined;
      const count = devices ? devices.length : typeof t.device_count === 'number' && Number.isInteger(t.device_count) && t.device_count >= 0 ? t.device_count : undefined;
      const gateway: HaGateway = { id };
      if (typeof t.name === 'string' && t.name.trim() !== '') gateway.name = t.name.trim();
      if (count !== undefined) gateway.sensors = count;
      for (const key of [t.gateway_id, t.id, t.topology_id]) {
        const k = idText(key);
        if (k && !this.byTopology.has(k)) this.byTopology.set(k, gateway);
      }
      for (const entry of devices ?? []) {
        const pid = entry && typeof entry === 'object' ? idText((entry as { physical_id?: unknown }).physical_id) : undefined;
        if (pid && !this.byDevice.has(pid)) this.byDevice.set(pid, gateway);
      }
    }
  }

  get size(): number {
    return new Set([...this.byTopology.values()]).size;
  }

  /** Whether every topology lists its devices (lib/api/topologies.ts decides per entry which details to read). */
  static listsDevices(topologies: readonly Topology[]): boolean {
    return topologies.every((t) => !t || typeof t !== 'object' || Array.isArray(t.devices));
  }

  resolve(physicalId: string, topologyId: unknown): HaGateway | undefined {
    const byDevice = this.byDevice.get(physicalId);
    if (byDevice) return byDevice;
    const key = idText(topologyId);
    return key ? this.byTopology.get(key) : undefined;
  }
}
