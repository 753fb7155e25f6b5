/**
 * What leapcraft-telemetry does when it polls, without Node-RED: the same lib/ pieces wired
 * the same way as nodes/leapcraft-telemetry.ts (the account's device list key every 10 min,
 * one key per device on the account's scheduler, cadence-aware for latest readings unless
 * turned off, lib/telemetry's PollOutput shaping the msgs, PollHealth and the status view
 * computed per answer), loaded from dist/ as Node-RED loads it. The msgs go to a callback
 * instead of a wire. Used where Node-RED cannot run: under a fake clock (simulated hours).
 */
import path from 'node:path';

export type Lib = typeof import('../lib');
type Client = InstanceType<Lib['LeapcraftClient']>;
type Scheduler = InstanceType<Lib['PollScheduler']>;

/**
 * The package measured: this working tree, or another checkout with a dist/ of its own
 * (LEAPCRAFT_BENCH_PACKAGE), to measure a before and an after under the same conditions.
 */
const ROOT = process.env.LEAPCRAFT_BENCH_PACKAGE ? path.resolve(process.env.LEAPCRAFT_BENCH_PACKAGE) : path.resolve(__dirname, '..');

/** The package as Node-RED loads it (dist/): of the checkout measured, or of the one at `root`. */
export function loadLib(root: string = ROOT): Lib {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require(path.join(path.resolve(root), 'dist', 'lib')) as Lib;
}

/** Node-RED's own msg copy (what the node hands lib/telemetry as `clone`). */
export function nodeRedClone(): <T>(msg: T) => T {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (require('@node-red/util') as { util: { cloneMessage<T>(msg: T): T } }).util.cloneMessage;
}

/** An account: one client and one scheduler, wired as leapcraft-config wires them. */
export function account(lib: Lib, o: { baseUrl: string; apiKey: string; concurrency: number; budgetPerHour?: number }): { client: Client; scheduler: Scheduler } {
  const scheduler = new lib.PollScheduler({ onListenerError: (err) => { throw err; } });
  const client = new lib.LeapcraftClient({
    baseUrl: o.baseUrl,
    apiKey: o.apiKey,
    concurrency: o.concurrency,
    timeoutMs: 30_000,
    onRateLimited: () => scheduler.noteRateLimited(),
    onRateLimit: (info) => scheduler.noteApiLimit(info),
  });
  scheduler.setBudget(o.budgetPerHour);
  return { client, scheduler };
}

export interface PolledMsg {
  topic?: string;
  payload?: unknown;
  physical_id?: string;
}

export interface PollerOptions {
  intervalMs: number;
  /** Cadence-aware polling (the node's default for latest readings). */
  cadence: boolean;
  /** The node's Emit setting: one msg per device per interval (its default), or each new reading once. */
  emit?: 'interval' | 'reading';
  /** Device ids set in the node; undefined: every device of the account (from the list). */
  ids?: string[];
  onMsg(msg: PolledMsg): void;
  /** Every request the poller starts goes through here (counting, in-flight tracking). */
  track?<T>(kind: 'list' | 'telemetry', request: () => Promise<T>): Promise<T>;
}

const DEVICE_LIST_REFRESH_MS = 10 * 60_000;

/** One leapcraft-telemetry node polling latest readings in device mode. */
export class TelemetryPoller {
  errors = 0;
  private readonly unsubscribeList: () => void;
  private readonly polled: InstanceType<Lib['PolledDevices']>;

  constructor(lib: Lib, acct: { client: Client; scheduler: Scheduler }, o: PollerOptions) {
    const { client, scheduler } = acct;
    const spec = { type: 'latest', resolution: 'daily', from: '-7d', to: 'now' };
    const track = o.track ?? (<T>(_kind: string, request: () => Promise<T>) => request());
    const directory = new lib.DeviceDirectory();
    const health = new lib.PollHealth();
    const clone = nodeRedClone();
    const output = new lib.PollOutput<PolledMsg & Record<string, unknown>>('device', false, () => this.polled.ids(), {
      clone, deviceOf: (id) => directory.get(id),
    }, o.emit ?? 'interval');
    const onAnswer = (outcome: { id: string; value?: unknown; error?: unknown }, meta?: unknown) => {
      const emission = output.answer(outcome as never, meta as never);
      if (!emission) return;
      for (const msg of emission.msgs) o.onMsg(msg);
      // The status the node would show (its text needs Node-RED's catalog: left out).
      lib.pollStatusView(health.state(), { msgs: emission.msgs.length, readings: emission.emitted }, this.polled.size, '');
    };
    this.polled = new lib.PolledDevices((id) => scheduler.subscribe(
      lib.telemetryKey(id, spec), o.intervalMs, (signal) => track('telemetry', () => client.getTelemetry(id, spec, { signal })), {
        next: (value, _key, meta) => onAnswer({ id, value }, meta),
        error: (err) => { this.errors++; health.deviceFailed(id); onAnswer({ id, error: err }); },
        recovered: () => health.deviceRecovered(id),
      }, o.cadence ? { cadence: { timeOf: lib.readingTime } } : {}), {
      joined: (id) => output.joined(id),
      left: (id) => { health.deviceRecovered(id); output.left(id); },
    });
    this.unsubscribeList = scheduler.subscribe(lib.DEVICE_LIST_KEY, DEVICE_LIST_REFRESH_MS, (signal) => track('list', () => client.listDevices({ signal })), {
      next: (list) => { directory.update(list); if (!o.ids) this.polled.set(directory.ids()); },
      error: () => { this.errors++; health.listFailed(); },
      recovered: () => health.listRecovered(),
    }, { retryFailures: true });
    if (o.ids) this.polled.set(o.ids);
  }

  get size(): number {
    return this.polled.size;
  }

  close(): void {
    this.polled.clear();
    this.unsubscribeList();
  }
}
