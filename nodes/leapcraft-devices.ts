/**
 * leapcraft-devices: the account's full device list, or one device's details
 * (node setting `physicalId`, overridden by `msg.physical_id`). The result replaces
 * msg.payload; every other property of the incoming msg is kept.
 */
import { attachAccount, clientOf, showStartStatus } from './common/account';
import { handleInput } from './common/input';
import { NodeStatus } from './common/status';
import type { Msg, Node, NodeAPI, NodeDef } from './common/types';
import { requireId } from '../lib';

interface DevicesDef extends NodeDef {
  account: string;
  physicalId?: string;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftDevicesNode(this: Node, def: DevicesDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = attachAccount(RED, node, def.account);
    const configuredId = (def.physicalId ?? '').trim();

    showStartStatus(RED, status, account);

    handleInput(RED, node, status, async (msg: Msg, send, signal) => {
      const client = clientOf(RED, account);
      // Only undefined/null mean "not given": an explicitly empty id is a mistake to report.
      const requested = msg.physical_id !== undefined && msg.physical_id !== null
        ? requireId(msg.physical_id, 'msg.physical_id')
        : configuredId;
      status.requesting();
      if (requested) {
        msg.payload = await client.getDevice(requested, { signal });
        status.ok(RED._('leapcraft-devices.status.device', { id: requested }));
      } else {
        const devices = await client.listDevices({ signal });
        msg.payload = devices;
        status.ok(RED._('leapcraft-devices.status.devices', { count: devices.length }));
      }
      send(msg);
    });
  }

  RED.nodes.registerType('leapcraft-devices', LeapcraftDevicesNode as never);
};
