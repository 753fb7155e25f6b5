/**
 * The history output's memory at work: each reading's points once (a reading served again
 * from the cache, at the next poll or after a restart, is not written again), and the daily
 * averages of the days a device still lacks. What was written is loaded once, kept here, and
 * saved after every change through the `load`/`save` the node supplies (its context store).
 */
import { Device } from '../api/types';
import { AveragesFetch, backfillDays, dayOf, fetchDaily } from './backfill';
import { answerPoints, HistoryPoint } from './points';
import { HistorySettings, MAX_BACKFILL_DAYS } from './settings';
import { HistoryState, readHistoryState, WrittenLog } from './written';

/** The points of one device for one msg. */
export interface HistoryBatch {
  id: string;
  measurement: string;
  points: HistoryPoint[];
  /** Values left out of these points (`meta`, values that are not numbers). */
  skipped: number;
}

export interface ReadingResult {
  /** Undefined when the answer brought nothing not written before. */
  batch?: HistoryBatch;
  /** Points without a time, never written. */
  undated: number;
}

export interface BackfillHooks {
  /** A device's new daily points, already recorded as written. */
  batch(batch: HistoryBatch): void;
  failed(id: string, err: unknown): void;
}

export interface BackfillSummary {
  /** Devices that got points. */
  devices: number;
  points: number;
  failed: number;
}

export interface HistoryRecorderOptions {
  settings: HistorySettings;
  load(): Promise<unknown>;
  save(state: HistoryState): Promise<void>;
  /** A save that failed (the points were still sent: nothing is lost, but a restart may send them again). */
  saveFailed(err: unknown): void;
  deviceOf(id: string): Device | undefined;
  /** Backfill requests at once (the node gives twice the account's concurrency). */
  concurrency: number;
  now?: () => number;
}

export class HistoryRecorder {
  private log?: Promise<WrittenLog>;
  private saving?: Promise<void>;
  private dirty = false;
  private backfills: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: HistoryRecorderOptions) {}

  private written(): Promise<WrittenLog> {
    this.log ??= this.options.load().then((value) => new WrittenLog(readHistoryState(value)));
    return this.log;
  }

  /** Saves the log once whatever number of changes came since the last save began. */
  private changed(log: WrittenLog): void {
    this.dirty = true;
    if (this.saving) return;
    this.saving = (async () => {
      while (this.dirty) {
        this.dirty = false;
        try {
          await this.options.save(log.toJSON());
        } catch (err) {
          this.options.saveFailed(err);
        }
      }
    })().finally(() => { this.saving = undefined; });
  }

  /** Resolves once every change so far is saved (the node waits for it on close). */
  async flush(): Promise<void> {
    while (this.saving) await this.saving;
  }

  /** A device's answer: its points not written before, recorded as written. */
  async reading(id: string, value: unknown): Promise<ReadingResult> {
    const { measurement, tags } = this.options.settings;
    const shaped = answerPoints(value, { id, device: this.options.deviceOf(id), tags, measurement });
    const log = await this.written();
    const points = log.takeNew(id, shaped.points);
    if (points.length === 0) return { undated: shaped.undated };
    this.changed(log);
    return { batch: { id, measurement, points, skipped: shaped.skipped }, undated: shaped.undated };
  }

  /**
   * The daily averages of the last `days` days that `ids` still lack; each device's points go
   * to `hooks.batch` as they come. Backfills run one after the other, so two at once never
   * fetch and send the same day twice.
   */
  backfill(ids: readonly string[], days: number, fetch: AveragesFetch, signal: AbortSignal, hooks: BackfillHooks): Promise<BackfillSummary> {
    const run = this.backfills.then(() => this.backfillNow(ids, days, fetch, signal, hooks));
    this.backfills = run.catch(() => undefined);
    return run;
  }

  private async backfillNow(ids: readonly string[], days: number, fetch: AveragesFetch, signal: AbortSignal, hooks: BackfillHooks): Promise<BackfillSummary> {
    const { dailyMeasurement: measurement, tags } = this.options.settings;
    const now = (this.options.now ?? Date.now)();
    const log = await this.written();
    log.forgetDaysBefore(dayOf(now) - MAX_BACKFILL_DAYS);
    const plan = backfillDays(now, days);
    const jobs = ids
      .map((id) => ({ id, device: this.options.deviceOf(id), tags, measurement, days: plan.filter((d) => !log.hasDay(id, d)) }))
      .filter((job) => job.days.length > 0);
    const summary: BackfillSummary = { devices: 0, points: 0, failed: 0 };
    const worker = async (): Promise<void> => {
      for (let job = jobs.shift(); job && !signal.aborted; job = jobs.shift()) {
        try {
          const { points, skipped } = await fetchDaily(job, fetch, signal);
          if (signal.aborted) return;
          // A day without a point (no data yet, or none at all) stays missing: the next backfill asks again.
          if (points.length === 0) continue;
          for (const p of points) log.addDay(job.id, dayOf(p.timestamp.getTime()));
          this.changed(log);
          summary.devices++;
          summary.points += points.length;
          hooks.batch({ id: job.id, measurement, points, skipped });
        } catch (err) {
          if (signal.aborted) return;
          summary.failed++;
          hooks.failed(job.id, err);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(this.options.concurrency, jobs.length)) }, worker));
    return summary;
  }
}
