/** Per-test simulator and clients, always torn down, so no test leaks sockets or timers into the next. */
import { LeapcraftSimulator, SimulatorOptions } from '../../simulator';
import { ClientOptions, LeapcraftClient } from '../../lib';

export interface Fixture {
  sim: LeapcraftSimulator;
  client(options?: ClientOptions): LeapcraftClient;
}

/** Registers before/afterEach hooks in the calling describe block. */
export function useSimulator(options: SimulatorOptions = {}): Fixture {
  const clients: LeapcraftClient[] = [];
  const fixture = {} as Fixture;
  beforeEach(async () => {
    fixture.sim = new LeapcraftSimulator(options);
    await fixture.sim.start();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await fixture.sim.stop();
  });
  fixture.client = (clientOptions: ClientOptions = {}) => {
    const c = new LeapcraftClient({
      baseUrl: fixture.sim.baseUrl,
      apiKey: fixture.sim.apiKey,
      backoffBaseMs: 10,
      backoffMaxMs: 50,
      ...clientOptions,
    });
    clients.push(c);
    return c;
  };
  return fixture;
}

/** Rejection of `promise`, failing the test if it resolves. */
export async function rejectionOf(promise: Promise<unknown>): Promise<Error & { code?: string; status?: number; retryAfterMs?: number }> {
  try {
    await promise;
  } catch (err) {
    return err as Error & { code?: string };
  }
  throw new Error('expected a rejection, got a value');
}
