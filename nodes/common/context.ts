import type { Node } from './types';

/**
 * One value a node keeps in its context, in the store the user picked (`store`: '' or
 * undefined is the default store), whether that store answers by callback (file, custom
 * stores) or throws at once (an unknown store name).
 *
 * Without a contextStorage in settings.js, Node-RED deletes a node's context whenever the node
 * stops (any deploy that restarts it). So the value is also carried in `carried` (a map the
 * node type keeps for the life of the runtime, by node id): a redeploy finds the last value
 * there when the store has none. `forget` (on close with `removed`) drops it. A restart empties
 * the map, as it empties the memory store; a persistent store keeps the value.
 */
export interface NodeMemory<T> {
  load(): Promise<T | undefined>;
  save(value: T): Promise<void>;
  forget(): void;
}

/** Runs a context get/set, whose store may answer by callback or throw at once. */
function viaContext<T>(call: (cb: (err?: Error | null, value?: unknown) => void) => void, then: (value: unknown) => T): Promise<T> {
  return new Promise((resolve, reject) => {
    try {
      call((err, value) => (err ? reject(err) : resolve(then(value))));
    } catch (err) {
      reject(err);
    }
  });
}

export function nodeMemory<T>(node: Node, key: string, store: string | undefined, carried: Map<string, T>, read: (value: unknown) => T | undefined): NodeMemory<T> {
  const name = store && store.trim() !== '' ? store.trim() : undefined;
  const context = () => node.context();
  return {
    load: () => viaContext(
      (cb) => (name ? context().get(key, name, cb as never) : context().get(key, cb as never)),
      (value) => read(value) ?? carried.get(node.id),
    ),
    save: (value) => {
      carried.set(node.id, value);
      return viaContext(
        (cb) => (name ? context().set(key, value, name, cb as never) : context().set(key, value, cb as never)),
        () => undefined,
      );
    },
    forget: () => {
      carried.delete(node.id);
    },
  };
}

/**
 * A map by node id that lives as long as the runtime that loaded a node type (one per RED object),
 * for what a node carries across redeploys: call it once per kind of state, then with RED.
 */
export function carriedAcrossRedeploys<T>(): (RED: object) => Map<string, T> {
  const byRuntime = new WeakMap<object, Map<string, T>>();
  return (RED) => {
    let carried = byRuntime.get(RED);
    if (!carried) byRuntime.set(RED, (carried = new Map()));
    return carried;
  };
}
