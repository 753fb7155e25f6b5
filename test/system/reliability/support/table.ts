/**
 * Prints the tables of docs/RELIABILITY.md from the figures the last run wrote to
 * .artifacts/reliability/{faults,lifecycle}.json:
 *
 *   npx tsx test/system/reliability/support/table.ts
 */
import fs from 'node:fs';
import path from 'node:path';

import { artifactsDir } from './report';

interface FaultRow {
  scenario: string;
  fgrep?: string;
  injected: string;
  form: string;
  faultSeconds: number;
  requests: {
    steadyPerSecond: number; during: number; duringPerSecond: number; duringPeak: number;
    atRecoveryPerSecond: number; atRecoveryPeak: number; maxConcurrent: number; concurrency: number;
  };
  catch: string[];
  caughtCount: number;
  recoverySeconds: number | null;
  alertsRecoverySeconds: number | null;
  redAfterSeconds?: { telemetry: number | null; alerts: number | null };
  readings: { served: number; lost: number; duplicated: number };
  alerts: { raised: number; lost: number; duplicated: number; unexpected: number };
  extra: string;
}

interface LifecycleRow {
  scenario: string;
  form: string;
  deploys: { full: number; nodes: number; meanMs: number; loopSeconds: number };
  rate: { before: { perSecond: number }; after: { perSecond: number } };
  resources: { handlesBefore: number; handlesAfter: number; before: Record<string, number>; after: Record<string, number> };
  sockets: { before: number; after: number; peakDuringDeploys: number; concurrency: number };
  heapMb: { before: number; after: number };
  alerts: { raised: number; lost: number; duplicated: number; unexpected: number };
  readings: { served: number; duplicated: number; notEmitted: number };
}

const read = <T>(name: string): T[] => {
  const file = path.join(artifactsDir(), `${name}.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as T[]) : [];
};
const n1 = (x: number) => x.toFixed(1);
const s1 = (x: number | null, none = 'n/a') => (x === null ? none : `${n1(x)} s`);

export function faultsTable(rows: FaultRow[]): string {
  const out = [
    '| scenario | injected | requests: steady / during the fault / at recovery | max concurrent | errors at Catch | red after (telemetry / alerts) | recovery (every device / alerts) | readings lost / twice | alerts lost / twice | notes | alone: add |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const q = r.requests;
    out.push(`| ${r.scenario} | ${r.injected} (${n1(r.faultSeconds)} s) | ${n1(q.steadyPerSecond)}/s / ${q.during} (${n1(q.duringPerSecond)}/s, peak ${q.duringPeak}/s) / ` +
      `${n1(q.atRecoveryPerSecond)}/s (peak ${q.atRecoveryPeak}/s) | ${q.maxConcurrent} of ${q.concurrency} | ` +
      `${r.caughtCount ? `${r.catch.join(', ')} (${r.caughtCount})` : 'none'} | ` +
      `${r.redAfterSeconds ? `${s1(r.redAfterSeconds.telemetry, 'never')} / ${s1(r.redAfterSeconds.alerts, 'never')}` : 'n/a'} | ${s1(r.recoverySeconds)} / ${s1(r.alertsRecoverySeconds)} | ` +
      `${r.readings.lost} / ${r.readings.duplicated} of ${r.readings.served} | ${r.alerts.lost} / ${r.alerts.duplicated} of ${r.alerts.raised} | ` +
      `${r.extra.replace(/\|/g, '\\|') || ''} | ${r.fgrep ? `\`--fgrep "${r.fgrep}"\`` : ''} |`);
  }
  return out.join('\n');
}

export function lifecycleTable(rows: LifecycleRow[]): string {
  const out = [
    '| scenario | output before / after | Node-RED handles before / after (Timeout, TCPSocketWrap) | simulator sockets before / after / peak | heap after GC before / after | alerts lost / twice | readings twice | alone: add |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const r of rows) {
    const res = (x: Record<string, number>) => `${x.Timeout ?? 0}, ${x.TCPSocketWrap ?? 0}`;
    out.push(`| ${r.scenario} (${r.deploys.loopSeconds.toFixed(0)} s, mean ${r.deploys.meanMs} ms per deploy) | ` +
      `${n1(r.rate.before.perSecond)} / ${n1(r.rate.after.perSecond)} msgs/s | ${r.resources.handlesBefore} (${res(r.resources.before)}) / ${r.resources.handlesAfter} (${res(r.resources.after)}) | ` +
      `${r.sockets.before} / ${r.sockets.after} / ${r.sockets.peakDuringDeploys} | ${n1(r.heapMb.before)} / ${n1(r.heapMb.after)} MB | ` +
      `${r.alerts.lost} / ${r.alerts.duplicated} of ${r.alerts.raised} | ${r.readings.duplicated} of ${r.readings.served} | ` +
      '`--fgrep "full redeploys"` |');
  }
  return out.join('\n');
}

if (require.main === module) {
  console.log(faultsTable(read<FaultRow>('faults')));
  console.log();
  console.log(lifecycleTable(read<LifecycleRow>('lifecycle')));
}
