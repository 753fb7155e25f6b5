/**
 * The daily report against a hand calculation on a recorded day of simulator readings
 * (test/support/airquality-day.ts: the day the clocks go forward in Europe/Copenhagen, a gap),
 * time-weighted and for occupied hours only; reports on request; reports missed while stopped.
 * A fake clock stands in for the day: the service's own timer sends the report at midnight.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { parseAqInput } from '../../../lib/airquality/input';
import { AqReport } from '../../../lib/airquality/report';
import { AqService } from '../../../lib/airquality/service';
import { AqSettingsInput, parseAqSettings } from '../../../lib/airquality/settings';
import { assertHandReport, HAND_REPORT, OCCUPIED_READINGS, RECORDED_DAY, recordedDay, reportSummary } from '../../support/airquality-day';

const MIN = 60_000;

function service(settings: AqSettingsInput, reports: AqReport[] = [], saved: unknown[] = []): AqService {
  return new AqService(parseAqSettings(settings), (_profile, category) => category, {
    report: (r) => reports.push(r),
    save: async (state) => { saved.push(JSON.parse(JSON.stringify(state))); },
  });
}

/** Each reading arrives when the API has it (its created_at), as a telemetry msg in device mode. */
function play(clock: sinon.SinonFakeTimers, s: AqService, readings = recordedDay()): void {
  for (const reading of readings) {
    clock.tick(Math.max(0, Date.parse(reading.created_at!) - Date.now()));
    const input = parseAqInput({ topic: reading.physical_id, physical_id: reading.physical_id, payload: reading }, Date.now());
    assert.equal(input.kind, 'readings');
    if (input.kind === 'readings') s.observe(input.readings);
  }
}

describe('air quality: the report', () => {
  let clock: sinon.SinonFakeTimers;
  beforeEach(() => {
    clock = sinon.useFakeTimers({ now: Date.parse('2026-03-28T22:00:00Z'), toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
  });
  afterEach(() => clock.restore());

  it('the recorded day is the generator\'s: the readings that held in occupied time are those of the hand calculation', () => {
    const day = recordedDay();
    for (const [device, table] of Object.entries(OCCUPIED_READINGS)) {
      const held = day.filter((r) => r.physical_id === device && r.timestamp! >= '2026-03-29T05' && r.timestamp! < '2026-03-29T16')
        .map((r) => [r.timestamp!.slice(11, 19), (r.data as { co2: number }).co2]);
      assert.deepEqual(held, table, device);
    }
    assert.equal(day.length, 2 * 24 - 2, 'an hourly reading of each room from 22:xx UTC the evening before, two left out');
  });

  it('the daily report at local midnight equals the hand calculation: 23 hours, occupied 06:00–16:00 UTC, time-weighted, a 1.5 h gap as no data', () => {
    const reports: AqReport[] = [];
    const s = service(RECORDED_DAY.settings, reports);
    s.load(undefined);
    play(clock, s);
    clock.tick(RECORDED_DAY.to - Date.now());
    // Saturday's report went out at Saturday midnight (23:00Z), before most readings; then Sunday's.
    assert.deepEqual(reports.map((r) => [r.kind, r.from, r.to]), [
      ['daily', '2026-03-27T23:00:00.000Z', '2026-03-28T23:00:00.000Z'],
      ['daily', HAND_REPORT.from, HAND_REPORT.to],
    ]);
    assertHandReport(reports[1]);
    console.log(`      report of ${reports[1].from}..${reports[1].to}: ${JSON.stringify(reports[1].all)}`);
    clock.tick(24 * 60 * MIN);
    assert.equal(reports.length, 3, 'and the next one a day later');
    assert.equal(reports[2].hours, 24);
    void s.close();
  });

  it('a report asked for afterwards (msg.from/msg.to) is the same', () => {
    const s = service(RECORDED_DAY.settings);
    s.load(undefined);
    play(clock, s);
    clock.tick(RECORDED_DAY.to + 3 * 60 * MIN - Date.now());
    const report = s.report(RECORDED_DAY.from, RECORDED_DAY.to);
    assert.equal(report.kind, 'requested');
    assertHandReport(report);
    void s.close();
  });

  it('counts the time each reading held, not the readings: 60 readings in one minute weigh one minute', () => {
    const s = service({ timeZone: 'UTC', days: '1,2,3,4,5,6,7', occupiedFrom: '00:00', occupiedTo: '24:00', reportAt: '', gap: 180 });
    s.load(undefined);
    const at = (m: number, sec = 0) => Date.parse('2026-03-29T08:00:00Z') + m * MIN + sec * 1000;
    clock.tick(at(0) - Date.now());
    s.observe(Array.from({ length: 60 }, (_, i) => ({ device: 'd', co2: 600, at: at(0, i) })));
    s.observe([{ device: 'd', co2: 1300, at: at(1) }]);
    clock.tick(at(120) - Date.now());
    const report = s.report(at(0), at(120));
    assert.deepEqual(reportSummary(report.devices[0]).hours, { I: 0.017, II: 0, III: 1.983, IV: 0 }, '1 minute in I, 119 in III');
    assert.equal(report.devices[0].ppmHoursAbove, round1((1300 - 1220) * 119 / 60));
    void s.close();
  });

  it('a reading holds at most the gap setting; the time after it is no data', () => {
    const s = service({ timeZone: 'UTC', days: '1,2,3,4,5,6,7', occupiedFrom: '00:00', occupiedTo: '24:00', reportAt: '', gap: 15 });
    s.load(undefined);
    const t0 = Date.parse('2026-03-29T08:00:00Z');
    s.observe([{ device: 'd', co2: 500, at: t0 }, { device: 'd', co2: 500, at: t0 + 60 * MIN }]);
    clock.tick(t0 + 90 * MIN - Date.now());
    const r = s.report(t0, t0 + 90 * MIN).devices[0];
    // 08:00–08:15 and 09:00–09:15 (the last reading still holds up to now, 15 minutes at most).
    assert.deepEqual([r.dataHours, r.noDataHours], [0.5, 1]);
    void s.close();
  });

  it('refuses a report from further back than the history reaches, or of no time', () => {
    const s = service({ timeZone: 'UTC' });
    s.load(undefined);
    const now = Date.now();
    assert.throws(() => s.report(now - 9 * 24 * 60 * MIN, undefined), /msg\.from.*8 days/);
    assert.throws(() => s.report(now + 60 * MIN, undefined), /no time/);
    assert.doesNotThrow(() => s.report(now - 7 * 24 * 60 * MIN, undefined));
    void s.close();
  });

  it('a daily report that fails is reported, not thrown out of the timer, and the next day\'s comes', () => {
    const failures: unknown[] = [];
    let calls = 0;
    const s = new AqService(parseAqSettings({ timeZone: 'UTC' }), (_p, c) => c, {
      report: () => { calls++; if (calls === 1) throw new Error('the output is gone'); },
      save: async () => undefined,
      failed: (err) => failures.push(err),
    });
    s.load(undefined);
    clock.tick(2 * 24 * 60 * MIN);
    assert.equal(calls, 2);
    assert.deepEqual(failures.map((e) => (e as Error).message), ['the output is gone']);
    void s.close();
  });

  it('after a stop, the daily reports missed meanwhile go out at start, oldest first, once', async () => {
    const reports: AqReport[] = [];
    const saved: unknown[] = [];
    const first = service(RECORDED_DAY.settings, reports, saved);
    first.load(undefined);
    play(clock, first, recordedDay().filter((r) => r.timestamp! < '2026-03-29T12'));
    await first.close();
    const reportsBefore = reports.length;
    // Down from Sunday noon to Tuesday 09:00 local: Sunday's and Monday's reports were missed.
    clock.tick(Date.parse('2026-03-31T07:00:00Z') - Date.now());
    const again = service(RECORDED_DAY.settings, reports, saved);
    again.load(saved.at(-1));
    assert.deepEqual(reports.slice(reportsBefore).map((r) => [r.from, r.to]), [
      ['2026-03-28T23:00:00.000Z', '2026-03-29T22:00:00.000Z'],
      ['2026-03-29T22:00:00.000Z', '2026-03-30T22:00:00.000Z'],
    ]);
    const sunday = reports[reportsBefore];
    assert.equal(sunday.devices.length, 2, 'the devices and their history came back');
    assert.ok(sunday.all.dataHours > 0 && sunday.all.noDataHours > 0);
    await again.close();
    const third = service(RECORDED_DAY.settings, reports, saved);
    third.load(saved.at(-1));
    assert.equal(reports.length, reportsBefore + 2, 'nothing twice');
    await third.close();
  });
});

function round1(x: number): number {
  return Math.round(x * 10) / 10;
}
