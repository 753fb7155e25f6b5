/**
 * No code path walks every key per answer: with a thousand cadence-aware keys under a budget,
 * the planner's walk over every key's need (`KeyPlans.need`) runs when what the plan depends on
 * moves (keys join, learn their period, the budget changes), not once per answer, and once for a
 * burst of keys joining or leaving, not once per key. Fake clock.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { KeyPlans } from '../../../lib/poll/key-plans';
import { PollScheduler } from '../../../lib/poll/scheduler';

const S = 1000;
const T0 = Date.UTC(2026, 2, 30, 3, 0, 0);
const PERIOD = 300 * S;
const KEYS = 1000;

describe('poll scheduler: no walk over every key per answer', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => {
    clock.restore();
    sinon.restore();
  });

  it('1,000 cadence-aware keys under a budget: once learnt, the walks stop while answers go on', async () => {
    const walks = sinon.spy(KeyPlans.prototype, 'need');
    const s = new PollScheduler({ budgetPerHour: 20_000, maxGapMs: 50 });
    let answers = 0;
    for (let i = 0; i < KEYS; i++) {
      const phase = (i * 7919) % PERIOD;
      s.subscribe(`d${i}`, 60 * S, async () => ({ t: Math.floor((Date.now() - phase) / PERIOD) * PERIOD + phase }), {
        next: () => { answers++; },
        error: () => assert.fail('no failure'),
      }, { cadence: { timeOf: (r: { t: number }) => r.t } });
    }
    await clock.tickAsync(30 * 60 * S);
    const learntWalks = walks.callCount;
    const learntAnswers = answers;
    await clock.tickAsync(30 * 60 * S);
    const steadyWalks = walks.callCount - learntWalks;
    const steadyAnswers = answers - learntAnswers;
    console.log(`      measured: ${learntWalks} walks over every key while learning (${learntAnswers} answers), then ${steadyWalks} in ${steadyAnswers} answers`);
    assert.ok(steadyAnswers >= KEYS * 30, `${steadyAnswers} answers in the second half hour`);
    assert.ok(steadyWalks <= steadyAnswers / 100, `${steadyWalks} walks for ${steadyAnswers} answers`);
    s.close();
  });

  it('a burst of 1,000 keys subscribed, then dropped (a deploy, a close): a walk per burst, not per key', async () => {
    const walks = sinon.spy(KeyPlans.prototype, 'need');
    const s = new PollScheduler({ budgetPerHour: 20_000 });
    const drops: Array<() => void> = [];
    for (let i = 0; i < KEYS; i++) {
      drops.push(s.subscribe(`d${i}`, 60 * S, async () => ({ t: Date.now() }), { next: () => undefined, error: () => undefined }, { cadence: { timeOf: (r: { t: number }) => r.t } }));
    }
    await Promise.resolve();
    const subscribing = walks.callCount;
    for (const drop of drops) drop();
    await Promise.resolve();
    const dropping = walks.callCount - subscribing;
    console.log(`      measured: ${subscribing} walks over every key for ${KEYS} keys subscribed in a burst, ${dropping} for them dropped`);
    assert.ok(subscribing <= 5, `${subscribing} walks to subscribe ${KEYS} keys`);
    assert.ok(dropping <= 5, `${dropping} walks to drop ${KEYS} keys`);
    s.close();
  });
});
