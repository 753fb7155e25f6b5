/**
 * `npx tsx bench/air-quality.ts [devices] [days]`: what the air-quality node costs. Feeds a week
 * (by default) of one reading a minute per device from the simulator's data generator through
 * the node's service (lib/airquality/service.ts) on a fake clock, then prints the time per
 * reading, the size of the state the node keeps in its context store, and the time of a report
 * over every device. Not part of `npm run bench`: a figure for the docs, not a gate.
 */
import { performance } from 'node:perf_hooks';
import { AqService, parseAqSettings } from '../lib';
import { generateWorld } from '../simulator/data';
import { latestTelemetry } from '../simulator/model';
import sinon from 'sinon';

const devices = Number(process.argv[2] ?? 200);
const days = Number(process.argv[3] ?? 7);
const MINUTE = 60_000;
const start = Date.parse('2026-03-23T00:00:00Z'); // a Monday
async function main(): Promise<void> {
  const clock = sinon.useFakeTimers({ now: start, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  try {
    const world = generateWorld({ seed: 1, deviceCount: devices, gateways: 3, thingCount: 0 });
    let saved = '';
    const service = new AqService(parseAqSettings({ timeZone: 'Europe/Copenhagen', reportAt: '' }), (_p, c) => c, {
      report: () => undefined,
      save: async (state) => { saved = JSON.stringify(state); },
    });
    service.load(undefined);
    let busy = 0;
    let readings = 0;
    for (let t = start; t < start + days * 24 * 60 * MINUTE; t += MINUTE) {
      clock.tick(t - Date.now());
      const batch = world.devices.map((d) => {
        const r = latestTelemetry(d, t, { seed: 1, reportIntervalMs: MINUTE });
        return { device: r.physical_id, co2: r.data.co2, at: Date.parse(r.timestamp) };
      });
      const t0 = performance.now();
      service.observe(batch);
      busy += performance.now() - t0;
      readings += batch.length;
    }
    const t0 = performance.now();
    const report = service.report(start, undefined);
    const reportMs = performance.now() - t0;
    await service.close();
    console.log(`${devices} devices, ${days} days of one reading a minute (${readings} readings, occupied Mon–Fri 08–18 Copenhagen):`);
    console.log(`  ${(busy * 1000 / readings).toFixed(1)} µs per reading (decision, annotation, history)`);
    console.log(`  state in the context store: ${(saved.length / 1024).toFixed(0)} KiB, ${(saved.length / devices / 1024).toFixed(1)} KiB per device`);
    console.log(`  a report of all ${days} days over ${report.devices.length} devices: ${reportMs.toFixed(1)} ms`);
  } finally {
    clock.restore();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
