/** leapcraft-things: the account's things with their parameters (`limit`, -1 for all). */
import { limitOrAll } from '../lib';
import { clientOf } from './common/account';
import { startAccountNode } from './common/start';
import { handleInput } from './common/input';
import { msgSetting } from './common/overrides';
import type { Node, NodeAPI, NodeDef } from './common/types';

interface ThingsDef extends NodeDef {
  account: string;
  limit?: number | string;
}

export = function register(RED: NodeAPI): void {
  function LeapcraftThingsNode(this: Node, def: ThingsDef) {
    const started = startAccountNode(RED, this, def, () => ({
      limit: limitOrAll(def.limit === undefined || def.limit === '' ? 10 : def.limit, 'limit'),
    }));
    if (!started) return;
    const { node, status, account, settings: { limit } } = started;

    handleInput(RED, node, status, async (msg, send, signal) => {
      const client = clientOf(RED, account);
      const wanted = msgSetting(msg, 'limit', limit, limitOrAll);
      status.requesting();
      const things = await client.listThings({ limit: wanted }, { signal });
      msg.payload = things;
      status.ok(RED._('leapcraft-things.status.things', { count: things.length }));
      send(msg);
    });
  }

  RED.nodes.registerType('leapcraft-things', LeapcraftThingsNode as never);
};
