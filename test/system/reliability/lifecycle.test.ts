/**
 * Lifecycle through a real Node-RED (issue 5, item 2): full redeploys and modified-node deploys
 * (one node's name changed each time: the telemetry node, the alerts node or the account, in
 * turn) while both nodes poll every second. Afterwards the output rate must be what it was (no
 * doubled output from a node that survived its redeploy), no timer or socket may be left over
 * (active resources counted inside Node-RED, sockets counted by the simulator), the heap after
 * a full GC must be back in its band, and every alert raised meanwhile emitted exactly once.
 *
 * Short form: 20 + 20 deploys; `LEAPCRAFT_RELIABILITY=full`: 100 + 100.
 */
import assert from 'node:assert/strict';

import { withOneNodeChanged } from './support/flow';
import { between, matchAlerts, matchReadings, type TelemetryLine } from './support/measure';
import { type ProbeSample, quietProbe } from './support/probe';
import { recordFigures } from './support/report';
import { FULL, ReliabilityRig } from './support/rig';
import { sleep, waitFor } from '../../support/wait';

const DEPLOYS = FULL ? 100 : 20;
const CONCURRENCY = 4;
/** Between two deploys, while the nodes poll. */
const GAP_MS = 250;
/** Window over which the output rate is measured, before and after. */
const RATE_WINDOW_MS = FULL ? 10_000 : 5000;
const MB = 1024 * 1024;

describe('reliability: redeploys through a real Node-RED', function () {
  this.timeout(FULL ? 1_800_000 : 300_000);
  const rig = new ReliabilityRig({
    probe: true,
    concurrency: CONCURRENCY,
    intervalS: 1,
    simulator: { deviceCount: 12, gateways: 3, reportIntervalMs: 1000, initialAlerts: 10 },
  });

  before(async function () {
    await rig.start();
    await rig.deploy();
    await rig.waitAlertsPrimed();
    await rig.waitHealthy();
  });

  let failed = false;
  afterEach(function () {
    if (this.currentTest?.state === 'failed') failed = true;
  });

  after(async function () {
    if (failed) {
      const dir = rig.saveArtifacts('lifecycle');
      if (dir) console.log(`      (Node-RED log and observed files kept in ${dir})`);
    }
    await rig.dispose();
  });

  /** Telemetry msgs per second over the next window, overall and for the busiest device. */
  async function outputRate(): Promise<{ perSecond: number; busiestDevicePerSecond: number }> {
    const from = Date.now();
    // A measurement window.
    await sleep(RATE_WINDOW_MS);
    const lines: TelemetryLine[] = between(rig.telemetry(), from, from + RATE_WINDOW_MS);
    const perDevice = new Map<string, number>();
    for (const l of lines) perDevice.set(l.physical_id, (perDevice.get(l.physical_id) ?? 0) + 1);
    const s = RATE_WINDOW_MS / 1000;
    return { perSecond: lines.length / s, busiestDevicePerSecond: Math.max(0, ...perDevice.values()) / s };
  }

  /** The simulator's open sockets, the fewest over a few samples (keep-alive ones come and go). */
  async function quietSockets(): Promise<number> {
    let fewest = Infinity;
    for (let i = 0; i < 5; i++) {
      fewest = Math.min(fewest, rig.sim.openConnections());
      // Samples spread over a second (keep-alive sockets close on their own time).
      await sleep(200);
    }
    return fewest;
  }

  const handles = (p: ProbeSample) => Object.values(p.resources).reduce((a, b) => a + b, 0);
  const fmt = (p: ProbeSample) => `${handles(p)} handles (Timeout ${p.resources.Timeout ?? 0}, TCPSocketWrap ${p.resources.TCPSocketWrap ?? 0}), heap ${(p.heapUsed / MB).toFixed(1)} MB`;

  it(`${DEPLOYS} full redeploys and ${DEPLOYS} modified-node deploys while polling: same rate, nothing left over, alerts once`, async function () {
    await sleep(2000); // past the start-up work, so the baseline is the steady state
    const rateBefore = await outputRate();
    const before = await quietProbe(rig.red);
    const socketsBefore = await quietSockets();
    assert.ok(before.gc, 'Node-RED runs with --expose-gc, so the heap is measured after a full GC');

    const flow = rig.flow();
    let peakSockets = 0;
    const sampler = setInterval(() => { peakSockets = Math.max(peakSockets, rig.sim.openConnections()); }, 50);
    const deployMs: number[] = [];
    const changed = new Map<string, number>();
    const loopStart = Date.now();
    try {
      for (let i = 0; i < 2 * DEPLOYS; i++) {
        const full = i < DEPLOYS;
        // Counted down so the last deploy restarts the telemetry node alone: an old one left
        // polling would then show in the output rate measured next.
        const next = full ? { flow, changed: 'all' } : withOneNodeChanged(flow, 2 * DEPLOYS - 1 - i);
        changed.set(next.changed, (changed.get(next.changed) ?? 0) + 1);
        if (i % 5 === 2) rig.raiseAlert();
        const t = Date.now();
        await rig.deploy(next.flow, full ? 'full' : 'nodes');
        deployMs.push(Date.now() - t);
        // The scenario: deploys GAP_MS apart while polling.
        await sleep(GAP_MS);
      }
    } finally {
      clearInterval(sampler);
    }
    const loopEnd = Date.now();
    await rig.waitHealthy();
    rig.raiseAlert();
    await waitFor(() => matchAlerts(rig.raised, rig.alerts()).lost === 0, 15_000, 'every raised alert').catch(() => undefined);
    const rateAfter = await outputRate();
    const after = await quietProbe(rig.red);
    const socketsAfter = await quietSockets();
    const cut = Date.now();
    // Readings served by the cut are in the file; a lost one fails below with the counts.
    await waitFor(() => matchReadings(rig.requests(), rig.telemetry(), cut).lost === 0, 10_000, 'every reading served by the cut').catch(() => undefined);

    const alerts = matchAlerts(rig.raised, rig.alerts());
    const readings = matchReadings(rig.requests(), rig.telemetry(), cut);
    const meanDeploy = deployMs.reduce((a, b) => a + b, 0) / deployMs.length;
    const heapGrowthMb = (after.heapUsed - before.heapUsed) / MB;
    const figures = {
      scenario: `${DEPLOYS} full + ${DEPLOYS} modified-node deploys`,
      deploys: { full: DEPLOYS, nodes: DEPLOYS, changed: Object.fromEntries(changed), meanMs: Math.round(meanDeploy), loopSeconds: (loopEnd - loopStart) / 1000 },
      rate: { before: rateBefore, after: rateAfter },
      resources: { before: before.resources, after: after.resources, handlesBefore: handles(before), handlesAfter: handles(after) },
      sockets: { before: socketsBefore, after: socketsAfter, peakDuringDeploys: peakSockets, concurrency: CONCURRENCY },
      heapMb: { before: before.heapUsed / MB, after: after.heapUsed / MB, growth: heapGrowthMb },
      alerts,
      readings: { served: readings.served, emitted: readings.emitted, notEmitted: readings.lost, duplicated: readings.duplicated },
    };
    recordFigures('lifecycle', figures);
    console.log(`      measured: ${2 * DEPLOYS} deploys in ${((loopEnd - loopStart) / 1000).toFixed(1)} s (mean ${meanDeploy.toFixed(0)} ms per deploy; ` +
      `modified: ${[...changed].filter(([k]) => k !== 'all').map(([k, n]) => `${k} x${n}`).join(', ')})`);
    console.log(`      measured: output ${rateBefore.perSecond.toFixed(1)} msgs/s before, ${rateAfter.perSecond.toFixed(1)} msgs/s after ` +
      `(busiest device ${rateBefore.busiestDevicePerSecond.toFixed(1)}/s -> ${rateAfter.busiestDevicePerSecond.toFixed(1)}/s)`);
    console.log(`      measured: Node-RED before ${fmt(before)}; after ${fmt(after)} (heap ${heapGrowthMb >= 0 ? '+' : ''}${heapGrowthMb.toFixed(1)} MB)`);
    console.log(`      measured: simulator sockets ${socketsBefore} before, ${socketsAfter} after, at most ${peakSockets} during the deploys (concurrency ${CONCURRENCY})`);
    console.log(`      measured: alerts ${alerts.raised} raised during the deploys, lost ${alerts.lost}, twice ${alerts.duplicated}, unexpected ${alerts.unexpected}; ` +
      `readings ${readings.served} served, ${readings.duplicated} emitted twice, ${readings.lost} not emitted (answers to a node being replaced)`);

    assert.ok(await rig.red.alive(), 'Node-RED is still running and answering');
    assert.deepEqual(rig.crashLines(), [], 'no crash or unhandled error in the Node-RED log');
    // A node that survived its redeploy doubles the output; a dead one halves it.
    const ratio = rateAfter.perSecond / rateBefore.perSecond;
    assert.ok(ratio > 0.8 && ratio < 1.25, `output rate unchanged: ${rateBefore.perSecond.toFixed(1)} -> ${rateAfter.perSecond.toFixed(1)} msgs/s`);
    assert.ok(rateAfter.busiestDevicePerSecond <= 1.4, `each device once per interval: ${rateAfter.busiestDevicePerSecond}/s`);
    assert.equal(readings.duplicated, 0, `no reading emitted twice (${readings.examples.join('; ')})`);
    assert.deepEqual({ lost: alerts.lost, duplicated: alerts.duplicated, unexpected: alerts.unexpected }, { lost: 0, duplicated: 0, unexpected: 0 }, 'each alert exactly once');
    // One timer or socket left per deploy would be +40 (short form) or +200 (full form).
    assert.ok((after.resources.Timeout ?? 0) <= (before.resources.Timeout ?? 0) + 3, `no leftover timers: ${fmt(before)} -> ${fmt(after)}`);
    assert.ok((after.resources.TCPSocketWrap ?? 0) <= (before.resources.TCPSocketWrap ?? 0) + 2, `no leftover sockets: ${fmt(before)} -> ${fmt(after)}`);
    assert.ok(handles(after) <= handles(before) + 5, `no leftover handles: ${fmt(before)} -> ${fmt(after)}`);
    assert.ok(socketsAfter <= socketsBefore + 1, `simulator sockets back: ${socketsBefore} -> ${socketsAfter}`);
    assert.ok(peakSockets <= 2 * CONCURRENCY + 2, `old sockets closed at each deploy: at most ${peakSockets} open`);
    assert.ok(heapGrowthMb < Math.max(8, (before.heapUsed / MB) * 0.2), `heap back in its band: ${(before.heapUsed / MB).toFixed(1)} -> ${(after.heapUsed / MB).toFixed(1)} MB`);
  });
});
