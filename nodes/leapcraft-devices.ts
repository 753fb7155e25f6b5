/**
 * leapcraft-devices: the account's full device list, or one device's details
 * (node setting `physicalId`, overridden by `msg.physical_id`). The result replaces
 * msg.payload; every other property of the incoming msg is kept.
 */
import { clientOf } from './common/account';
import { handleInput } from './common/input';
import { msgSetting } from './common/overrides';
import { startAccountNode } from './common/start';
import type { Msg, Node, NodeAPI, NodeDef } from './common/types';
import { optionalId, requireId } from '../lib';

interface DevicesDef extends NodeDef {
  account: string;
  physicalId?: string;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftDevicesNode(this: Node, def: DevicesDef) {
    // Checked at deploy like every node's settings: a bad id shows red now, not at the first msg.
    const started = startAccountNode(RED, this, def, () => ({ configuredId: optionalId(def.physicalId, 'physicalId') ?? '' }));
    if (!started) return;
    const { node, status, account, settings: { configuredId } } = started;

    handleInput(RED, node, status, async (msg: Msg, send, signal) => {
      const client = clientOf(RED, account);
      const requested = msgSetting(msg, 'physical_id', configuredId, requireId);
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
