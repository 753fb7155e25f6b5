/**
 * The air-quality node at work, without Node-RED: its state (restored from the context store,
 * stored a moment after each change and on close), the daily report at the configured local
 * time (and the ones missed while Node-RED was down), and reports on request. The node
 * (nodes/leapcraft-air-quality.ts) supplies how to send, store and show status.
 */
import { invalid } from '../api/validation';
import { SLOT_MS } from './history';
import { AqReading } from './input';
import { AQ_HISTORY_MS, AqMonitor, AqObservation, AqState } from './monitor';
import { Occupancy } from './occupancy';
import { AqProfileId, buildProfile } from './profiles';
import { AqReport, buildReport } from './report';
import { AqSettings } from './settings';
import { addDays, HOUR_MS, Zone } from './zone';

export interface AqServiceHooks {
  /** A daily report (from the timer, or one missed while Node-RED was down). */
  report(report: AqReport): void;
  /** Stores the state (the node's context). */
  save(state: AqState): Promise<void>;
  /** A save failed (the next change tries again). */
  saveFailed?(err: unknown): void;
  /** A timer's work failed (a report, the clean-up): reported, never thrown out of a timer. */
  failed?(err: unknown): void;
}

/** How long a change waits before it is stored (one write for a burst of msgs). */
export const AQ_SAVE_DELAY_MS = 2000;
/** Daily reports missed while Node-RED was down are sent at start, at most this many (the newest). */
export const AQ_MAX_MISSED_REPORTS = 7;

export class AqService {
  readonly monitor: AqMonitor;
  readonly zone: Zone;
  private reportTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private saveTimer?: NodeJS.Timeout;
  private closed = false;
  private markReady = () => {};
  /** Resolves once the stored state is in: readings wait for it, so none is judged without its history. */
  readonly ready: Promise<void>;

  constructor(private readonly settings: AqSettings, label: (profile: AqProfileId, category: string) => string, private readonly hooks: AqServiceHooks) {
    this.zone = new Zone(settings.timeZone);
    this.monitor = new AqMonitor(settings, buildProfile(settings, label), new Occupancy(this.zone, settings.occupied));
    this.ready = new Promise((resolve) => { this.markReady = resolve; });
  }

  /** The stored state (or nothing); then missed reports go out and the timers start. */
  load(stored: unknown, now = Date.now()): void {
    if (this.closed) return;
    this.monitor.restore(stored);
    this.monitor.prune(now);
    this.markReady();
    this.pruneTimer = setInterval(() => this.guard(() => this.monitor.prune(Date.now())), HOUR_MS);
    if (this.settings.reportAt === undefined) return;
    const latest = this.boundaryOnOrBefore(now);
    const since = this.monitor.reportedUntil;
    if (since === undefined || since > latest) {
      // A first start reports from the next report time on (there is nothing before to tell).
      this.monitor.reportedUntil = latest;
      this.scheduleSave();
    } else {
      const missed: number[] = [];
      for (let b = latest; b > since && missed.length < AQ_MAX_MISSED_REPORTS; b = this.boundaryOnOrBefore(b - 1)) missed.unshift(b);
      for (const b of missed) this.sendDaily(b, now);
    }
    this.scheduleReport(now);
  }

  /** Readings, in order: each one's annotation and change. */
  observe(readings: AqReading[]): AqObservation[] {
    this.monitor.checkRoom(readings);
    const out = readings.map((r) => this.monitor.observe(r));
    this.scheduleSave();
    return out;
  }

  /**
   * A report on request: from `from` (default: the last report time, or local midnight without
   * a daily report) to `to` (default: now). `from` goes back to its quarter hour.
   */
  report(from: number | undefined, to: number | undefined, now = Date.now()): AqReport {
    const start = from ?? (this.settings.reportAt !== undefined ? this.boundaryOnOrBefore(now) : this.zone.instant(this.zone.dateOf(now), 0));
    const aligned = Math.floor(start / SLOT_MS) * SLOT_MS;
    if (aligned < now - AQ_HISTORY_MS) throw invalid('msg.from', `the node keeps ${AQ_HISTORY_MS / 86_400_000} days of history: ask from ${new Date(now - AQ_HISTORY_MS + SLOT_MS).toISOString()} on`);
    const end = Math.min(to ?? now, now);
    if (end <= aligned) throw invalid(to !== undefined ? 'msg.to' : 'msg.from', 'the report would cover no time: msg.from must lie before msg.to and before now');
    return buildReport(this.monitor, 'requested', aligned, end, now);
  }

  /** Stops the timers and stores the state one last time. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reportTimer);
    clearInterval(this.pruneTimer);
    clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.markReady();
    await this.save();
  }

  // ---- report times ------------------------------------------------------------------------

  /** The last local report time at or before `t`. */
  boundaryOnOrBefore(t: number): number {
    const date = this.zone.dateOf(t);
    const today = this.zone.instant(date, this.settings.reportAt!);
    return today <= t ? today : this.zone.instant(addDays(date, -1), this.settings.reportAt!);
  }

  /** The first local report time after `t`. */
  nextBoundary(t: number): number {
    const date = this.zone.dateOf(t);
    const today = this.zone.instant(date, this.settings.reportAt!);
    return today > t ? today : this.zone.instant(addDays(date, 1), this.settings.reportAt!);
  }

  private sendDaily(boundary: number, now: number): void {
    const report = buildReport(this.monitor, 'daily', this.boundaryOnOrBefore(boundary - 1), boundary, now);
    this.monitor.reportedUntil = boundary;
    this.scheduleSave();
    this.hooks.report(report);
  }

  private scheduleReport(now: number): void {
    if (this.closed) return;
    const next = this.nextBoundary(now);
    this.reportTimer = setTimeout(() => {
      const at = Date.now();
      this.guard(() => {
        const boundary = this.boundaryOnOrBefore(at);
        if (boundary > (this.monitor.reportedUntil ?? -Infinity)) this.sendDaily(boundary, at);
      });
      this.scheduleReport(Math.max(at, next));
    }, Math.max(0, next - now));
  }

  /** Runs a timer's work: what goes wrong is reported, and the timers go on. */
  private guard(work: () => void): void {
    try {
      work();
    } catch (err) {
      this.hooks.failed?.(err);
    }
  }

  // ---- storing -----------------------------------------------------------------------------

  private scheduleSave(): void {
    if (this.saveTimer || this.closed) return;
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      void this.save();
    }, AQ_SAVE_DELAY_MS);
  }

  private async save(): Promise<void> {
    try {
      await this.hooks.save(this.monitor.snapshot());
    } catch (err) {
      this.hooks.saveFailed?.(err);
    }
  }
}
