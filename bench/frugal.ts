/**
 * Measurement 6: frugal polling, in simulated time (bench/frugal-process.ts). Sensors report
 * every `reportIntervalS`, the node polls every `intervalS`:
 * - fixed and cadence-aware polling side by side for `minutes`: requests per new reading, and
 *   the delay from a reading's timestamp to its msg;
 * - with the account's request budget, for `hours`: requests in every hour, and whether every
 *   device is still read;
 * - sensors as they behave in the field, cadence-aware, for `field.minutes`: exact beside 1 reading
 *   in 10 lost, jitter up to 30 % of the period, and sensors twice as fast as the interval.
 */
import type { CompareResult, ContenderRun } from './frugal-process';
import { spawnChild } from './ipc';
import { withScope } from './processes';

export interface FrugalOptions {
  devices: number;
  reportIntervalS: number;
  intervalS: number;
  minutes: number;
  /** Steady-state figures from this minute on (cadence-aware keys have learnt by then). */
  steadyFromMinute: number;
  budget: { devices: number; perHour: number; intervalS: number; hours: number };
  /** The field habits' run: longer than `minutes`, so most of it is past learning (from `steadyFromMinute`). */
  field: { minutes: number; steadyFromMinute: number };
  concurrency: number;
}

export interface FrugalResults {
  compare: CompareResult;
  budget: CompareResult;
  budgetPerHour: number;
  field: CompareResult;
}

/** The field habits, each beside the exact sensors: the contenders' labels. */
export const FIELD = {
  exact: 'exact',
  lost: '1 reading in 10 lost',
  jitter: 'jitter up to 30 % of the period',
  fast: 'twice as fast as the interval',
} as const;

type Log = (line: string) => void;

export interface Delays {
  medianS: number;
  p95S: number;
  maxS: number;
}

/** Quantile of sorted values (nearest rank). */
function rank(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function delaysOf(run: ContenderRun): Delays {
  const d = run.delaysMs;
  return { medianS: rank(d, 0.5) / 1000, p95S: rank(d, 0.95) / 1000, maxS: (d[d.length - 1] ?? NaN) / 1000 };
}

export function requestsPerNewReading(run: ContenderRun): number {
  return run.telemetryRequests / run.newReadings;
}

/** The same from the run's `steadyFromMinute` on (learning over). */
export function steadyRequestsPerNewReading(run: ContenderRun): number {
  return run.steady.telemetryRequests / run.steady.newReadings;
}

export async function measureFrugal(o: FrugalOptions, log: Log): Promise<FrugalResults> {
  return withScope(async (scope) => {
    const child = scope.add(spawnChild('frugal', 'frugal-process.ts'));
    const compare = await child.call<CompareResult>('compare', {
      devices: o.devices, reportIntervalS: o.reportIntervalS, intervalS: o.intervalS, minutes: o.minutes, concurrency: o.concurrency,
      steadyFromMinute: o.steadyFromMinute,
      contenders: [{ label: 'fixed interval', cadence: false }, { label: 'cadence-aware', cadence: true }],
    }, 600_000);
    for (const run of compare.runs) {
      const d = delaysOf(run);
      log(`  ${run.label}: ${run.telemetryRequests} requests for ${run.newReadings} new readings (${requestsPerNewReading(run).toFixed(2)} each), delay median ${d.medianS} s, p95 ${d.p95S} s`);
    }
    const b = o.budget;
    const budget = await child.call<CompareResult>('compare', {
      devices: b.devices, reportIntervalS: o.reportIntervalS, intervalS: b.intervalS, minutes: b.hours * 60, concurrency: o.concurrency,
      steadyFromMinute: 60,
      contenders: [
        { label: 'fixed interval', cadence: false, budgetPerHour: b.perHour },
        { label: 'cadence-aware', cadence: true, budgetPerHour: b.perHour },
      ],
    }, 600_000);
    for (const run of budget.runs) {
      log(`  budget ${b.perHour}/h, ${run.label}: requests per hour ${run.perClockHour.join(', ')} (rolling max ${run.maxRollingHour}), reads per device per hour ≥ ${Math.min(...run.minReadsPerDeviceHour)}`);
    }
    const field = await child.call<CompareResult>('compare', {
      devices: o.devices, reportIntervalS: o.reportIntervalS, intervalS: o.intervalS, minutes: o.field.minutes, concurrency: o.concurrency,
      steadyFromMinute: o.field.steadyFromMinute,
      contenders: [
        { label: FIELD.exact, cadence: true },
        { label: FIELD.lost, cadence: true, sensors: { lossRate: 0.1 } },
        { label: FIELD.jitter, cadence: true, sensors: { reportJitterShare: 0.3 } },
        { label: FIELD.fast, cadence: true, sensors: { reportIntervalS: o.intervalS / 2 } },
      ],
    }, 600_000);
    for (const run of field.runs) {
      const i = run.perInterval;
      log(`  field, ${run.label}: ${requestsPerNewReading(run).toFixed(2)} requests per new reading, ${steadyRequestsPerNewReading(run).toFixed(2)} from minute ${field.steadyFromMinute}; `
        + `${i.min}–${i.max} requests per sensor and interval, a new reading in ${i.withNews} of ${i.intervals} intervals`);
    }
    return { compare, budget, budgetPerHour: b.perHour, field };
  });
}
