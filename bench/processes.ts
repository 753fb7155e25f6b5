/** Starting and always stopping the benchmark's child processes. */
import { Child, spawnChild } from './ipc';
import type { SimCounts, SimStartParams } from './sim-process';

export interface Simulator {
  child: Child;
  baseUrl: string;
  apiKey: string;
  ids: string[];
  reset(): Promise<void>;
  counts(): Promise<SimCounts>;
}

/** Children started within it are stopped when it closes, whatever happened in between. */
export class Scope {
  private readonly children: Child[] = [];

  add(child: Child): Child {
    this.children.push(child);
    return child;
  }

  async simulator(params: SimStartParams): Promise<Simulator> {
    const child = this.add(spawnChild('simulator', 'sim-process.ts'));
    const started = await child.call<{ baseUrl: string; apiKey: string; ids: string[] }>('start', params);
    return {
      child,
      ...started,
      reset: () => child.call('reset'),
      counts: () => child.call<SimCounts>('counts'),
    };
  }

  /** A Node-RED process with an empty flow. */
  async nodeRed(name: string, execArgv: string[] = []): Promise<Child> {
    const child = this.add(spawnChild(name, 'nodered-process.ts', { execArgv }));
    await child.call('start');
    return child;
  }

  async close(): Promise<void> {
    for (const child of this.children.splice(0).reverse()) {
      // Graceful first (Node-RED closes its nodes); the process goes either way.
      await child.call('stop', undefined, 20_000).catch(() => undefined);
      await child.close();
    }
  }
}

export async function withScope<T>(work: (scope: Scope) => Promise<T>): Promise<T> {
  const scope = new Scope();
  try {
    return await work(scope);
  } finally {
    await scope.close();
  }
}
