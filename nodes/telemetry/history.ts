/**
 * The telemetry node's history output (`output: history`) in Node-RED: what was written is kept
 * in the node's context store, each new reading goes out once as points and rows, and the
 * daily averages of the last days are backfilled on deploy and on `msg.backfill`. The decisions
 * live in lib/history/; this is the glue (memory, sends, Catch, status).
 */
import {
  BackfillSummary, dailyAveragesFetch, DeviceDirectory, historyMsg, HistoryRecorder, HistorySettings, HistorySettingsInput, HistoryState, invalid,
  LeapcraftClient, loadDeviceList, Outcome, parseBackfillDays, parseHistorySettings, PollEmission, readHistoryState, Shaping,
} from '../../lib';
import { clientOf } from '../common/account';
import { carriedAcrossRedeploys, nodeMemory, NodeMemory } from '../common/context';
import { toNodeError } from '../common/errors';
import { idsFromMsg } from '../common/ids';
import { msgOverride } from '../common/overrides';
import { NodeStatus } from '../common/status';
import { clock } from '../common/time';
import type { LeapcraftAccount, Msg, Node, NodeAPI, NodeMessage } from '../common/types';

export const HISTORY_CONTEXT_KEY = 'leapcraft-history';

/**
 * What each history node wrote, by node id, kept by the runtime that loaded the node type (one
 * RED object per load) across redeploys: without a contextStorage in settings.js, Node-RED
 * deletes a node's context whenever the node stops (see nodes/common/context.ts).
 */
const carriedFor = carriedAcrossRedeploys<HistoryState>();

/** The telemetry node's settings of its history output, as saved. */
export interface HistoryDef {
  historyTags?: string;
  measurement?: string;
  dailyMeasurement?: string;
  backfillDays?: number | string;
  store?: string;
}

/**
 * The history settings of a telemetry node whose output is `history`, checked at deploy;
 * undefined for the other outputs. History writes latest readings (daily averages: the backfill).
 */
export function historySettingsOf(def: HistorySettingsInput & { output?: string; telemetryType?: string }): HistorySettings | undefined {
  if (def.output !== 'history') return undefined;
  if (def.telemetryType === 'averages') throw invalid('telemetryType', 'the history output writes latest readings; its daily averages come from Backfill');
  return parseHistorySettings(def);
}

export interface HistoryOutputOptions {
  RED: NodeAPI;
  node: Node;
  status: NodeStatus;
  account: LeapcraftAccount | undefined;
  settings: HistorySettings;
  directory: DeviceDirectory;
  shaping: Shaping<Msg>;
  /** The node's devices; empty: every device of the account. */
  explicitIds: string[];
  blockOverrides: boolean;
}

type SendMsgs = (msgs: Msg[]) => void;

export class HistoryOutput {
  private readonly recorder: HistoryRecorder;
  private readonly memory: NodeMemory<HistoryState>;
  private readonly closing = new AbortController();
  private firstList?: Promise<void>;
  private warnedUndated = false;

  constructor(private readonly o: HistoryOutputOptions) {
    const { RED, node, account, settings } = o;
    this.memory = nodeMemory(node, HISTORY_CONTEXT_KEY, settings.store, carriedFor(RED), readHistoryState);
    const usable = !!account && !account.configError;
    this.recorder = new HistoryRecorder({
      settings,
      load: () => this.memory.load(),
      save: (state) => this.memory.save(state),
      saveFailed: (err) => node.warn(this.text('warn.historyNotSaved', { error: toNodeError(err).message })),
      deviceOf: (id) => o.directory.get(id),
      concurrency: usable ? account.getClient().concurrency * 2 : 1,
    });
    if (usable && settings.backfillDays > 0) {
      this.backfill(undefined, o.explicitIds, settings.backfillDays, (msgs) => node.send([msgs] as never), this.closing.signal)
        .catch((err: unknown) => this.failed(err));
    }
  }

  private text(key: string, params?: Record<string, string | number>): string {
    return this.o.RED._(`leapcraft-telemetry.${key}`, params);
  }

  private client = (): LeapcraftClient => clientOf(this.o.RED, this.o.account);

  private failed(err: unknown, msg: NodeMessage = {}): void {
    if (this.closing.signal.aborted) return;
    this.o.status.error(err);
    this.o.node.error(toNodeError(err), msg);
  }

  private loadList(signal: AbortSignal): Promise<void> {
    return loadDeviceList(this.o.account!.getScheduler(), this.client, this.o.directory, signal);
  }

  /**
   * Before the first points: the device list, once, so they carry the names, models and
   * gateways the later ones will (another tag is another series). A list that cannot be read
   * does not hold readings back: they go out with the tags known.
   */
  private namesKnown(): Promise<void> {
    if (this.o.directory.loaded || !this.o.settings.tags.some((t) => t !== 'device')) return Promise.resolve();
    this.firstList ??= this.loadList(this.closing.signal).catch(() => undefined);
    return this.firstList;
  }

  /** The msgs of readings not written before (`base`: the msg that asked, copied into each). */
  async messages(base: Msg | undefined, outcomes: Outcome[]): Promise<Msg[]> {
    await this.namesKnown();
    const msgs: Msg[] = [];
    for (const { id, value } of outcomes) {
      if (value === undefined) continue;
      const { batch, undated } = await this.recorder.reading(id, value);
      if (undated > 0 && !this.warnedUndated) {
        this.warnedUndated = true;
        this.o.node.warn(this.text('warn.undated', { id }));
      }
      if (batch) msgs.push(historyMsg(base, batch, this.o.shaping));
    }
    return msgs;
  }

  /** A poll answer, as PollOutput.answer gives it; never rejects, and sends nothing after close. */
  async answer(outcome: Outcome): Promise<PollEmission<Msg> | undefined> {
    if (outcome.value === undefined) return undefined;
    try {
      const msgs = await this.messages(undefined, [outcome]);
      return this.closing.signal.aborted ? undefined : { msgs, emitted: msgs.length };
    } catch (err) {
      this.failed(err, { topic: outcome.id, physical_id: outcome.id } as NodeMessage);
      return undefined;
    }
  }

  /**
   * A msg with `msg.backfill` (true: the node's days; or a number of days) backfills the daily
   * averages of the node's devices, or of `msg.physical_id`: true is returned, the msg is
   * done. Any other msg reads the latest readings (false: the node goes on with it).
   */
  async input(msg: Msg, send: SendMsgs, signal: AbortSignal): Promise<boolean> {
    const block = this.o.blockOverrides;
    const type = msgOverride(msg, 'type', block);
    if (type !== undefined && type !== 'latest') throw invalid('msg.type', 'the history output writes latest readings; send msg.backfill for daily averages');
    const asked = msgOverride(msg, 'backfill', block);
    if (asked === undefined || asked === false) return false;
    const days = asked === true ? this.o.settings.backfillDays : parseBackfillDays(asked, 'msg.backfill');
    if (days === 0) throw invalid('msg.backfill', 'give the number of days (1 to 365), or set Backfill days in the node and send true');
    const physicalId = msgOverride(msg, 'physical_id', block);
    const ids = physicalId !== undefined ? idsFromMsg(physicalId, 'msg.physical_id') : this.o.explicitIds;
    this.client();
    await this.backfill(msg, ids, days, send, signal);
    return true;
  }

  private async backfill(base: Msg | undefined, ids: string[], days: number, send: SendMsgs, signal: AbortSignal): Promise<BackfillSummary> {
    const { status, shaping, directory } = this.o;
    // The list gives the devices ("every device") and the tags' names.
    if (!directory.loaded) await this.loadList(signal);
    const devices = ids.length > 0 ? ids : directory.ids();
    status.busy(this.text('status.backfilling', { count: devices.length, days }));
    const summary = await this.recorder.backfill(devices, days, dailyAveragesFetch(this.o.account!.getScheduler(), this.client), signal, {
      batch: (batch) => send([historyMsg(base, batch, shaping)]),
      failed: (id, err) => this.failed(err, { ...(base ? shaping.clone(base) : {}), topic: id, physical_id: id } as NodeMessage),
    });
    if (!signal.aborted) status.ok(this.text('status.backfilled', { count: summary.points, devices: summary.devices, time: clock() }));
    return summary;
  }

  /** Ends a backfill under way and waits for the last save; a deleted node's memory is dropped. */
  async close(removed: boolean): Promise<void> {
    this.closing.abort();
    await this.recorder.flush();
    if (removed) this.memory.forget();
  }
}
