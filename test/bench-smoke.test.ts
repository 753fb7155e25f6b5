/**
 * The benchmark's small form (`npm run bench -- --quick`: 100 devices, 2 rounds, a short
 * soak) as a CI smoke test. It asserts what is exact on any machine: requests per cycle,
 * coalescing, token exchanges, msgs, handles left after close. Times and memory are
 * printed, never asserted: they belong to bench/RESULTS.md.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { quickOptions } from '../bench/options';
import { BenchResults, runBench } from '../bench/run';

const ROOT = path.resolve(__dirname, '..');

describe('benchmark, small form (npm run bench -- --quick)', function () {
  this.timeout(240_000);
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
    assert.equal(cycle.contenders.length, 6);
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
    for (const key of ['a', 'b', 'c-limited', 'a-ids', 'b-ids']) {
      assert.ok(by(key).maxConcurrent.every((n) => n <= cycle.concurrency), `${key}: ${by(key).maxConcurrent.join(', ')}`);
    }
    console.log(`      measured: (c) without a limit had up to ${Math.max(...by('c').maxConcurrent)} requests on the wire at once`);
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

  it('every count and handle target is met', () => {
    const exact = results.checks.filter((c) => c.kind === 'count' || c.kind === 'handles');
    assert.ok(exact.length >= 10);
    for (const c of exact) assert.ok(c.pass, `${c.name}: ${c.measured} (wanted ${c.target})`);
  });
});
