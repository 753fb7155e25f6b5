import assert from 'node:assert/strict';
import { HistoryPoint } from '../../../lib/history/points';
import { DaySet, MAX_REMEMBERED_DEVICES, readHistoryState, WrittenLog } from '../../../lib/history/written';

const at = (ms: number): HistoryPoint => ({ measurement: 'm', tags: { device: 'x' }, fields: { v: 1 }, timestamp: new Date(ms) });

describe('what the history output has written', () => {
  describe('WrittenLog.takeNew', () => {
    it('a reading is new once: the same time again, or an older one, is not', () => {
      const log = new WrittenLog();
      assert.equal(log.takeNew('a', [at(1000)]).length, 1);
      assert.equal(log.takeNew('a', [at(1000)]).length, 0);
      assert.equal(log.takeNew('a', [at(500)]).length, 0);
      assert.equal(log.takeNew('a', [at(2000)]).length, 1);
      assert.equal(log.takeNew('b', [at(1000)]).length, 1, 'per device');
    });
    it('of several points, those newer than the last written; the newest counts', () => {
      const log = new WrittenLog();
      log.takeNew('a', [at(2000)]);
      assert.deepEqual(log.takeNew('a', [at(1000), at(3000), at(2500)]).map((p) => p.timestamp.getTime()), [3000, 2500]);
      assert.equal(log.takeNew('a', [at(2900)]).length, 0);
    });
    it('survives its saved form (what a context store keeps across restarts)', () => {
      const log = new WrittenLog();
      log.takeNew('a', [at(1000)]);
      log.addDay('a', 20000);
      const again = new WrittenLog(readHistoryState(JSON.parse(JSON.stringify(log.toJSON()))));
      assert.equal(again.takeNew('a', [at(1000)]).length, 0);
      assert.ok(again.hasDay('a', 20000));
    });
    it('forgets the device heard of longest ago when it would remember too many', () => {
      const state = { v: 1 as const, last: Object.fromEntries(Array.from({ length: MAX_REMEMBERED_DEVICES }, (_, i) => [`d${i}`, 10 + i])), days: {} };
      const log = new WrittenLog(state);
      assert.equal(log.takeNew('new', [at(5)]).length, 1);
      const saved = log.toJSON();
      assert.equal(Object.keys(saved.last).length, MAX_REMEMBERED_DEVICES);
      assert.ok(!('d0' in saved.last));
      assert.ok('d1' in saved.last);
    });
  });

  describe('days', () => {
    it('are kept as ranges: a month written is one pair', () => {
      const set = new DaySet();
      for (let d = 100; d < 130; d++) set.add(d);
      set.add(140);
      assert.deepEqual(set.toJSON(), [[100, 129], [140, 140]]);
      set.add(131);
      set.add(130);
      assert.deepEqual(set.toJSON(), [[100, 131], [140, 140]]);
      assert.ok(set.has(115) && !set.has(135));
    });
    it('older days are forgotten', () => {
      const log = new WrittenLog();
      for (const d of [10, 11, 12, 20]) log.addDay('a', d);
      log.addDay('b', 5);
      log.forgetDaysBefore(12);
      assert.deepEqual(log.toJSON().days, { a: [[12, 12], [20, 20]] });
    });
  });

  describe('readHistoryState (a stored value is untrusted)', () => {
    it('refuses what is not a saved state', () => {
      for (const v of [undefined, null, 'x', [], {}, { v: 2, last: {} }, { v: 1, last: [] }]) assert.equal(readHistoryState(v), undefined, JSON.stringify(v));
    });
    it('drops bad entries and keeps good ones', () => {
      const state = readHistoryState({
        v: 1,
        last: { a: 1000, b: 'x', c: NaN, d: null },
        days: { a: [[1, 3], [5, 4], [-1, 2], 'x', [1.5, 2]], b: 'x', c: [] },
        extra: true,
      });
      assert.deepEqual(state, { v: 1, last: { a: 1000 }, days: { a: [[1, 3]] } });
    });
    it('merges overlapping ranges a hand-edited store may hold', () => {
      assert.deepEqual(new DaySet([[5, 9], [1, 3], [2, 6]]).toJSON(), [[1, 9]]);
    });
  });
});
