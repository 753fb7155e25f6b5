/**
 * The benchmark's small form (`npm run bench -- --quick`: 100 devices, 2 rounds, a short
 * soak, frugal polling in simulated time, 300 devices at scale, a cluster of 1 and 2 replicas on
 * Redis) as a CI smoke test. It asserts what is exact on any machine: requests per cycle,
 * coalescing, token exchanges, msgs, handles left after close, the figures of simulated time
 * (requests per new reading, delays, the request budget), the cluster's requests per interval and
 * leads, and what the editor's device picker shows. Real times, CPU and memory are printed, never asserted: they belong to
 * bench/RESULTS.md.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describeRun } from '../../bench/cluster';
import { quickOptions } from '../../bench/options';
import { BenchResults, runBench } from '../../bench/run';

const ROOT = path.resolve(__dirname, '..', '..');

describe('benchmark, small form (npm run bench -- --quick)', function () {
  this.timeout(300_000);
  let results: BenchResults;

  before(async () => {
    // Node-RED loads the package from dist/, as a user's does.
    if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'leapcraft-telemetry.js'))) {
      execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
    }
    results = await runBench(quickOptions(), 'npm run bench -- --quick');
    for (const c of results.checks) console.log(`      measured: ${c.name}: ${c.measured} (${c.target})`);
  });

  it('every contender sends exactly one telemetry request per device per cycle and emits one msg each', () => {
    const cycle = results.cycle!;
    assert.equal(cycle.contenders.length, 7);
    for (const c of cycle.contenders) {
      assert.deepEqual(c.requests.telemetry, Array(cycle.rounds).fill(cycle.devices), c.label);
      assert.deepEqual(c.msgs, Array(cycle.rounds).fill(cycle.devices), c.label);
      assert.equal(c.errors, 0, c.label);
    }
    const by = (key: string) => cycle.contenders.find((c) => c.key === key)!;
    // Holding its token, the package exchanges none per cycle; the hand-built flow one each.
    assert.deepEqual(by('b').requests.token, [0, 0]);
    assert.deepEqual(by('c').requests.token, [1, 1]);
    // The configured concurrency holds; the core http request node has no limit of its own.
    for (const key of ['a', 'b', 'p', 'c-limited', 'a-ids', 'b-ids']) {
      assert.ok(by(key).maxConcurrent.every((n) => n <= cycle.concurrency), `${key}: ${by(key).maxConcurrent.join(', ')}`);
    }
    console.log(`      measured: (c) without a limit had up to ${Math.max(...by('c').maxConcurrent)} requests on the wire at once`);
    // Node-RED alone carries the same msgs, without a request.
    assert.deepEqual(cycle.nodeRedOnly!.msgs, Array(cycle.rounds).fill(cycle.devices));
  });

  it('ten nodes on the same 100 devices cost 100 requests per interval', () => {
    const co = results.coalescing!;
    assert.ok(co.perRound.length >= 2, `${co.perRound.length} complete rounds`);
    assert.deepEqual(co.perRound, Array(co.perRound.length).fill(co.devices));
    assert.deepEqual(co.distinctPerRound, Array(co.perRound.length).fill(co.devices));
    // Every node got every reading.
    assert.ok(co.msgsPerNode.every((n) => n >= co.perRound.length * co.devices), co.msgsPerNode.join(', '));
  });

  it('token exchanges over ten simulated minutes = lifetimes elapsed + 1, and an expiry costs at most one replay per slot', () => {
    const t = results.tokens!;
    assert.equal(t.lifetimesElapsed, 10);
    assert.equal(t.exchanges, t.lifetimesElapsed + 1);
    assert.equal(t.clientExchanges, t.exchanges);
    assert.equal(t.msgs, t.cycles * t.devices);
    assert.equal(t.telemetryOk, t.cycles * t.devices);
    assert.equal(t.errors, 0);
    // Only the requests already on the wire meet an expired token; the queued ones wait for the new one.
    assert.ok(t.refused <= t.lifetimesElapsed * results.options.concurrency, `${t.refused} refused`);
  });

  it('the soak sends every request once and leaves no handle behind after close', () => {
    const s = results.soak!;
    assert.equal(s.telemetryRequests, (s.cycles + s.warmup) * s.devices);
    assert.equal(s.msgs, s.cycles * s.devices);
    assert.equal(s.errors, 0);
    assert.deepEqual(s.leftover, {}, `left after close: ${JSON.stringify(s.resourcesAfterClose)}`);
    assert.ok(s.connectionsOpen > 0 && s.connectionsOpen <= results.options.concurrency, `${s.connectionsOpen} connections while deployed`);
    assert.equal(s.connectionsAfterClose, 0);
  });

  it('frugal polling in simulated time: about one request per new reading, found seconds after it is due; a budget holds every hour', () => {
    const f = results.frugal!;
    const run = (label: string, runs = f.compare.runs) => runs.find((r) => r.label === label)!;
    const fixed = run('fixed interval');
    const aware = run('cadence-aware');
    // Sensors every 300 s polled every 60 s: five requests per reading at a fixed interval.
    assert.ok(fixed.telemetryRequests / fixed.newReadings >= 4.5, `${fixed.telemetryRequests} for ${fixed.newReadings}`);
    assert.ok(aware.telemetryRequests / aware.newReadings <= 1.2, `${aware.telemetryRequests} for ${aware.newReadings}`);
    assert.ok(aware.newReadings >= fixed.newReadings, 'cadence-aware polling misses no reading the fixed interval sees');
    const median = (xs: number[]) => xs[Math.ceil(xs.length / 2) - 1]!;
    assert.ok(median(aware.delaysMs) <= 10_000, `median delay ${median(aware.delaysMs)} ms`);
    for (const r of [fixed, aware]) {
      assert.equal(r.errors, 0, r.label);
      assert.equal(r.stuckWaits, 0, r.label);
    }
    for (const r of f.budget.runs) {
      assert.ok(r.maxRollingHour <= f.budgetPerHour, `${r.label}: ${r.maxRollingHour} in an hour`);
      assert.ok(r.minReadsPerDeviceHour.every((n) => n >= 1), `${r.label}: ${r.minReadsPerDeviceHour.join(', ')} reads per device per hour`);
      assert.equal(r.errors, 0, r.label);
    }
  });

  it('sensors as they behave in the field: lost readings and jitter cost at most 1.3 requests per new reading once learnt; a faster sensor is polled every interval', () => {
    const field = results.checks.filter((c) => c.name.startsWith('field habits'));
    assert.equal(field.length, 3);
    for (const c of field) assert.ok(c.pass, `${c.name}: ${c.measured} (${c.target})`);
  });

  it('at scale (small form): every device once per interval at a fixed interval, about a fifth cadence-aware, no errors', () => {
    const s = results.scale!;
    const fixed = s.hours.find((h) => !h.cadence)!;
    const aware = s.hours.find((h) => h.cadence)!;
    for (const n of fixed.perMinute.slice(1)) assert.ok(Math.abs(n - s.devices) <= 0.01 * s.devices, `fixed: ${fixed.perMinute.join(', ')}`);
    for (const n of aware.perMinute.slice(5)) assert.ok(n <= 1.2 * s.devices / 5, `cadence-aware: ${aware.perMinute.join(', ')}`);
    for (const h of s.hours) {
      assert.equal(h.errors, 0);
      assert.equal(h.stuckWaits, 0);
    }
    assert.equal(s.nodeRed.errors, 0);
    assert.ok(s.nodeRed.msgs > 0);
  });

  it('the editor\'s device picker lists the account\'s devices and narrows them to what is typed', () => {
    const p = results.picker!;
    assert.ok(p.listShown > 0, 'a list on focus');
    assert.equal(p.filtered.length, 3, p.filtered.map((f) => f.typed).join(', '));
    for (const f of p.filtered) {
      assert.ok(f.shown > 0, `"${f.typed}": nothing shown`);
      assert.ok(f.items.every((t) => t.toLowerCase().includes(f.typed.toLowerCase())), `"${f.typed}": ${f.items.join(' / ')}`);
    }
  });

  it('cluster on Redis (small form): one poller per account for 2 replicas as for 1, the leads of 10 accounts spread 5/5, every replica emits every device', () => {
    const c = results.cluster!;
    const runs = (accounts: number) => c.runs.filter((r) => r.accounts === accounts).sort((a, b) => a.replicas - b.replicas);
    for (const accounts of [1, c.accounts]) {
      const [alone, shared] = runs(accounts);
      assert.ok(alone && shared && alone.replicas === 1 && shared.replicas === 2, `${accounts} accounts: runs of ${runs(accounts).map((r) => r.replicas).join(', ')} replicas`);
      const devices = accounts * alone.devicesPerAccount;
      assert.ok(Math.abs(alone.totalPerInterval - devices) <= 0.05 * devices, `${accounts} accounts, 1 replica: ${alone.totalPerInterval} requests per interval`);
      const ratio = shared.totalPerInterval / alone.totalPerInterval;
      assert.ok(ratio >= 0.95 && ratio <= 1.05, `${accounts} accounts: 2 replicas ${shared.totalPerInterval}, 1 replica ${alone.totalPerInterval} requests per interval`);
      const leads = shared.perReplica.map((p) => p.leads);
      assert.deepEqual([...leads].sort((a, b) => a - b), accounts === 1 ? [0, 1] : [accounts / 2, accounts / 2], `${accounts} accounts: leads ${leads.join('/')}`);
      assert.equal(shared.unled, 0);
      assert.equal(shared.roleChanges, 0, `${accounts} accounts: role changes in the window`);
      // The follower sends (almost) nothing of its own for one account: the leader's answers reach it through Redis.
      if (accounts === 1) assert.ok(Math.min(...shared.perReplica.map((p) => p.requestsPerInterval)) <= 0.01 * devices, shared.perReplica.map((p) => p.requestsPerInterval).join(' + '));
      for (const r of [alone, shared]) {
        for (const p of r.perReplica) {
          assert.ok(Math.abs(p.msgsPerInterval - devices) <= 0.05 * devices, `${accounts} accounts, ${r.replicas} replicas: ${p.msgsPerInterval} msgs per interval`);
          assert.equal(p.errors, 0);
        }
      }
      console.log(`      measured: ${accounts} account${accounts === 1 ? '' : 's'}: ${runs(accounts).map(describeRun).join('; ')}`);
    }
  });

  it('npm run bench:package compares the package with the limit and another checkout in one process', () => {
    // This checkout as its own "before": the tool runs both packages side by side in one process.
    const out = execFileSync(process.execPath, ['-r', 'tsx/cjs', 'bench/package-compare.ts', '--before', ROOT, '--rounds', '2', '--latency', '0', '--devices', '20'],
      { cwd: ROOT, encoding: 'utf8' });
    assert.match(out, /round 2\/2: /);
    for (const key of ['a', 'p', 'before']) assert.match(out, new RegExp(`^  ${key} +\\d+ ms \\(middle half \\d+–\\d+\\), over \\(a\\) \\d+\\.\\d\\d$`, 'm'));
    assert.match(out, /\(p\) over before: \d+\.\d{3}/);
    assert.throws(
      () => execFileSync(process.execPath, ['-r', 'tsx/cjs', 'bench/package-compare.ts', '--rounds', 'many'], { cwd: ROOT, encoding: 'utf8', stdio: 'pipe' }),
      (err: { status: number; stderr: string }) => err.status === 1 && /--rounds: many is not a whole number/.test(err.stderr),
    );
  });

  it('every count, handle and simulated-time target is met', () => {
    const exact = results.checks.filter((c) => c.kind === 'count' || c.kind === 'handles' || c.kind === 'simulated');
    assert.ok(exact.length >= 15);
    for (const c of exact) assert.ok(c.pass, `${c.name}: ${c.measured} (wanted ${c.target})`);
  });
});
