/**
 * The bridge at work, without Node-RED: its timers (stale devices, clean-up, the health look,
 * the delayed re-announcement, saving the record), when it is ready for msgs (its record
 * loaded, the gateways read or given up on), and what the account's reads tell it. The node
 * (nodes/leapcraft-homeassistant.ts) supplies how to send, store and show status.
 */
import { isLeapcraftError } from '../api/errors';
import { Device, Topology } from '../api/types';
import { HomeAssistantBridge } from './bridge';
import { HaMessage } from './publisher';
import { HaCommand } from './input';
import { HaRecord } from './record';
import {
  haAnnounceDelayMs, haBridgeOptions, haCleanupEveryMs, HA_DEVICE_LIST_CHECK_MIN_MS, HA_HEALTH_EVERY_MS, HA_TOPOLOGY_WAIT_MS, HaSettings, haStaleCheck,
} from './settings';
import { HaGatewayIndex } from './topology';

export interface HaServiceHooks {
  /** Sends msgs to the output (from a timer or an account read). */
  send(messages: HaMessage[]): void;
  /** Something the status shows may have changed. */
  changed(): void;
  /** Stores the record (the node's context). */
  save(record: HaRecord): Promise<void>;
  /** A save failed (logged once per failure run by the node). */
  saveFailed?(err: unknown): void;
  /** The account client's 429 pause in ms, when the bridge has an account. */
  rateLimitRemainingMs?(): number;
}

/** How long changes to the record wait before they are stored (one write for a burst of msgs). */
export const HA_SAVE_DELAY_MS = 1000;

export class HaBridgeService {
  readonly bridge: HomeAssistantBridge;
  private readonly timers: NodeJS.Timeout[] = [];
  private announceTimer?: NodeJS.Timeout;
  private saveTimer?: NodeJS.Timeout;
  private topologyTimer?: NodeJS.Timeout;
  private savedVersion = 0;
  private closed = false;
  private lastListCheck = -Infinity;
  private markLoaded = () => {};
  private markGateways = () => {};
  /** Resolves when msgs may be handled: the record is in and the gateways are known (or waited for long enough). */
  readonly ready: Promise<void>;

  constructor(private readonly settings: HaSettings, private readonly hooks: HaServiceHooks, withGateways: boolean) {
    this.bridge = new HomeAssistantBridge(haBridgeOptions(settings));
    const loaded = new Promise<void>((resolve) => { this.markLoaded = resolve; });
    const gateways = new Promise<void>((resolve) => { this.markGateways = resolve; });
    this.ready = Promise.all([loaded, gateways]).then(() => undefined);
    if (withGateways) this.topologyTimer = setTimeout(() => this.markGateways(), HA_TOPOLOGY_WAIT_MS);
    else this.markGateways();
  }

  /** The stored record (or nothing), then the timers start. */
  load(stored: unknown): void {
    if (this.closed) return;
    this.bridge.restore(stored);
    this.savedVersion = this.bridge.version;
    this.markLoaded();
    const every = (ms: number | undefined, run: () => HaMessage[]) => {
      if (ms) this.timers.push(setInterval(() => this.emit(run(), true), ms));
    };
    const stale = haStaleCheck(this.settings);
    every(stale?.everyMs, () => this.bridge.markStale(Date.now(), stale!.maxAgeMs));
    every(haCleanupEveryMs(this.settings), () => this.bridge.cleanup(Date.now()));
    every(HA_HEALTH_EVERY_MS, () => {
      this.bridge.setClientRateLimited(this.rateLimited());
      return this.bridge.healthMessages(Date.now());
    });
  }

  /** The flows run: the bridge online, its own device and health announced. */
  flowsStarted(): void {
    this.emit([this.bridge.bridgeAvailability(true), ...this.bridge.announceBridge(Date.now())], false);
  }

  /** One parsed msg, once ready: what to send with the msg's own send (the re-announcement follows later). */
  handle(command: HaCommand): HaMessage[] {
    const { messages, reannounce } = this.bridge.apply(command, Date.now());
    if (reannounce) this.scheduleAnnounce();
    this.hooks.changed();
    this.scheduleSave();
    return messages;
  }

  /**
   * Whether a failed poll calls for a look at the device list now: "not found" for a device
   * may mean it left the account (at most once a minute, and only with clean-up on).
   */
  wantsDeviceList(command: HaCommand, now = Date.now()): boolean {
    if (this.settings.removeAfterMs <= 0 || command.kind !== 'failed' || command.code !== 'LEAPCRAFT_NOT_FOUND' || command.ids.length === 0) return false;
    if (now - this.lastListCheck < HA_DEVICE_LIST_CHECK_MIN_MS) return false;
    this.lastListCheck = now;
    return true;
  }

  // ---- the account's reads (topologies, device list) ----------------------------------------

  topologies(list: Topology[]): void {
    this.bridge.accountSucceeded();
    this.emit([...this.bridge.setGatewayIndex(new HaGatewayIndex(list)), ...this.bridge.healthMessages(Date.now(), false)]);
    this.hooks.changed();
    this.markGateways();
  }

  deviceList(list: Device[]): void {
    this.bridge.accountSucceeded();
    const ids = list.filter((d) => d && typeof d.physical_id === 'string').map((d) => d.physical_id);
    this.emit([...this.bridge.setDeviceList(ids, Date.now()), ...this.bridge.healthMessages(Date.now(), false)]);
  }

  /** A read of the account failed (the scheduler's failure state); the gateways are not waited for any longer. */
  accountFailed(err: unknown, failure: { code: string; since: number }): void {
    const retryAfterMs = isLeapcraftError(err) ? err.retryAfterMs : undefined;
    this.bridge.accountFailed(failure.code, Date.now(), failure.since, retryAfterMs);
    this.markGateways();
    this.emit(this.bridge.healthMessages(Date.now(), false), false);
  }

  accountRecovered(): void {
    this.bridge.accountSucceeded();
    this.emit(this.bridge.healthMessages(Date.now(), false), false);
  }

  /** Stops every timer and stores the record one last time; returns the bridge's offline msg. */
  close(): HaMessage[] {
    const offline = [this.bridge.bridgeAvailability(false)];
    this.closed = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.announceTimer);
    clearTimeout(this.topologyTimer);
    clearTimeout(this.saveTimer);
    this.markGateways();
    this.markLoaded();
    this.save();
    return offline;
  }

  // ---- internals ------------------------------------------------------------------------------

  /** The account client's 429 pause; an account that cannot say (closed, broken) is not rate-limited. */
  private rateLimited(): boolean {
    try {
      return (this.hooks.rateLimitRemainingMs?.() ?? 0) > 0;
    } catch {
      return false;
    }
  }

  /** Sends (unless closed); `status`: what was sent may change the status (devices offline, removed, announced). */
  private emit(messages: HaMessage[], status = true): void {
    if (this.closed) return;
    if (messages.length) {
      this.hooks.send(messages);
      if (status) this.hooks.changed();
    }
    this.scheduleSave();
  }

  /** The record is stored a moment after it changed (one write for a burst of msgs). */
  private scheduleSave(): void {
    if (this.bridge.version !== this.savedVersion && !this.saveTimer && !this.closed) {
      this.saveTimer = setTimeout(() => {
        this.saveTimer = undefined;
        this.save();
      }, HA_SAVE_DELAY_MS);
    }
  }

  private save(): void {
    const version = this.bridge.version;
    if (version === this.savedVersion) return;
    this.savedVersion = version;
    this.hooks.save(this.bridge.record()).catch((err: unknown) => {
      // Tried again with the next change.
      this.savedVersion = -1;
      this.hooks.saveFailed?.(err);
    });
  }

  /** Announces everything again after the delay; several triggers within it give one announcement. */
  private scheduleAnnounce(): void {
    if (this.announceTimer || this.closed) return;
    this.announceTimer = setTimeout(() => {
      this.announceTimer = undefined;
      void this.ready.then(() => this.emit(this.bridge.announceAll(Date.now()), true));
    }, haAnnounceDelayMs(this.settings));
  }
}
