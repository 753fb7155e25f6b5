/**
 * The telemetry node's device-health output (its second) in Node-RED: each poll answer judged
 * with the period the account's scheduler learnt for the device, what changed sent once, on one
 * replica only when the node is set so, and what was told carried across a redeploy. The
 * decisions live in lib/telemetry/device-health.ts; this is the glue.
 */
import { DeviceDirectory, DeviceHealth, HealthSettings, healthMsg, Outcome, parseHealthSettings, ReplicaMode } from '../../lib';
import { carriedAcrossRedeploys } from '../common/context';
import type { LeapcraftAccount, Node, NodeAPI, NodeMessage } from '../common/types';

/** What each node told, by node id, across redeploys. */
const carriedFor = carriedAcrossRedeploys<unknown>();

/** The telemetry node's settings of its health output, as saved. */
export interface HealthDef {
  /** The second output, device health: off unless set true. */
  health?: boolean;
  silentPeriods?: number | string;
  batteryLow?: number | string;
}

/** The health settings of a node with the health output, checked at deploy; undefined without it. */
export function healthSettingsOf(def: HealthDef): HealthSettings | undefined {
  return def.health === true ? parseHealthSettings(def) : undefined;
}

export interface HealthOutputOptions {
  RED: NodeAPI;
  node: Node;
  account: LeapcraftAccount;
  settings: HealthSettings;
  directory: DeviceDirectory;
  replicas: ReplicaMode;
  pollMs: number;
  /** The scheduler key of a device's readings (its learnt period is the key's). */
  keyOf: (id: string) => string;
}

export class HealthOutput {
  private readonly health: DeviceHealth;
  private readonly carried: Map<string, unknown>;

  constructor(private readonly o: HealthOutputOptions) {
    this.health = new DeviceHealth(o.settings);
    this.carried = carriedFor(o.RED);
    this.health.restore(this.carried.get(o.node.id));
  }

  /** A poll answer: what it changed goes out on the second output. */
  answer(outcome: Outcome): void {
    if (outcome.value === undefined) return;
    const { account, pollMs } = this.o;
    const learnt = account.getScheduler().cadenceOf(this.o.keyOf(outcome.id), pollMs)?.periodMs;
    const events = this.health.answer(outcome.id, outcome.value, learnt, pollMs);
    // One replica only: the others keep the same memory but send nothing.
    if (events.length === 0 || (this.o.replicas === 'one' && !account.acting())) return;
    this.o.node.send([null, events.map((e) => healthMsg(e, this.o.directory.get(e.device)?.name) as NodeMessage)]);
  }

  forget(id: string): void {
    this.health.forget(id);
  }

  /** Redeployed: what was told is carried to the next start; removed: forgotten. */
  close(removed: boolean): void {
    if (removed) this.carried.delete(this.o.node.id);
    else this.carried.set(this.o.node.id, this.health.snapshot());
  }
}
