/** leapcraft-things: the account's things with their parameters (`limit`, -1 for all). */
import { limitOrAll } from '../lib';
import { findAccount, clientOf, showStartStatus } from './common/account';
import { handleInput } from './common/input';
import { msgOverride } from './common/overrides';
import { readSettings } from './common/settings';
import { NodeStatus } from './common/status';
import type { Node, NodeAPI, NodeDef } from './common/types';

interface ThingsDef extends NodeDef {
  account: string;
  limit?: number | string;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftThingsNode(this: Node, def: ThingsDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new NodeStatus(RED, node);
    const account = findAccount(RED, def.account);
    const settings = readSettings(node, status, () => ({
      limit: limitOrAll(def.limit === undefined || def.limit === '' ? 10 : def.limit, 'limit'),
    }));
    if (!settings) return;
    const { limit } = settings;
    showStartStatus(RED, status, account);

    handleInput(RED, node, status, async (msg, send, signal) => {
      const client = clientOf(RED, account);
      const override = msgOverride(msg, 'limit');
      const wanted = override !== undefined ? limitOrAll(override, 'msg.limit') : limit;
      status.requesting();
      const things = await client.listThings({ limit: wanted }, { signal });
      msg.payload = things;
      status.ok(RED._('leapcraft-things.status.things', { count: things.length }));
      send(msg);
    });
  }

  RED.nodes.registerType('leapcraft-things', LeapcraftThingsNode as never);
};
