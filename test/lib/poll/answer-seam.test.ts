/**
 * The scheduler's seam between deciding/fetching and delivering: answers one scheduler fetched,
 * handed to another through `onAnswer` / `accept` (as a cluster's leader shares them through
 * Redis), reach the other's listeners exactly as they reach the fetcher's own: the same values,
 * the same `round`/`news` marks, the same failures with the same `first`, the same `recovered`.
 * A scheduler that does not fetch sends nothing; `setFetching` hands the polling over. Fake clock.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { LeapcraftUnavailableError } from '../../../lib/api/errors';
import { Answer, Listener, PollScheduler } from '../../../lib/poll/scheduler';

const S = 1000;
const T0 = Date.UTC(2026, 2, 30, 3, 0, 0);
const PERIOD = 300 * S;
const INTERVAL = 60 * S;

type Reading = { t: number; device: string };

/** Every call a listener hears, as text, so two listeners' histories compare with deepEqual. */
function recorder(): { listener: Listener<Reading>; calls: string[] } {
  const calls: string[] = [];
  return {
    calls,
    listener: {
      next: (value, key, meta) => calls.push(`next ${key} ${value.t} round=${meta.round} news=${meta.news}`),
      error: (err, f) => calls.push(`error ${f.key} ${f.code} first=${f.first} since=${f.since} ${(err as Error).message}`),
      recovered: (key) => calls.push(`recovered ${key}`),
    },
  };
}

describe('poll scheduler: answers delivered from elsewhere (the seam a cluster uses)', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: T0, toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('a listener of a scheduler fed through accept() hears exactly what a listener of the fetching one hears', async () => {
    const answers: Answer[] = [];
    const follower = new PollScheduler({ fetching: false });
    const leader = new PollScheduler({ onAnswer: (a) => { answers.push(a); follower.accept(a); } });
    let failing = false;
    let followerFetches = 0;
    const reading = (device: string, phase: number) => async (): Promise<Reading> => {
      if (failing && device === 'b') throw new LeapcraftUnavailableError('down');
      return { t: Math.floor((Date.now() - phase) / PERIOD) * PERIOD + phase, device };
    };
    const here = { a: recorder(), b: recorder() };
    const there = { a: recorder(), b: recorder() };
    for (const [device, phase] of [['a', 20 * S], ['b', 170 * S]] as const) {
      const cadence = { timeOf: (r: Reading) => r.t };
      leader.subscribe(device, INTERVAL, reading(device, phase), here[device].listener, { cadence });
      follower.subscribe(device, INTERVAL, async () => { followerFetches++; return reading(device, phase)(); }, there[device].listener, { cadence });
    }
    await clock.tickAsync(20 * 60 * S);
    failing = true;
    await clock.tickAsync(6 * 60 * S);
    failing = false;
    await clock.tickAsync(10 * 60 * S);

    assert.equal(followerFetches, 0, 'the scheduler that does not fetch sent no request');
    for (const device of ['a', 'b'] as const) assert.deepEqual(there[device].calls, here[device].calls, `${device}: the same calls`);
    // The histories hold what the seam must carry: values on and between visits, failures, a recovery.
    const b = here.b.calls.join('\n');
    assert.match(b, /round=true news=false/);
    assert.match(b, /round=false news=true/);
    assert.match(b, /error b LEAPCRAFT_UNAVAILABLE first=true/);
    assert.match(b, /error b LEAPCRAFT_UNAVAILABLE first=false/);
    assert.match(b, /recovered b/);
    assert.ok(answers.every((a) => a.fetched || (a.kind === 'value' && a.meta !== undefined)), 'every request\'s answer is shared, and every delivered visit');
    // The follower learnt the same cadence from the shared answers: it would plan the same checks as leader.
    for (const device of ['a', 'b']) assert.deepEqual(follower.cadenceOf(device, INTERVAL), leader.cadenceOf(device, INTERVAL), `${device}: the same cadence learnt`);
    leader.close();
    follower.close();
  });

  it('setFetching hands the polling over: the new poller starts with a round, the old one stops and aborts what it had under way', async () => {
    const calls: string[] = [];
    const aborted: string[] = [];
    const fetchOf = (who: string) => (signal: AbortSignal) => {
      calls.push(`${who}@${(Date.now() - T0) / S}`);
      return new Promise<Reading>((resolve) => {
        const timer = setTimeout(() => resolve({ t: Date.now(), device: 'a' }), 500);
        signal.addEventListener('abort', () => { clearTimeout(timer); aborted.push(who); });
      });
    };
    const one = new PollScheduler();
    const two = new PollScheduler({ fetching: false });
    one.subscribe('a', INTERVAL, fetchOf('one'), recorder().listener);
    two.subscribe('a', INTERVAL, fetchOf('two'), recorder().listener);
    await clock.tickAsync(120 * S + 200);
    assert.deepEqual(calls, ['one@0', 'one@60', 'one@120']);
    one.setFetching(false);
    assert.deepEqual(aborted, ['one'], 'the request under way is aborted');
    two.setFetching(true);
    await clock.tickAsync(70 * S);
    assert.deepEqual(calls, ['one@0', 'one@60', 'one@120', 'two@120.2', 'two@180.2']);
    one.close();
    two.close();
    assert.equal(clock.countTimers(), 0, 'nothing left behind');
  });
});
