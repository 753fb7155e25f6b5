/**
 * Waiting for nodes in Node-RED (the test helper) by what they do, not by time.
 *
 * `NodeWork` knows what is under way: the requests of the deployed accounts (their clients
 * count them) and the msgs sent between nodes and not yet delivered. `idle` waits until none is.
 *
 * `NodeClock` runs the nodes on simulated time against the simulator over real HTTP: a SimClock
 * (./sim-clock.ts) that moves on only once that work is done. A count over "three intervals" is
 * then exact and takes no real time, however busy the machine. Start it before `helper.load`
 * (the nodes' timers are then fake ones) and `stop` it before `helper.unload` in afterEach.
 */
import { performance } from 'node:perf_hooks';
import { helper, msgsInTransit, TestNode } from './nodered';
import { SimClock } from './sim-clock';

interface Account { getClient(): { stats(): { inFlight: number } } }

/** Where simulated time starts: a Monday, 08:00 UTC (a whole minute, so report periods line up with it). */
export const SIM_START = Date.UTC(2026, 0, 5, 8, 0, 0);

const realImmediate = () => new Promise<void>((resolve) => setImmediate(resolve));

export class NodeWork {
  private readonly transit = msgsInTransit();
  /** The accounts' clients once seen: their requests still count after the flows are unloaded (aborted ones ending). */
  private readonly clients = new Map<string, ReturnType<Account['getClient']>>();

  /** `accounts`: the ids of the leapcraft-config nodes whose requests count as under way. */
  constructor(private readonly accounts: readonly string[] = ['acct']) {}

  /** Requests under way and msgs in transit. */
  pending(): number {
    let n = this.transit.pending();
    for (const id of this.accounts) {
      const account = helper.getNode(id) as (TestNode & Partial<Account>) | null;
      try {
        if (account?.getClient) this.clients.set(id, account.getClient());
      } catch {
        // an account with a bad setting has no client
      }
      n += this.clients.get(id)?.stats().inFlight ?? 0;
    }
    return n;
  }

  /**
   * Resolves once no request is under way and no msg in transit, and the turns of the event loop
   * after the last one ran (what they start counts again); fails after `timeoutMs` of real time.
   */
  async idle(timeoutMs = 5000): Promise<void> {
    const until = performance.now() + timeoutMs;
    for (let quiet = 0; quiet < 3;) {
      if (performance.now() > until) throw new Error(`still busy after ${timeoutMs} ms: ${this.pending()} request(s) or msg(s) under way`);
      quiet = this.pending() === 0 ? quiet + 1 : 0;
      await realImmediate();
    }
  }

  stop(): void {
    this.transit.stop();
  }
}

export class NodeClock {
  readonly sim: SimClock;
  readonly work: NodeWork;

  constructor(accounts: readonly string[] = ['acct'], start = SIM_START) {
    this.work = new NodeWork(accounts);
    this.sim = new SimClock(start, undefined, () => this.work.pending());
  }

  get now(): number {
    return this.sim.now;
  }

  /** Lets what is under way finish (requests answered, msgs delivered) without moving the clock. */
  settle(): Promise<void> {
    return this.sim.settle();
  }

  /** Moves the clock on by `ms`, firing every timer due meanwhile in turn, each one's work done before the next. */
  run(ms: number): Promise<void> {
    return this.sim.runByStep(this.sim.now + ms);
  }

  /**
   * Fires timers in turn until `done` holds; fails with `what` once `maxMs` of simulated time
   * have passed without it. Resolves at the simulated moment it held.
   */
  async until(done: () => boolean, maxMs: number, what: string): Promise<void> {
    let late = false;
    const deadline = setTimeout(() => { late = true; }, maxMs);
    try {
      await this.sim.settle();
      while (!done()) {
        if (late) throw new Error(`${what}: not within ${maxMs} ms of simulated time`);
        this.sim.clock.next();
        await this.sim.settle();
      }
    } finally {
      clearTimeout(deadline);
    }
  }

  stop(): void {
    this.sim.restore();
    this.work.stop();
  }
}
