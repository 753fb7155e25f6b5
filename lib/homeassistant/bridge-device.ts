/**
 * The bridge's own Home Assistant device: announced at start and with every announcement of
 * everything, its health state (health.ts) published only while it is announced, removed with
 * everything else.
 */
import { haBridgeConfig, HaConfigContext } from './device-configs';
import { HaHealth } from './health';
import { haBridgeNodeId } from './ids';
import { haComponentMap, HaMessage, HaPublisher } from './publisher';
import { HaAnnouncedRecord } from './record';

export class HaBridgeDevice {
  readonly health = new HaHealth();
  private readonly nodeId: string;
  private announcedConfig?: string;
  private announced = false;

  constructor(private readonly ctx: HaConfigContext, private readonly publisher: HaPublisher, private readonly record: HaAnnouncedRecord) {
    this.nodeId = haBridgeNodeId(ctx.topics.baseTopic);
  }

  /** Its config when it changed (or is in the other form; `again`: whatever it is), then its health state. */
  announce(now: number, devicesPolled: number, again = false): HaMessage[] {
    const config = haBridgeConfig(this.nodeId, this.ctx);
    const text = JSON.stringify(config);
    const out: HaMessage[] = [];
    if (again || text !== this.announcedConfig || this.record.bridge !== this.publisher.mode) {
      out.push(...this.publisher.whole(this.nodeId, config, this.record.bridge, {}));
      this.announcedConfig = text;
      this.record.setBridge(this.publisher.mode);
    }
    this.announced = true;
    this.health.republish();
    out.push(...this.healthMessages(now, devicesPolled, true));
    return out;
  }

  /** The health state when due (HaHealth.due: `all` for the periodic look), once the device is announced. */
  healthMessages(now: number, devicesPolled: number, all: boolean): HaMessage[] {
    if (!this.announced) return [];
    const text = this.health.due(now, devicesPolled, all);
    return text === undefined ? [] : [this.publisher.message(this.ctx.topics.bridgeState(), text, 'state')];
  }

  /** Its configs in the form they were announced in and its state, when it was announced (in this run or before). */
  remove(): HaMessage[] {
    const out: HaMessage[] = [];
    const mode = this.record.bridge;
    if (this.announced || mode) {
      out.push(...this.publisher.removal(this.nodeId, mode ?? this.publisher.mode, haComponentMap(haBridgeConfig(this.nodeId, this.ctx).components), {}));
      out.push(this.publisher.message(this.ctx.topics.bridgeState(), '', 'state'));
    }
    this.announced = false;
    this.announcedConfig = undefined;
    this.record.setBridge(undefined);
    return out;
  }
}
