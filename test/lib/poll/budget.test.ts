/**
 * The account's request budget: the pure planner, window and header parser, and the
 * scheduler under a budget on sinon's fake clock (simulated hours, no wall-clock timing).
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { parseRateLimitHeaders } from '../../../lib/api/rate-limit';
import { LeapcraftRateLimitError, LeapcraftUnavailableError } from '../../../lib/api/errors';
import {
  BudgetState, HOUR_MS, MIN_BUDGET_PER_HOUR, PACE_HOLD_MS, PACE_STEP_MS, paceFloor, RequestBudget, RequestWindow, stretchFactors,
} from '../../../lib/poll/budget';
import { Listener, PollScheduler, SchedulerOptions } from '../../../lib/poll/scheduler';

const S = 1000;
const MIN = 60 * S;
const T0 = Date.UTC(2026, 2, 30, 3, 0, 0);

const quiet: Listener<unknown> = { next: () => undefined, error: () => undefined };
const gaps = (times: number[]) => times.slice(1).map((t, i) => t - times[i]!);

/** The most requests any rolling hour (t - 1 h, t] holds. */
function maxPerRollingHour(starts: number[]): number {
  let max = 0;
  let from = 0;
  for (let i = 0; i < starts.length; i++) {
    while (starts[i]! - starts[from]! >= HOUR_MS) from++;
    max = Math.max(max, i - from + 1);
  }
  return max;
}

describe('request budget', () => {
  describe('planning (pure)', () => {
    it('stretchFactors: nothing under the budget; over it, one factor for every key, alert checks first', () => {
      assert.deepEqual(stretchFactors({ alerts: 60, others: 600 }, undefined), { alerts: 1, others: 1 });
      assert.deepEqual(stretchFactors({ alerts: 60, others: 600 }, 1000), { alerts: 1, others: 1 });
      // 6000 needed, 900 planned (90 % of 1000): everything 6.67 times slower.
      assert.deepEqual(stretchFactors({ alerts: 0, others: 6000 }, 1000), { alerts: 1, others: 6000 / 900 });
      // Alert checks keep their pace; the others share what is left.
      assert.deepEqual(stretchFactors({ alerts: 120, others: 6000 }, 1000), { alerts: 1, others: 6000 / 780 });
      // Alert checks alone over the budget: stretched too, 10 % kept for the others.
      const f = stretchFactors({ alerts: 2000, others: 600 }, 1000);
      assert.equal(f.alerts, 2000 / 810);
      assert.equal(f.others, 600 / 90);
      assert.deepEqual(stretchFactors({ alerts: 2000, others: 0 }, 1000), { alerts: 2000 / 900, others: 1 });
    });

    it('the pace (AIMD): a 429 cuts it by a quarter, 429s within the hold are the same overload, it rises step by step back to the rate before', () => {
      const b = new RequestBudget();
      // Planned 1,080 an hour: the working budget 1,200 (the plan fills 90 %).
      assert.equal(b.rateLimited(T0, 1080), true);
      assert.equal(b.planningPerHour(T0), 900, 'cut to 3/4');
      assert.deepEqual(b.state(T0), { effectivePerHour: 900, reason: 'rate-limited', rateLimitedAt: T0 });
      assert.equal(b.rateLimited(T0 + 1000, 900), false, 'an echo within the hold');
      // +100 an hour every 5 s (1,200 back from nothing in a minute).
      assert.equal(b.planningPerHour(T0 + PACE_STEP_MS - 1), 900);
      assert.equal(b.planningPerHour(T0 + PACE_STEP_MS), 1000);
      assert.equal(b.state(T0 + PACE_STEP_MS).reason, 'rate-recovering', 'rising again');
      assert.equal(b.nextChangeAt(T0 + PACE_STEP_MS), T0 + 2 * PACE_STEP_MS);
      assert.equal(b.planningPerHour(T0 + 2 * PACE_STEP_MS), 1100);
      assert.equal(b.planningPerHour(T0 + 3 * PACE_STEP_MS), undefined, 'back at 1,200: no pace');
      assert.equal(b.expire(T0 + 3 * PACE_STEP_MS), true);
      assert.equal(b.nextChangeAt(T0 + 3 * PACE_STEP_MS), undefined);

      assert.equal(b.rateLimited(T0 + PACE_HOLD_MS - 1, 1080), false, 'risen back, but still within the hold: an echo');
      // After the hold a 429 cuts again.
      assert.equal(b.rateLimited(T0 + PACE_HOLD_MS, 1080), true);
      assert.equal(b.planningPerHour(T0 + PACE_HOLD_MS), 900);
      assert.equal(b.state(T0 + PACE_HOLD_MS + PACE_STEP_MS - 1).reason, 'rate-limited');

      // A hold as long as the reset the 429 waited for: a further 429 before it is the same overload.
      const gated = new RequestBudget();
      gated.noteApiLimit({ remaining: 0, resetMs: 45 * S }, T0);
      assert.equal(gated.planningPerHour(T0), undefined, 'a pause of seconds is waited out at the gate, no pace');
      gated.rateLimited(T0, 1080);
      assert.equal(gated.rateLimited(T0 + 44 * S, 1080), false);
      assert.equal(gated.state(T0 + 25 * S).reason, undefined, 'risen back meanwhile');
    });

    it('the pace is cut towards the floor at which alert checks keep their interval, never below it', () => {
      // Alert checks every second: 3,600 an hour; they keep their interval while the plan leaves them 90 % of 90 %.
      const floor = 3600 / 0.81;
      assert.equal(paceFloor(3600), floor);
      assert.equal(paceFloor(0), 0);
      const b = new RequestBudget();
      b.setPaceFloor(floor);
      b.rateLimited(T0, 9000);
      // The part above the floor (10,000 - 4,444) cut by a quarter: what the alert checks have is left alone.
      assert.equal(b.planningPerHour(T0), floor + 0.75 * (10_000 - floor));
      const f = stretchFactors({ alerts: 3600, others: 5400 }, b.planningPerHour(T0));
      assert.equal(f.alerts, 1, 'alert checks keep their interval');
      assert.equal(f.others, 5400 / (0.9 * b.planningPerHour(T0)! - 3600));
      // At the floor already: nothing left to cut; just above it, a quarter of what is above.
      const atFloor = new RequestBudget();
      atFloor.setPaceFloor(floor);
      assert.equal(atFloor.rateLimited(T0, 0.9 * floor), false);
      assert.equal(atFloor.rateLimited(T0, 0.9 * (floor + 100)), true);
      assert.equal(atFloor.planningPerHour(T0), floor + 75);
      assert.equal(MIN_BUDGET_PER_HOUR, 60);
      const none = new RequestBudget();
      none.rateLimited(T0, 45);
      assert.equal(none.planningPerHour(T0), MIN_BUDGET_PER_HOUR, 'the plan never under one request a minute');
      // Alert checks alone at the floor: nothing to cut.
      const alone = new RequestBudget();
      alone.setPaceFloor(paceFloor(3600));
      assert.equal(alone.rateLimited(T0, 3600), false);
      // A configured budget binds the plan: the pace is cut from it.
      const configured = new RequestBudget(1000);
      configured.rateLimited(T0, 900);
      assert.equal(configured.planningPerHour(T0), 750);
      assert.deepEqual(configured.state(T0), { perHour: 1000, effectivePerHour: 750, reason: 'rate-limited', rateLimitedAt: T0 });
    });

    it('RequestWindow counts the rolling hour conservatively and says when a request may start', () => {
      const w = new RequestWindow();
      for (let i = 0; i < 10; i++) w.record(T0 + i * MIN);
      assert.equal(w.count(T0 + 10 * MIN), 10);
      assert.equal(w.freeAt(T0 + 10 * MIN, 11), T0 + 10 * MIN);
      // The oldest (T0, counted as its second's end) leaves the window at T0 + 1 s + 1 h.
      assert.equal(w.freeAt(T0 + 10 * MIN, 10), T0 + S + HOUR_MS);
      assert.equal(w.freeAt(T0 + 10 * MIN, 9), T0 + MIN + S + HOUR_MS);
      assert.equal(w.ratePerHour(T0 + 10 * MIN), 60, '10 in 10 minutes');
      assert.equal(w.count(T0 + HOUR_MS + S), 9);
    });

    it('RequestBudget: the configured budget is the hard limit, the pace and the API limits only plan, the API gate holds until its reset', () => {
      const b = new RequestBudget(3);
      for (let i = 0; i < 3; i++) {
        assert.equal(b.mayStart(T0 + i), true);
        b.record(T0 + i);
      }
      assert.equal(b.mayStart(T0 + 10), false);
      assert.equal(b.nextStartAt(T0 + 10), T0 + S + HOUR_MS);
      assert.deepEqual(b.state(T0), { perHour: 3, effectivePerHour: 3, reason: 'budget' });

      const api = new RequestBudget();
      assert.equal(api.planningPerHour(T0), undefined);
      api.noteApiLimit({ limit: 100, remaining: 0, resetMs: 30 * S, windowMs: HOUR_MS }, T0);
      assert.equal(api.mayStart(T0 + 29 * S), false);
      assert.equal(api.nextStartAt(T0), T0 + 30 * S);
      assert.equal(api.mayStart(T0 + 30 * S), true);
      assert.equal(api.state(T0).reason, 'api-limit');
      assert.equal(api.planningPerHour(T0 + 31 * S), 100, 'after the reset, the policy (100 an hour) plans');
      assert.equal(api.nextChangeAt(T0), T0 + 30 * S);
      assert.equal(api.expire(T0 + 30 * S), true);
    });
  });

  describe('parseRateLimitHeaders', () => {
    const now = T0;
    it('reads the IETF draft headers (Reset in seconds)', () => {
      assert.deepEqual(parseRateLimitHeaders({ 'ratelimit-limit': '100', 'ratelimit-remaining': '42', 'ratelimit-reset': '30' }, now),
        { limit: 100, remaining: 42, resetMs: 30_000 });
    });
    it('reads X-RateLimit-* with Reset as seconds, epoch seconds or epoch ms, in any case', () => {
      assert.deepEqual(parseRateLimitHeaders({ 'X-RateLimit-Limit': '1000', 'X-RateLimit-Remaining': '999', 'X-RateLimit-Reset': '60' }, now),
        { limit: 1000, remaining: 999, resetMs: 60_000 });
      assert.deepEqual(parseRateLimitHeaders({ 'x-ratelimit-reset': String(now / 1000 + 90) }, now), { resetMs: 90_000 });
      assert.deepEqual(parseRateLimitHeaders({ 'x-ratelimit-reset': String(now + 1500) }, now), { resetMs: 1500 });
      assert.deepEqual(parseRateLimitHeaders({ 'x-ratelimit-reset': String(now / 1000 - 5) }, now), { resetMs: 0 }, 'a reset in the past');
    });
    it('reads RateLimit-Policy (100;w=3600), the window in RateLimit-Limit, and the structured draft', () => {
      assert.deepEqual(parseRateLimitHeaders({ 'RateLimit-Policy': '100;w=3600' }, now), { limit: 100, windowMs: HOUR_MS });
      assert.deepEqual(parseRateLimitHeaders({ 'RateLimit-Limit': '100, 100;w=60, 1000;w=3600', 'RateLimit-Remaining': '7' }, now),
        { limit: 1000, windowMs: HOUR_MS, remaining: 7 }, 'of two policies the one allowing less per hour (1000/h < 6000/h)');
      assert.deepEqual(parseRateLimitHeaders({ 'RateLimit-Policy': '"default";q=100;w=60', RateLimit: '"default";r=50;t=30' }, now),
        { remaining: 50, resetMs: 30_000, limit: 100, windowMs: 60_000 });
    });
    it('prefers the IETF headers over X-RateLimit-*, reads repeated headers, ignores what is not a number', () => {
      assert.deepEqual(parseRateLimitHeaders({ 'ratelimit-remaining': '5', 'x-ratelimit-remaining': '9', 'x-ratelimit-limit': ['10', '20'] }, now),
        { remaining: 5, limit: 10 });
      assert.equal(parseRateLimitHeaders({ 'x-ratelimit-remaining': 'lots', 'content-type': 'application/json' }, now), undefined);
      assert.equal(parseRateLimitHeaders({}, now), undefined);
      assert.equal(parseRateLimitHeaders(undefined, now), undefined);
      assert.deepEqual(parseRateLimitHeaders({ 'x-ratelimit-remaining': 12 }, now), { remaining: 12 }, 'a number as a number');
    });
  });

  describe('PollScheduler under a budget (fake clock)', () => {
    let clock: sinon.SinonFakeTimers;
    const schedulers: PollScheduler[] = [];
    beforeEach(() => {
      clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    });
    afterEach(() => {
      for (const s of schedulers.splice(0)) s.close();
      clock.restore();
    });
    function scheduler(options: SchedulerOptions = {}): PollScheduler {
      const s = new PollScheduler(options);
      schedulers.push(s);
      return s;
    }

    /** `n` keys at `intervalMs`; every request's start is logged, per key too. */
    function keys(s: PollScheduler, n: number, intervalMs: number, options: { priority?: 'alerts'; prefix?: string; fail?: () => boolean } = {}) {
      const starts: number[] = [];
      const perKey = new Map<string, number[]>();
      for (let i = 0; i < n; i++) {
        const key = `${options.prefix ?? 'k'}${i}`;
        perKey.set(key, []);
        s.subscribe(key, intervalMs, async () => {
          starts.push(Date.now());
          perKey.get(key)!.push(Date.now());
          if (options.fail?.()) throw new LeapcraftUnavailableError('down');
          return key;
        }, quiet, options.priority ? { priority: options.priority } : {});
      }
      return { starts, perKey };
    }

    it('100 keys at 60 s under 1,000 requests an hour: never more in any rolling hour, every key read in turn', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      const { starts, perKey } = keys(s, 100, MIN);
      await clock.tickAsync(3 * HOUR_MS);
      const max = maxPerRollingHour(starts);
      const counts = [...perKey.values()].map((c) => c.length);
      console.log(`      measured: ${starts.length} requests in 3 h, at most ${max} in an hour; ${Math.min(...counts)}-${Math.max(...counts)} per key`);
      assert.ok(max <= 1000, `${max} requests in one rolling hour`);
      assert.ok(Math.min(...counts) >= 20 && Math.max(...counts) - Math.min(...counts) <= 1, `per key: ${Math.min(...counts)}-${Math.max(...counts)}`);
      // 6,000 needed, 900 planned: every interval 6.67 times longer.
      assert.equal(s.effectiveIntervalMs(MIN), 400 * S);
      const state = s.budgetState();
      assert.equal(state.reason, 'budget');
      assert.equal(state.perHour, 1000);
      assert.equal(state.neededPerHour, 6000);
      assert.equal(Math.round(state.plannedPerHour), 900);
    });

    it('100 cadence-aware sensors (300 s, polled at 60 s) under 1,000 an hour: never more in any rolling hour, every sensor read', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      const starts: number[] = [];
      const seen = new Map<string, Set<number>>();
      for (let i = 0; i < 100; i++) {
        const phase = T0 + ((i * 7919) % 300) * S;
        const name = `d${i}`;
        seen.set(name, new Set());
        s.subscribe<{ t: number }>(name, MIN, async () => {
          starts.push(Date.now());
          return { t: Math.floor((Date.now() - phase) / (5 * MIN)) * 5 * MIN + phase };
        }, { next: (v) => seen.get(name)!.add(v.t), error: () => undefined }, { cadence: { timeOf: (v) => v.t } });
      }
      await clock.tickAsync(3 * HOUR_MS);
      const max = maxPerRollingHour(starts);
      const perSensor = [...seen.values()].map((set) => set.size);
      console.log(`      measured: ${starts.length} requests in 3 h, at most ${max} in an hour; ${Math.min(...perSensor)}-${Math.max(...perSensor)} readings per sensor (36 reported)`);
      assert.ok(max <= 1000, `${max} in one rolling hour`);
      assert.ok(Math.min(...perSensor) >= 25, 'every sensor read, most of its readings too');
      // 1,200 needed once the period is known (12 readings an hour each), 900 planned.
      const state = s.budgetState();
      assert.equal(state.neededPerHour, 1200);
      assert.equal(state.stretch, 1200 / 900);
    });

    it('the budget holds even when retries want more than the plan: requests wait, none is dropped', async () => {
      // 20 keys at 10 min, failing, retried early (2 s, doubling to a minute): far over 200 an hour.
      const s = scheduler({ budgetPerHour: 200, firstValueRetryMs: 2000 });
      let failing = true;
      const starts: number[] = [];
      const values = new Map<string, number>();
      for (let i = 0; i < 20; i++) {
        s.subscribe(`k${i}`, 10 * MIN, async () => {
          starts.push(Date.now());
          if (failing) throw new LeapcraftUnavailableError('down');
          return i;
        }, { next: () => values.set(`k${i}`, (values.get(`k${i}`) ?? 0) + 1), error: () => undefined }, { retryFailures: true });
      }
      await clock.tickAsync(2 * HOUR_MS);
      assert.ok(maxPerRollingHour(starts) <= 200, `${maxPerRollingHour(starts)} requests in one rolling hour`);
      assert.ok(starts.length >= 350, `${starts.length} requests in 2 h: the budget is used, not left idle`);
      failing = false;
      await clock.tickAsync(HOUR_MS);
      assert.ok(maxPerRollingHour(starts) <= 200);
      assert.equal(values.size, 20, 'every key read once the API is back');
    });

    it('alert checks first: the alerts key keeps its 60 s while the others stretch', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      const alerts = keys(s, 1, MIN, { priority: 'alerts', prefix: 'alerts' });
      const others = keys(s, 100, MIN);
      await clock.tickAsync(2 * HOUR_MS);
      const alertGaps = alerts.starts.slice(1).map((t, i) => t - alerts.starts[i]!);
      assert.deepEqual(new Set(alertGaps), new Set([MIN]), 'the alert check every minute');
      assert.equal(s.effectiveIntervalMs(MIN, 'alerts'), MIN);
      assert.equal(s.effectiveIntervalMs(MIN), Math.round(MIN * 6000 / 840));
      assert.ok(maxPerRollingHour([...alerts.starts, ...others.starts].sort((a, b) => a - b)) <= 1000);
      const counts = [...others.perKey.values()].map((c) => c.length);
      assert.ok(Math.min(...counts) >= 14, `every other key still read: ${Math.min(...counts)}-${Math.max(...counts)}`);
      assert.equal(s.budgetState().alertsStretch, 1);
    });

    it('a key moving to alert priority (an alert check shares it) is served first from then on', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      const { perKey } = keys(s, 50, MIN);
      await clock.tickAsync(10 * MIN);
      s.subscribe('k0', MIN, async () => 'unused', quiet, { priority: 'alerts' });
      assert.equal(s.size, 50, 'the same entry: coalesced');
      const before = perKey.get('k0')!.length;
      await clock.tickAsync(30 * MIN);
      assert.ok(perKey.get('k0')!.length - before >= 29, `${perKey.get('k0')!.length - before} fetches in 30 min`);
    });

    it('a 429 cuts the pace by a quarter and says so; without another the pace rises step by step back to the plan', async () => {
      const states: BudgetState[] = [];
      const s = scheduler({ budgetPerHour: 1000 });
      s.onBudgetChange((state) => states.push(state));
      let limitAt: number | undefined;
      const starts: number[] = [];
      for (let i = 0; i < 10; i++) {
        s.subscribe(`k${i}`, MIN, async () => {
          starts.push(Date.now());
          if (i === 0 && limitAt === undefined && Date.now() >= T0 + 30 * MIN) {
            limitAt = Date.now();
            throw new LeapcraftRateLimitError('slow down', { status: 429, retryAfterMs: 5000 });
          }
          return i;
        }, quiet);
      }
      await clock.tickAsync(30 * MIN);
      assert.ok(limitAt !== undefined);
      const cut = s.budgetState();
      assert.equal(cut.reason, 'rate-limited');
      assert.equal(cut.perHour, 1000);
      // The keys need 600 an hour, planned as they are: the working budget 667, cut to 3/4 of it.
      assert.equal(cut.effectivePerHour, Math.round(0.75 * 600 / 0.9));
      assert.equal(cut.rateLimitedAt, limitAt);
      assert.equal(s.effectiveIntervalMs(MIN), Math.round(MIN / 0.75));
      await Promise.resolve();
      assert.equal(states.at(-1)!.reason, 'rate-limited', 'the nodes were told');
      assert.equal(states.at(-1)!.stretch, 600 / (0.9 * 0.75 * 600 / 0.9));
      await clock.tickAsync(PACE_STEP_MS);
      assert.ok(s.budgetState().effectivePerHour! > cut.effectivePerHour!, 'risen a step');
      assert.ok(states.at(-1)!.stretch < states.at(-2)!.stretch, 'the nodes were told');
      // Back at the plan within a quarter of PACE_RECOVERY_MS: a quarter of the way from nothing.
      await clock.tickAsync(15 * S);
      const restored = s.budgetState();
      assert.equal(restored.reason, 'budget');
      assert.equal(restored.effectivePerHour, 1000);
      assert.equal(restored.rateLimitedAt, undefined);
      assert.equal(s.effectiveIntervalMs(MIN), MIN);
      assert.equal(states.at(-1)!.reason, 'budget');
      assert.equal(states.at(-1)!.stretch, 1);
    });

    it('with no budget configured, a 429 sets a pace from the plan, and it ends once risen back', async () => {
      const s = scheduler();
      let limited = false;
      keys(s, 10, MIN);
      s.subscribe('limited', MIN, async () => {
        if (!limited && Date.now() >= T0 + 20 * MIN) {
          limited = true;
          throw new LeapcraftRateLimitError('slow down', { status: 429, retryAfterMs: 1000 });
        }
        return 1;
      }, quiet);
      assert.deepEqual(s.budgetState(), { neededPerHour: 660, plannedPerHour: 660, stretch: 1, alertsStretch: 1 });
      // The 429 at 20 min 10 s (the 11th key of the round at 20 min).
      await clock.tickAsync(20 * MIN + 10 * S);
      const state = s.budgetState();
      assert.equal(state.perHour, undefined);
      assert.equal(state.reason, 'rate-limited');
      assert.equal(state.effectivePerHour, Math.round(0.75 * 660 / 0.9), 'three quarters of the working budget the plan filled');
      assert.ok(state.stretch > 1);
      await clock.tickAsync(MIN);
      assert.deepEqual(s.budgetState(), { neededPerHour: 660, plannedPerHour: 660, stretch: 1, alertsStretch: 1 });
    });

    it('a 429 the transport retried by itself (noteRateLimited) cuts the pace too, once per hold; one after the hold cuts again', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      keys(s, 10, MIN);
      await clock.tickAsync(30 * MIN);
      s.noteRateLimited();
      const cut = s.budgetState();
      assert.equal(cut.reason, 'rate-limited');
      assert.equal(cut.effectivePerHour, 500);
      s.noteRateLimited(); // the same overload's echo, within the hold
      assert.equal(s.budgetState().effectivePerHour, cut.effectivePerHour);
      await clock.tickAsync(PACE_HOLD_MS);
      assert.equal(s.budgetState().reason, 'budget', 'risen back meanwhile');
      s.noteRateLimited(); // still too fast after the hold: cut again
      assert.equal(s.budgetState().effectivePerHour, cut.effectivePerHour);
    });

    it('429s that never stop (one request in seven, for two hours) do not ratchet the pace down: it saws between 3/4 and the plan', async () => {
      const s = scheduler();
      let n = 0;
      const alerts = keys(s, 1, S, { priority: 'alerts', prefix: 'alerts' });
      const others: number[] = [];
      for (let i = 0; i < 100; i++) {
        s.subscribe(`k${i}`, 10 * S, async () => {
          others.push(Date.now());
          if (++n % 7 === 0) s.noteRateLimited();
          return i;
        }, quiet);
      }
      const stretches: number[] = [];
      for (let t = 0; t < 2 * HOUR_MS; t += 10 * S) {
        await clock.tickAsync(10 * S);
        stretches.push(s.budgetState().stretch);
      }
      const late = stretches.slice(stretches.length / 2);
      const mean = late.reduce((a, b) => a + b, 0) / late.length;
      console.log(`      measured: stretch ${Math.min(...late).toFixed(2)}-${Math.max(...late).toFixed(2)}, mean ${mean.toFixed(2)} in the second hour; others ${others.filter((t) => t >= T0 + HOUR_MS).length} requests in it (10 a second unpaced)`);
      assert.ok(Math.max(...late) <= 1 / 0.75, `at most one cut's stretch (the others' share cut by a quarter): ${Math.max(...late)}`);
      assert.ok(mean <= 1.25, `mean stretch ${mean}`);
      const second = alerts.starts.filter((t) => t >= T0 + HOUR_MS);
      // (A timer re-armed at its due instant, as the pace moves, fires a millisecond later, as Node's setTimeout(0) does.)
      assert.ok(gaps(second).every((g) => g === S || g === S + 1), `the alert check every second throughout: ${[...new Set(gaps(second))]}`);
    });

    it('alert checks never starve: a 429 every second for ten minutes, on a budget the alert checks nearly fill', async () => {
      // Alert checks every second (3,600 an hour) and 20 keys at 10 s (7,200): 12,000 an hour is 90 % of it.
      const s = scheduler({ budgetPerHour: 12_000 });
      const alerts = keys(s, 1, S, { priority: 'alerts', prefix: 'alerts' });
      const others = keys(s, 20, 10 * S);
      await clock.tickAsync(MIN);
      const limiting = setInterval(() => s.noteRateLimited(), S);
      const floors: number[] = [];
      for (let i = 0; i < 60; i++) {
        await clock.tickAsync(10 * S);
        floors.push(s.budgetState().effectivePerHour!);
        assert.equal(s.budgetState().alertsStretch, 1);
      }
      clearInterval(limiting);
      const cut = paceFloor(3600) + 0.75 * (12_000 - paceFloor(3600));
      assert.ok(Math.min(...floors) >= Math.floor(cut), `never under one cut: ${Math.min(...floors)}`);
      const during = alerts.starts.filter((t) => t >= T0 + 2 * MIN && t < T0 + 11 * MIN);
      assert.deepEqual(new Set(gaps(during)), new Set([S]), 'the alert check every second throughout');
      const perKey = others.starts.filter((t) => t >= T0 + 2 * MIN && t < T0 + 11 * MIN).length / 20;
      // Alert checks come off the top: at the cut the others have 0.9 × the cut pace − 3,600 of the 7,200 they need.
      assert.ok(perKey >= ((0.9 * cut - 3600) / 7200) * 54 - 1, `the others slowed, not starved: ${perKey} requests per key in 9 min (54 unpaced)`);
      await clock.tickAsync(MIN);
      assert.equal(s.budgetState().stretch, 1, 'back to the plan within a minute');
    });

    it('rate-limit headers: no request while none remain until the reset; a policy caps the plan', async () => {
      const s = scheduler();
      const { starts } = keys(s, 10, MIN);
      await clock.tickAsync(5 * MIN);
      s.noteApiLimit({ remaining: 0, resetMs: 90 * S });
      const at = Date.now();
      await clock.tickAsync(89 * S);
      assert.equal(starts.filter((t) => t > at).length, 0, 'none while the API has none left');
      assert.equal(s.budgetState().reason, 'api-limit');
      await clock.tickAsync(3 * MIN);
      assert.ok(starts.filter((t) => t >= at + 90 * S).length >= 10, 'every key again after the reset');

      s.noteApiLimit({ limit: 300, windowMs: HOUR_MS });
      const state = s.budgetState();
      assert.equal(state.reason, 'api-limit');
      assert.equal(state.effectivePerHour, 300);
      assert.equal(s.effectiveIntervalMs(MIN), Math.round(MIN * 600 / 270));
    });

    it('fetchNow is counted against the budget but never delayed; the rounds make up for it', async () => {
      const s = scheduler({ budgetPerHour: 100 });
      const { starts } = keys(s, 1, MIN);
      const asked: number[] = [];
      for (let i = 0; i < 95; i++) {
        await s.fetchNow('asked', async () => (asked.push(Date.now()), i));
      }
      assert.equal(asked.length, 95, 'every msg answered at once');
      assert.ok(asked.every((t) => t === T0));
      await clock.tickAsync(2 * HOUR_MS);
      assert.ok(maxPerRollingHour([...starts, ...asked].sort((a, b) => a - b)) <= 100);
      // The msgs' 95 requests left 5 for the poll in the first hour; after it, every minute again.
      assert.ok(starts.filter((t) => t < T0 + HOUR_MS).length <= 5);
      assert.ok(starts.filter((t) => t > T0 + HOUR_MS).length >= 55, `the poll went on after the hour: ${starts.length}`);
      assert.equal(s.fetches, starts.length + asked.length);
    });

    it('setBudget: a budget set later stretches at once; removed, waiting polls go at once', async () => {
      const s = scheduler();
      const states: BudgetState[] = [];
      s.onBudgetChange((state) => states.push(state));
      const { starts } = keys(s, 10, MIN);
      await clock.tickAsync(10 * MIN);
      s.setBudget(60);
      await Promise.resolve();
      assert.equal(states.length, 1, 'one notification');
      assert.equal(states[0]!.perHour, 60);
      assert.ok(s.effectiveIntervalMs(MIN) > 10 * MIN);
      await clock.tickAsync(20 * MIN);
      const waitingFrom = starts.length;
      s.setBudget(undefined);
      await clock.tickAsync(2 * MIN);
      assert.ok(starts.length - waitingFrom >= 10, 'back to every minute');
      assert.equal(s.effectiveIntervalMs(MIN), MIN);
      assert.throws(() => s.setBudget(0), RangeError);
    });

    it('redeploys (unsubscribe all, subscribe again) keep the request rate, and close() leaves no timer', async () => {
      const s = scheduler({ budgetPerHour: 1000 });
      const timeOf = (v: { t: number }) => v.t;
      let fetched = 0;
      const subscribeAll = () => Array.from({ length: 50 }, (_, i) => s.subscribe<{ t: number }>(`d${i}`, MIN, async () => {
        fetched++;
        const phase = T0 + i * 6 * S;
        return { t: Math.floor((Date.now() - phase) / (5 * MIN)) * 5 * MIN + phase };
      }, quiet as Listener<{ t: number }>, { cadence: { timeOf } }));
      let unsubscribe = subscribeAll();
      await clock.tickAsync(HOUR_MS);
      const ratePerHour = fetched;
      for (let i = 0; i < 20; i++) {
        for (const u of unsubscribe) u();
        unsubscribe = subscribeAll();
        await clock.tickAsync(5 * S);
      }
      assert.equal(s.size, 50);
      const before = fetched;
      await clock.tickAsync(HOUR_MS);
      assert.ok(fetched - before <= 1.1 * ratePerHour, `${fetched - before} requests in the hour after 20 redeploys, ${ratePerHour} before`);
      assert.ok(clock.countTimers() <= 4, `${clock.countTimers()} timers`);
      // A budget wait, a pace's timer and off-round timers under way at close.
      s.noteRateLimited();
      s.noteApiLimit({ remaining: 0, resetMs: 10 * MIN });
      await clock.tickAsync(2 * MIN);
      s.close();
      assert.equal(clock.countTimers(), 0);
    });
  });
});
