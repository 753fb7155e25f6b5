/**
 * leapcraft-topology: how the account's sensors hang off their gateways. All topologies,
 * or one (`topologyId`, overridden by `msg.topology_id`), optionally with each device
 * joined with its device-list entry (name, type).
 */
import { Device, optionalId, requireId, Topology } from '../lib';
import { attachAccount, clientOf, showStartStatus } from './common/account';
import { handleInput } from './common/input';
import { msgOverride } from './common/overrides';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import type { Node, NodeAPI, NodeDef } from './common/types';

interface TopologyDef extends NodeDef {
  account: string;
  topologyId?: string;
  joinDevices?: boolean;
}

/** Adds name and type where the topology's entry lacks them, and the whole list entry as `device`. */
function joinTopology(topology: Topology, directory: Map<string, Device>): Topology {
  if (!Array.isArray(topology.devices)) return topology;
  const devices = topology.devices.map((entry) => {
    if (!entry || typeof entry !== 'object') return entry;
    const id = (entry as { physical_id?: unknown }).physical_id;
    const device = typeof id === 'string' ? directory.get(id) : undefined;
    if (!device) return entry;
    const joined: Record<string, unknown> = { ...entry };
    if (joined.name === undefined && device.name !== undefined) joined.name = device.name;
    if (joined.type === undefined && device.type !== undefined) joined.type = device.type;
    joined.device = device;
    return joined;
  });
  return { ...topology, devices };
}

export = function register(RED: NodeAPI): void {
  function LeapcraftTopologyNode(this: Node, def: TopologyDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = attachAccount(RED, node, def.account);
    const joinDevices = def.joinDevices === true;
    const settings = readSettings(node, status, () => ({ topologyId: optionalId(def.topologyId, 'topologyId') }));
    if (!settings) return;
    const { topologyId } = settings;
    showStartStatus(RED, status, account);

    handleInput(RED, node, status, async (msg, send, signal) => {
      const client = clientOf(RED, account);
      const override = msgOverride(msg, 'topology_id');
      const id = override !== undefined ? requireId(override, 'msg.topology_id') : topologyId;
      status.requesting();
      const directory = new Map<string, Device>();
      // Read after the topology itself, so an unknown id costs no device-list request.
      const loadDirectory = async () => {
        if (joinDevices) for (const d of await client.listDevices({ signal })) directory.set(d.physical_id, d);
      };
      if (id) {
        const topology = await client.getTopology(id, { signal });
        await loadDirectory();
        msg.payload = joinDevices ? joinTopology(topology, directory) : topology;
        const count = Array.isArray(topology.devices) ? topology.devices.length : 0;
        status.ok(RED._('leapcraft-topology.status.topology', { id, count }));
      } else {
        let list = await client.listTopologies({ signal });
        if (joinDevices) {
          await loadDirectory();
          // The list may not carry devices: read each gateway's details to join them.
          list = await Promise.all(list.map(async (t) => {
            const gid = t.gateway_id;
            if (typeof gid !== 'string' && typeof gid !== 'number') return t;
            const details = await client.getTopology(gid, { signal });
            return joinTopology({ ...t, ...details }, directory);
          }));
        }
        msg.payload = list;
        status.ok(RED._('leapcraft-topology.status.topologies', { count: list.length }));
      }
      send(msg);
    });
  }

  RED.nodes.registerType('leapcraft-topology', LeapcraftTopologyNode as never);
};
