import assert from 'node:assert/strict';
import { useSimulator } from '../../support/fixtures';
import { Alert, alertKey, detectOrder, SeenAlerts } from '../../../lib';

/** Runs `fn` with the process in another time zone, so "read as UTC" is told apart from "read as local". */
function inTimeZone<T>(tz: string, fn: () => T): T {
  const saved = process.env.TZ;
  process.env.TZ = tz;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
}

const alert = (created_at: unknown, extra: Record<string, unknown> = {}): Alert => ({ physical_id: 'dev-1', type: 'co2_high', created_at, ...extra });

describe('alerts', () => {
  describe('alertKey', () => {
    it('uses a string id, whatever else the alert says', () => {
      assert.equal(alertKey({ id: 'a1b2', type: 'co2_high', message: 'x' }), 'id:a1b2');
      assert.equal(alertKey({ id: 'a1b2', type: 'co2_normal', message: 'y' }), alertKey({ id: 'a1b2', message: 'x' }));
    });

    it('uses a numeric id', () => {
      assert.equal(alertKey({ id: 17, type: 'co2_high' }), 'id:17');
      assert.equal(alertKey({ id: 0 }), 'id:0');
      assert.notEqual(alertKey({ id: 17 }), alertKey({ id: 18 }));
    });

    it('without a usable id, fingerprints the content, ignoring key order', () => {
      const a = { physical_id: 'dev-1', type: 'co2_high', value: 1200, threshold: 1000, created_at: '2026-03-29T15:24:05Z' };
      const b = { created_at: '2026-03-29T15:24:05Z', threshold: 1000, value: 1200, type: 'co2_high', physical_id: 'dev-1' };
      const key = alertKey(a);
      assert.match(key, /^fp:[0-9a-f]{40}$/);
      assert.equal(alertKey(b), key);
      assert.notEqual(alertKey({ ...a, value: 1201 }), key);
      assert.notEqual(alertKey({ ...a, created_at: '2026-03-29T15:24:06Z' }), key);
      assert.notEqual(alertKey({ ...a, physical_id: 'dev-2' }), key);
    });

    it('falls back to the fingerprint for an empty, NaN, null or non-scalar id', () => {
      for (const id of ['', Number.NaN, Number.POSITIVE_INFINITY, null, { x: 1 }, true]) {
        const key = alertKey({ id, type: 'co2_high' } as unknown as Alert);
        assert.match(key, /^fp:/, `id ${String(id)}`);
      }
      assert.notEqual(alertKey({ id: '', type: 'a' }), alertKey({ id: '', type: 'b' }));
    });

    it('an id key and a content key cannot collide', () => {
      const withId = alertKey({ id: 'x' });
      const noId = alertKey({ type: 'x' });
      assert.ok(withId.startsWith('id:') && noId.startsWith('fp:'));
    });
  });

  describe('detectOrder', () => {
    it('times falling down the page: newest first', () => {
      assert.equal(detectOrder([alert('2026-03-29T15:00:00Z'), alert('2026-03-29T14:00:00Z'), alert('2026-03-28T09:00:00Z')]), 'newest');
    });

    it('times rising down the page: oldest first', () => {
      assert.equal(detectOrder([alert('2026-03-28T09:00:00Z'), alert('2026-03-29T14:00:00Z'), alert('2026-03-29T15:00:00Z')]), 'oldest');
    });

    it('cannot tell from fewer than two dated alerts', () => {
      assert.equal(detectOrder([]), undefined);
      assert.equal(detectOrder([alert('2026-03-29T15:00:00Z')]), undefined);
      assert.equal(detectOrder([alert('2026-03-29T15:00:00Z'), alert(undefined), alert('not a date')]), undefined);
      assert.equal(detectOrder([{ id: 1 }, { id: 2 }]), undefined);
    });

    it('cannot tell when the first and last dated alerts have the same time', () => {
      assert.equal(detectOrder([alert('2026-03-29T15:00:00Z'), alert('2026-03-29T15:00:00Z')]), undefined);
      assert.equal(detectOrder([alert('2026-03-29T15:00:00Z'), alert('2026-03-29 15:00:00')]), undefined, 'the same instant, written twice');
    });

    it('reads zone-less created_at like "2020-12-16 13:51:58" as UTC', () => {
      assert.equal(detectOrder([alert('2020-12-16 13:51:58'), alert('2020-12-16 13:51:57')]), 'newest');
      assert.equal(detectOrder([alert('2020-12-16 13:51:57'), alert('2020-12-16 13:51:58')]), 'oldest');
      // Against a zoned time one second later: only UTC puts the zone-less one first.
      for (const tz of ['UTC', 'America/New_York', 'Asia/Tokyo']) {
        inTimeZone(tz, () => {
          assert.equal(detectOrder([alert('2020-12-16 13:51:58'), alert('2020-12-16T13:51:59Z')]), 'oldest', tz);
          assert.equal(detectOrder([alert('2020-12-16T13:51:59Z'), alert('2020-12-16 13:51:58')]), 'newest', tz);
        });
      }
    });

    it('skips undated alerts and compares the first and last dated ones', () => {
      assert.equal(detectOrder([alert(undefined), alert('2026-03-29T15:00:00Z'), alert('garbage'), alert('2026-03-29T14:00:00Z'), alert(undefined)]), 'newest');
    });

    it('uses timestamp, time or date when created_at is missing, and epoch numbers', () => {
      assert.equal(detectOrder([{ timestamp: '2026-03-29T15:00:00Z' }, { timestamp: '2026-03-29T14:00:00Z' }]), 'newest');
      assert.equal(detectOrder([{ time: '2026-03-29T14:00:00Z' }, { date: '2026-03-29T15:00:00Z' }]), 'oldest');
      assert.equal(detectOrder([{ created_at: Date.UTC(2026, 0, 1) }, { created_at: Date.UTC(2026, 0, 2) }]), 'oldest');
    });
  });

  describe('detectOrder and alertKey on what the simulator serves', () => {
    const fx = useSimulator({ deviceCount: 5, initialAlerts: 12, alertOrder: 'oldest' });

    it('tells the order of a page either way', async () => {
      const client = fx.client();
      const page = await client.listNotifications({ limit: 10 });
      assert.equal(page.length, 10);
      assert.equal(detectOrder(page), 'oldest');
      fx.sim.set({ alertOrder: 'newest' });
      assert.equal(detectOrder(await client.listNotifications({ limit: 10 })), 'newest');
    });

    it('gives distinct keys by id, and distinct content keys when the API sends no ids', async () => {
      const client = fx.client();
      const withIds = await client.listNotifications({ limit: 12 });
      const idKeys = withIds.map(alertKey);
      assert.ok(idKeys.every((k) => k.startsWith('id:')));
      assert.equal(new Set(idKeys).size, 12);

      fx.sim.set({ alertIds: false });
      const withoutIds = await client.listNotifications({ limit: 12 });
      assert.ok(withoutIds.every((a) => a.id === undefined));
      const fpKeys = withoutIds.map(alertKey);
      assert.ok(fpKeys.every((k) => k.startsWith('fp:')));
      assert.equal(new Set(fpKeys).size, 12);
      // The same alert fetched again has the same key.
      assert.deepEqual((await client.listNotifications({ limit: 12 })).map(alertKey), fpKeys);
    });
  });

  describe('SeenAlerts', () => {
    it('remembers what was added', () => {
      const seen = new SeenAlerts(undefined, 3);
      assert.equal(seen.size, 0);
      assert.equal(seen.has('a'), false);
      seen.add('a');
      seen.add('b');
      assert.equal(seen.has('a'), true);
      assert.equal(seen.has('b'), true);
      assert.equal(seen.has('c'), false);
      assert.equal(seen.size, 2);
    });

    it('is bounded by max and forgets the oldest first', () => {
      const seen = new SeenAlerts([], 3);
      for (const k of ['a', 'b', 'c', 'd', 'e']) seen.add(k);
      assert.equal(seen.size, 3);
      assert.equal(seen.has('a'), false);
      assert.equal(seen.has('b'), false);
      assert.deepEqual(seen.toJSON(), ['c', 'd', 'e']);
    });

    it('re-adding a key refreshes it, so it is forgotten last', () => {
      const seen = new SeenAlerts([], 3);
      for (const k of ['a', 'b', 'c']) seen.add(k);
      seen.add('a');
      assert.equal(seen.size, 3);
      seen.add('d');
      assert.equal(seen.has('a'), true);
      assert.equal(seen.has('b'), false);
      assert.deepEqual(seen.toJSON(), ['c', 'a', 'd']);
    });

    it('round-trips through toJSON / JSON, order (and so eviction order) included', () => {
      const seen = new SeenAlerts([], 4);
      for (const k of ['id:1', 'fp:abc', 'id:2', 'id:1']) seen.add(k);
      const stored = JSON.parse(JSON.stringify(seen)) as unknown;
      assert.deepEqual(stored, ['fp:abc', 'id:2', 'id:1']);
      const restored = new SeenAlerts(stored, 4);
      assert.deepEqual(restored.toJSON(), seen.toJSON());
      restored.add('id:3');
      restored.add('id:4');
      seen.add('id:3');
      seen.add('id:4');
      assert.deepEqual(restored.toJSON(), seen.toJSON());
      assert.equal(restored.has('fp:abc'), false);
    });

    it('an initial list longer than max keeps its newest (last) entries', () => {
      const seen = new SeenAlerts(['a', 'b', 'c', 'd', 'e'], 2);
      assert.deepEqual(seen.toJSON(), ['d', 'e']);
    });

    it('ignores non-string junk in the initial array, and an initial value that is not an array', () => {
      const seen = new SeenAlerts(['a', 1, null, undefined, { k: 'b' }, ['c'], true, 'd'], 10);
      assert.deepEqual(seen.toJSON(), ['a', 'd']);
      for (const initial of [null, undefined, 'a,b', 42, { 0: 'a', length: 1 }]) {
        assert.deepEqual(new SeenAlerts(initial, 10).toJSON(), [], String(initial));
      }
    });

    it('max 0 remembers nothing, the initial list included', () => {
      assert.equal(new SeenAlerts(['a', 'b'], 0).size, 0);
      const seen = new SeenAlerts([], 0);
      seen.add('a');
      assert.equal(seen.has('a'), false);
    });

    it('collapses duplicates in the initial array', () => {
      const seen = new SeenAlerts(['a', 'b', 'a'], 10);
      assert.equal(seen.size, 2);
      assert.ok(seen.has('a') && seen.has('b'));
    });
  });
});
