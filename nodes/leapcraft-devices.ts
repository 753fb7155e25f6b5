/**
 * leapcraft-devices: the account's full device list, or one device's details
 * (node setting `physicalId`, overridden by `msg.physical_id`). The result replaces
 * msg.payload; every other property of the incoming msg is kept.
 */
import { findAccount, clientOf, showStartStatus } from './common/account';
import { handleInput } from './common/input';
import { msgOverride } from './common/overrides';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import type { Msg, Node, NodeAPI, NodeDef } from './common/types';
import { optionalId, requireId } from '../lib';

interface DevicesDef extends NodeDef {
  account: string;
  physicalId?: string;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftDevicesNode(this: Node, def: DevicesDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = findAccount(RED, def.account);
    // Checked at deploy like every node's settings: a bad id shows red now, not at the first msg.
    const settings = readSettings(node, status, () => ({ configuredId: optionalId(def.physicalId, 'physicalId') ?? '' }));
    if (!settings) return;
    const { configuredId } = settings;

    showStartStatus(RED, status, account);

    handleInput(RED, node, status, async (msg: Msg, send, signal) => {
      const client = clientOf(RED, account);
      const override = msgOverride(msg, 'physical_id');
      const requested = override !== undefined ? requireId(override, 'msg.physical_id') : configuredId;
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
