/**
 * leapcraft-topology: how the account's sensors hang off their gateways. All topologies,
 * or one (`topologyId`, overridden by `msg.topology_id`), optionally with each device
 * joined with its device-list entry (name, type). Which details are read for "all" with
 * joinDevices is lib/api/topologies.ts's policy, shared with the Home Assistant bridge.
 */
import { deviceDirectory, joinDeviceList, listTopologiesWithDevices, optionalId, requireId } from '../lib';
import { clientOf } from './common/account';
import { startAccountNode } from './common/start';
import { handleInput } from './common/input';
import { msgSetting } from './common/overrides';
import type { Node, NodeAPI, NodeDef } from './common/types';

interface TopologyDef extends NodeDef {
  account: string;
  topologyId?: string;
  joinDevices?: boolean;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftTopologyNode(this: Node, def: TopologyDef) {
    const joinDevices = def.joinDevices === true;
    const started = startAccountNode(RED, this, def, () => ({ topologyId: optionalId(def.topologyId, 'topologyId') }));
    if (!started) return;
    const { node, status, account, settings: { topologyId } } = started;

    handleInput(RED, node, status, async (msg, send, signal) => {
      const client = clientOf(RED, account);
      const id = msgSetting<string | undefined>(msg, 'topology_id', topologyId, requireId);
      status.requesting();
      // Read after the topologies, so an unknown id costs no device-list request.
      const directory = async () => deviceDirectory(await client.listDevices({ signal }));
      if (id) {
        const topology = await client.getTopology(id, { signal });
        msg.payload = joinDevices ? joinDeviceList(topology, await directory()) : topology;
        const count = Array.isArray(topology.devices) ? topology.devices.length : 0;
        status.ok(RED._('leapcraft-topology.status.topology', { id, count }));
      } else {
        const list = joinDevices ? await listTopologiesWithDevices(client, { signal }) : await client.listTopologies({ signal });
        const known = joinDevices ? await directory() : undefined;
        msg.payload = known ? list.map((t) => joinDeviceList(t, known)) : list;
        status.ok(RED._('leapcraft-topology.status.topologies', { count: list.length }));
      }
      send(msg);
    });
  }

  RED.nodes.registerType('leapcraft-topology', LeapcraftTopologyNode as never);
};
