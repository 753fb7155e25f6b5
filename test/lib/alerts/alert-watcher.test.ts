import assert from 'node:assert/strict';
import { Alert, ALERT_PAGE_SIZE, AlertState, AlertWatcher, AlertWatcherOptions, readAlertState } from '../../../lib';


/** An alert list served by pages, newest or oldest first, as the API might. */
/** A slow server or store: its answer comes a turn of the event loop later, so concurrent callers interleave. */
const aTurnLater = () => new Promise<void>((resolve) => setImmediate(resolve));

class FakeAlerts {
  /** Kept oldest first whatever order is served. */
  list: Alert[] = [];
  requests: Array<{ offset: number; limit: number }> = [];
  signals: AbortSignal[] = [];
  inFlight = 0;
  maxInFlight = 0;
  slow = false;
  failNext?: Error;
  private next = 1;

  constructor(public order: 'newest' | 'oldest', backlog = 0, private readonly dated = true) {
    this.raise(backlog);
  }

  raise(count = 1): Alert[] {
    const raised: Alert[] = [];
    for (let i = 0; i < count; i++) {
      const n = this.next++;
      const alert: Alert = { id: `a${n}`, physical_id: `dev-${n % 3}`, type: 'co2_high' };
      if (this.dated) alert.created_at = new Date(Date.UTC(2026, 0, 1) + n * 60_000).toISOString();
      raised.push(alert);
    }
    this.list.push(...raised);
    return raised;
  }

  readonly fetchPage = async (offset: number, signal: AbortSignal, limit: number): Promise<Alert[]> => {
    this.requests.push({ offset, limit });
    this.signals.push(signal);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      if (this.slow) await aTurnLater();
      if (this.failNext) {
        const err = this.failNext;
        this.failNext = undefined;
        throw err;
      }
      const served = this.order === 'oldest' ? this.list : [...this.list].reverse();
      return served.slice(offset, offset + limit).map((a) => ({ ...a }));
    } finally {
      this.inFlight--;
    }
  };

  offsets(): number[] {
    return this.requests.map((r) => r.offset);
  }
}

/** A context store in memory that, like a persistent one, keeps only what JSON can carry. */
class MemoryStore {
  value: unknown;
  saves = 0;
  slow = false;

  readonly load = async (): Promise<AlertState | undefined> => {
    if (this.slow) await aTurnLater();
    return this.value === undefined ? undefined : (JSON.parse(JSON.stringify(this.value)) as AlertState);
  };

  readonly save = async (state: AlertState): Promise<void> => {
    if (this.slow) await aTurnLater();
    this.saves++;
    this.value = JSON.parse(JSON.stringify(state));
  };

  get state(): AlertState {
    return this.value as AlertState;
  }
}

function watcherOver(api: FakeAlerts, store = new MemoryStore(), extra: Partial<AlertWatcherOptions> = {}) {
  return { store, watcher: new AlertWatcher({ load: store.load, save: store.save, fetchPage: api.fetchPage, ...extra }) };
}

const ids = (alerts: Alert[]) => alerts.map((a) => a.id);
const check = (w: AlertWatcher) => w.check(new AbortController().signal);

describe('AlertWatcher', () => {
  it('pages 50 at a time, the API maximum', () => {
    assert.equal(ALERT_PAGE_SIZE, 50);
  });

  for (const order of ['newest', 'oldest'] as const) {
    describe(`over a list ${order} first`, () => {
      it('first start: the whole backlog, oldest first, flagged as the first start, read in pages of 50', async () => {
        const api = new FakeAlerts(order, 57);
        const { watcher, store } = watcherOver(api);
        const result = await check(watcher);
        assert.equal(result.firstStart, true);
        assert.deepEqual(ids(result.alerts), ids(api.list));
        assert.deepEqual(api.offsets(), [0, 50]);
        assert.ok(api.requests.every((r) => r.limit === 50));
        assert.equal(store.state.v, 1);
        assert.equal(store.state.order, order);
        assert.equal(store.state.seen.length, 57);
        assert.equal(store.state.total, order === 'oldest' ? 57 : undefined);
      });

      it('afterwards: only the new alerts, oldest first, and never one twice', async () => {
        const api = new FakeAlerts(order, 57);
        const { watcher } = watcherOver(api);
        await check(watcher);
        const empty = await check(watcher);
        assert.equal(empty.firstStart, false);
        assert.deepEqual(empty.alerts, []);

        const raised = api.raise(3);
        const got = await check(watcher);
        assert.equal(got.firstStart, false);
        assert.deepEqual(ids(got.alerts), ids(raised));
        assert.deepEqual(got.alerts.map((a) => a.physical_id), raised.map((a) => a.physical_id));
        for (let i = 0; i < 3; i++) assert.deepEqual((await check(watcher)).alerts, [], `check ${i} after`);

        const more = api.raise(2);
        assert.deepEqual(ids((await check(watcher)).alerts), ids(more));
      });

      it('walks several pages for a burst of new alerts, in order', async () => {
        const api = new FakeAlerts(order, 130);
        const { watcher } = watcherOver(api);
        await check(watcher);
        const burst = api.raise(120);
        api.requests = [];
        const got = await check(watcher);
        assert.deepEqual(ids(got.alerts), ids(burst));
        assert.equal(new Set(ids(got.alerts)).size, 120);
        // Newest first stops at the page holding the first seen alert; oldest first starts
        // near where the list ended (130) and reads to its end (250).
        assert.deepEqual(api.offsets(), order === 'newest' ? [0, 50, 100] : [0, 50, 100, 150, 200, 250]);
      });

      it('an empty list is a first start with nothing, and what comes later is new', async () => {
        const api = new FakeAlerts(order, 0);
        const { watcher } = watcherOver(api);
        const first = await check(watcher);
        assert.equal(first.firstStart, true);
        assert.deepEqual(first.alerts, []);
        const raised = api.raise(4);
        const second = await check(watcher);
        assert.equal(second.firstStart, false);
        assert.deepEqual(ids(second.alerts), ids(raised));
      });
    });
  }

  describe('a list that shrank or was rewritten', () => {
    it('oldest first: the old alerts gone, reads from the start and finds only the new', async () => {
      const api = new FakeAlerts('oldest', 120);
      const { watcher, store } = watcherOver(api);
      await check(watcher);
      assert.equal(store.state.total, 120);
      api.list.splice(0, 100); // 20 seen left
      const raised = api.raise(2);
      api.requests = [];
      const got = await check(watcher);
      assert.deepEqual(ids(got.alerts), ids(raised));
      // Page 50 (where the list ended last time) is empty now: back to page 0, already read.
      assert.deepEqual(api.offsets(), [0, 50]);
      assert.equal(store.state.total, 22);
      api.requests = [];
      assert.deepEqual((await check(watcher)).alerts, []);
      assert.deepEqual(api.offsets(), [0], 'starts near the new end');
    });

    it('oldest first: replaced by unseen alerts, all of them are new', async () => {
      const api = new FakeAlerts('oldest', 120);
      const { watcher } = watcherOver(api);
      await check(watcher);
      api.list = [];
      const raised = api.raise(70);
      const got = await check(watcher);
      assert.deepEqual(ids(got.alerts), ids(raised));
    });

    it('newest first: replaced by unseen alerts, pages to the end and returns them all', async () => {
      const api = new FakeAlerts('newest', 60);
      const { watcher } = watcherOver(api);
      await check(watcher);
      api.list = [];
      const raised = api.raise(75);
      api.requests = [];
      const got = await check(watcher);
      assert.deepEqual(ids(got.alerts), ids(raised));
      assert.deepEqual(api.offsets(), [0, 50]);
    });
  });

  it('keeps the order learnt earlier when a page cannot tell (undated alerts)', async () => {
    const api = new FakeAlerts('oldest', 5, false);
    const store = new MemoryStore();
    store.value = { v: 1, seen: api.list.map((a) => `id:${String(a.id)}`), order: 'oldest', total: 5 };
    const { watcher } = watcherOver(api, store);
    const raised = api.raise(2);
    const got = await check(watcher);
    assert.equal(got.firstStart, false);
    // Taken for newest first, the seen alert on top would have hidden the two at the end.
    assert.deepEqual(ids(got.alerts), ids(raised));
    assert.equal(store.state.order, 'oldest');
  });

  for (const order of ['newest', 'oldest'] as const) {
    it(`undated alerts ${order} first, never told the order: every new alert once, the order learnt from where they stand`, async () => {
      const api = new FakeAlerts(order, 57, false);
      const { watcher, store } = watcherOver(api);
      const first = await check(watcher);
      assert.equal(first.alerts.length, 57);
      const emitted: unknown[] = [];
      for (const burst of [1, 3, 0, 60, 2, 0, 51]) {
        const raised = api.raise(burst);
        const got = await check(watcher);
        assert.equal(got.alerts.length, burst, `a burst of ${burst}`);
        assert.deepEqual(new Set(ids(got.alerts)), new Set(ids(raised)));
        emitted.push(...ids(got.alerts));
      }
      assert.equal(new Set(emitted).size, emitted.length, 'none twice');
      assert.equal(store.state.order, order, 'learnt from positions');
      // Once learnt, new alerts come oldest first and a quiet check reads the first page and the
      // last two at most (178 alerts: 4 pages), not the whole list.
      const raised = api.raise(4);
      assert.deepEqual(ids((await check(watcher)).alerts), ids(raised));
      api.requests = [];
      await check(watcher);
      assert.ok(api.requests.length <= 3, `${api.requests.length} requests for a quiet check`);
    });
  }

  it('reads the time from a field of another name (raised), so an oldest-first list is known at once', async () => {
    const api = new FakeAlerts('oldest', 3, false);
    for (const [i, a] of api.list.entries()) a.raised = `2026-01-01 10:0${i}:00`;
    const { watcher, store } = watcherOver(api);
    await check(watcher);
    assert.equal(store.state.order, 'oldest');
  });

  it('concurrent checks run one at a time and hand out each alert once', async () => {
    const api = new FakeAlerts('newest', 57);
    const store = new MemoryStore();
    const { watcher } = watcherOver(api, store);
    await check(watcher);
    api.slow = true;
    store.slow = true;
    const raised = api.raise(3);
    const results = await Promise.all([check(watcher), check(watcher), check(watcher), check(watcher)]);
    assert.deepEqual(ids(results.flatMap((r) => r.alerts)), ids(raised));
    assert.deepEqual(ids(results[0].alerts), ids(raised), 'the first caller gets them');
    assert.equal(api.maxInFlight, 1, 'never two requests at once');
    assert.ok(results.every((r) => !r.firstStart));
  });

  it('concurrent first checks: only the first is the first start', async () => {
    const api = new FakeAlerts('oldest', 10);
    const store = new MemoryStore();
    store.slow = true;
    const { watcher } = watcherOver(api, store);
    const [a, b] = await Promise.all([check(watcher), check(watcher)]);
    assert.equal(a.firstStart, true);
    assert.equal(a.alerts.length, 10);
    assert.equal(b.firstStart, false);
    assert.deepEqual(b.alerts, []);
  });

  it('a failed check saves nothing and does not stop the checks queued behind it', async () => {
    const api = new FakeAlerts('newest', 10);
    const { watcher, store } = watcherOver(api);
    await check(watcher);
    const saved = store.saves;
    const raised = api.raise(2);
    api.failNext = new Error('boom');
    const [failed, next] = await Promise.allSettled([check(watcher), check(watcher)]);
    assert.equal(failed.status, 'rejected');
    assert.equal((failed as PromiseRejectedResult).reason.message, 'boom');
    assert.equal(next.status, 'fulfilled');
    assert.deepEqual(ids((next as PromiseFulfilledResult<{ alerts: Alert[] }>).value.alerts), ids(raised));
    assert.equal(store.saves, saved + 1, 'only the check that succeeded saved');
  });

  it('hands the caller\'s signal to every page request', async () => {
    const api = new FakeAlerts('newest', 120);
    const { watcher } = watcherOver(api);
    const controller = new AbortController();
    await watcher.check(controller.signal);
    assert.equal(api.signals.length, 3);
    assert.ok(api.signals.every((s) => s === controller.signal));
  });

  describe('state', () => {
    it('round-trips through save and load: a new watcher over the same store goes on where the last stopped', async () => {
      const api = new FakeAlerts('oldest', 57);
      const store = new MemoryStore();
      await check(watcherOver(api, store).watcher);
      const raised = api.raise(2);
      const restarted = watcherOver(api, store).watcher;
      const got = await check(restarted);
      assert.equal(got.firstStart, false);
      assert.deepEqual(ids(got.alerts), ids(raised));
      assert.deepEqual(store.state.seen, api.list.map((a) => `id:${String(a.id)}`));
      assert.deepEqual(Object.keys(store.state).sort(), ['order', 'seen', 'total', 'v']);
    });

    it('loads the shape users already have stored (v1: seen, order, total)', async () => {
      const api = new FakeAlerts('newest', 8);
      const store = new MemoryStore();
      store.value = { v: 1, seen: api.list.slice(0, 5).map((a) => `id:${String(a.id)}`), order: 'newest' };
      const got = await check(watcherOver(api, store).watcher);
      assert.equal(got.firstStart, false);
      assert.deepEqual(ids(got.alerts), ids(api.list.slice(5)));
    });

    it('something else under the key counts as nothing stored: a first start', async () => {
      for (const junk of [null, 'x', 42, [], { v: 2, seen: [] }, { v: 1, seen: 'a' }, { v: 1 }]) {
        const api = new FakeAlerts('newest', 3);
        const store = new MemoryStore();
        store.value = junk;
        const got = await check(watcherOver(api, store).watcher);
        assert.equal(got.firstStart, true, JSON.stringify(junk));
        assert.equal(got.alerts.length, 3);
        assert.equal(store.state.v, 1);
      }
    });

    it('readAlertState keeps a valid state and drops a garbled order or total', () => {
      assert.deepEqual(readAlertState({ v: 1, seen: ['id:1'], order: 'oldest', total: 7 }), { v: 1, seen: ['id:1'], order: 'oldest', total: 7 });
      assert.deepEqual(readAlertState({ v: 1, seen: [], order: 'sideways', total: 'many' }), { v: 1, seen: [] });
      assert.deepEqual(readAlertState({ v: 1, seen: [], total: -1 }), { v: 1, seen: [] });
      assert.deepEqual(readAlertState({ v: 1, seen: [], total: Number.NaN }), { v: 1, seen: [] });
      assert.equal(readAlertState(undefined), undefined);
      assert.equal(readAlertState({ v: '1', seen: [] }), undefined);
    });

    it('remembers at most maxRemembered keys, the newest', async () => {
      const api = new FakeAlerts('oldest', 30);
      const { watcher, store } = watcherOver(api, new MemoryStore(), { maxRemembered: 20 });
      const got = await check(watcher);
      assert.equal(got.alerts.length, 20, 'more than can be remembered would come back as new');
      assert.deepEqual(ids(got.alerts), ids(api.list.slice(10)));
      assert.deepEqual(store.state.seen, api.list.slice(10).map((a) => `id:${String(a.id)}`));
    });

    it('newest first stops paging once it has as many as it can remember', async () => {
      const api = new FakeAlerts('newest', 200);
      const { watcher } = watcherOver(api, new MemoryStore(), { maxRemembered: 60 });
      await check(watcher);
      assert.deepEqual(api.offsets(), [0, 50]);
    });
  });
});
