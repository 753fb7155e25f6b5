/**
 * Local time with the Intl API only: instants of local times across daylight-saving changes
 * (a 23-hour and a 25-hour day in Europe/Copenhagen, the spring gap, the autumn repeat), zones
 * with quarter-hour offsets, and the occupied hours built on them.
 */
import assert from 'node:assert/strict';
import { Occupancy } from '../../../lib/airquality/occupancy';
import { addDays, hostTimeZone, isoWeekday, timeZoneSetting, Zone } from '../../../lib/airquality/zone';

const H = 3_600_000;
const iso = (t: number) => new Date(t).toISOString();

describe('air quality: local time (zone.ts)', () => {
  const cph = new Zone('Europe/Copenhagen');

  it('the day the clocks go forward has 23 hours, the day they go back 25', () => {
    const start = cph.instant({ year: 2026, month: 3, day: 29 }, 0);
    const end = cph.instant({ year: 2026, month: 3, day: 30 }, 0);
    assert.equal(iso(start), '2026-03-28T23:00:00.000Z');
    assert.equal(iso(end), '2026-03-29T22:00:00.000Z');
    assert.equal((end - start) / H, 23);
    const autumn = cph.instant({ year: 2026, month: 10, day: 25 }, 0);
    assert.equal((cph.instant({ year: 2026, month: 10, day: 26 }, 0) - autumn) / H, 25);
    assert.equal((cph.instant({ year: 2026, month: 3, day: 28 }, 1440) - cph.instant({ year: 2026, month: 3, day: 28 }, 0)) / H, 24, 'an ordinary day; 1440 is the next midnight');
  });

  it('a local time in the spring gap is taken after the gap, one that occurs twice as its first', () => {
    assert.equal(iso(cph.instant({ year: 2026, month: 3, day: 29 }, 2 * 60 + 30)), '2026-03-29T01:30:00.000Z', '02:30 does not exist: 03:30 CEST');
    assert.equal(iso(cph.instant({ year: 2026, month: 3, day: 29 }, 3 * 60)), '2026-03-29T01:00:00.000Z');
    assert.equal(iso(cph.instant({ year: 2026, month: 10, day: 25 }, 2 * 60 + 30)), '2026-10-25T00:30:00.000Z', '02:30 CEST, not 02:30 CET');
    assert.equal(iso(cph.instant({ year: 2026, month: 10, day: 25 }, 8 * 60)), '2026-10-25T07:00:00.000Z');
  });

  it('offsets, local dates and minutes around the change', () => {
    assert.equal(cph.offset(Date.parse('2026-03-29T00:59:59Z')), 1 * H);
    assert.equal(cph.offset(Date.parse('2026-03-29T01:00:00Z')), 2 * H);
    assert.deepEqual(cph.dateOf(Date.parse('2026-03-28T23:00:00Z')), { year: 2026, month: 3, day: 29 });
    assert.deepEqual(cph.dateOf(Date.parse('2026-03-28T22:59:59Z')), { year: 2026, month: 3, day: 28 });
    assert.equal(cph.minuteOf(Date.parse('2026-03-29T06:00:00Z')), 8 * 60);
    assert.equal(isoWeekday({ year: 2026, month: 3, day: 29 }), 7, 'a Sunday');
    assert.deepEqual(addDays({ year: 2026, month: 2, day: 28 }, 1), { year: 2026, month: 3, day: 1 });
  });

  it('zones with quarter-hour and half-hour offsets, and half-hour daylight saving (Lord Howe)', () => {
    assert.equal(iso(new Zone('Asia/Kathmandu').instant({ year: 2026, month: 3, day: 29 }, 0)), '2026-03-28T18:15:00.000Z');
    assert.equal(iso(new Zone('Asia/Kolkata').instant({ year: 2026, month: 3, day: 29 }, 0)), '2026-03-28T18:30:00.000Z');
    const lordHowe = new Zone('Australia/Lord_Howe');
    // Daylight saving ends on 5 April 2026 at 02:00 (+11:00 → +10:30): the day has 24.5 hours.
    assert.equal((lordHowe.instant({ year: 2026, month: 4, day: 6 }, 0) - lordHowe.instant({ year: 2026, month: 4, day: 5 }, 0)) / H, 24.5);
    const ny = new Zone('America/New_York');
    assert.equal((ny.instant({ year: 2026, month: 3, day: 9 }, 0) - ny.instant({ year: 2026, month: 3, day: 8 }, 0)) / H, 23);
  });

  it('time zone settings: an IANA name, or empty for the host\'s; anything else is refused', () => {
    assert.equal(timeZoneSetting('Europe/Copenhagen', 'timeZone'), 'Europe/Copenhagen');
    assert.equal(timeZoneSetting(' UTC ', 'timeZone'), 'UTC');
    assert.equal(timeZoneSetting('', 'timeZone'), hostTimeZone());
    assert.equal(timeZoneSetting(undefined, 'timeZone'), hostTimeZone());
    for (const bad of ['Mars/Olympus', 'Europe/Copenhagen; DROP', 42, 'x'.repeat(65)]) {
      assert.throws(() => timeZoneSetting(bad, 'timeZone'), (err: Error & { code?: string }) => err.code === 'LEAPCRAFT_INVALID_INPUT' && /timeZone/.test(err.message), String(bad));
    }
  });
});

describe('air quality: occupied hours (occupancy.ts)', () => {
  const cph = new Zone('Europe/Copenhagen');

  it('08:00–18:00 local on the day the clocks go forward: 06:00–16:00 UTC, the day before 07:00–17:00', () => {
    const occupancy = new Occupancy(cph, { days: [6, 7], from: 8 * 60, to: 18 * 60 });
    const spans = occupancy.within(Date.parse('2026-03-27T23:00:00Z'), Date.parse('2026-03-29T22:00:00Z'));
    assert.deepEqual(spans.map((s) => [iso(s.from), iso(s.to)]), [
      ['2026-03-28T07:00:00.000Z', '2026-03-28T17:00:00.000Z'],
      ['2026-03-29T06:00:00.000Z', '2026-03-29T16:00:00.000Z'],
    ]);
    assert.equal(occupancy.length(Date.parse('2026-03-29T05:00:00Z'), Date.parse('2026-03-29T07:30:00Z')), 1.5 * H, 'cut to the span asked for');
  });

  it('only the weekdays chosen; a span past midnight belongs to the day it starts on', () => {
    const weekdays = new Occupancy(cph, { days: [1, 2, 3, 4, 5], from: 8 * 60, to: 18 * 60 });
    // Fri 27 March .. Mon 30 March (local): Friday and Monday only.
    assert.equal(weekdays.length(Date.parse('2026-03-26T23:00:00Z'), Date.parse('2026-03-30T22:00:00Z')), 20 * H);
    const nights = new Occupancy(cph, { days: [7], from: 22 * 60, to: 6 * 60 });
    // Sunday 29 March 22:00 CEST to Monday 06:00 CEST, and nothing of Saturday night.
    assert.deepEqual(nights.within(Date.parse('2026-03-28T00:00:00Z'), Date.parse('2026-03-31T00:00:00Z')).map((s) => [iso(s.from), iso(s.to)]),
      [['2026-03-29T20:00:00.000Z', '2026-03-30T04:00:00.000Z']]);
  });

  it('00:00–24:00 every day: every hour counts, 23 of them on the short day', () => {
    const always = new Occupancy(cph, { days: [1, 2, 3, 4, 5, 6, 7], from: 0, to: 1440 });
    assert.equal(always.length(Date.parse('2026-03-28T23:00:00Z'), Date.parse('2026-03-29T22:00:00Z')), 23 * H);
    assert.equal(always.length(Date.parse('2026-10-24T22:00:00Z'), Date.parse('2026-10-25T23:00:00Z')), 25 * H);
  });
});
