/**
 * The decisions on readings, by reading time: categories without chatter (margin and dwell),
 * the proportional demand at and between its set-points, and the on/off demand with its
 * hysteresis and minimum on and off times.
 */
import assert from 'node:assert/strict';
import { nextCategory } from '../../../lib/airquality/category';
import { nextSwitch, proportionalDemand } from '../../../lib/airquality/demand';
import { AQ_MAX_DEVICES, AqMonitor, AqObservation } from '../../../lib/airquality/monitor';
import { Occupancy } from '../../../lib/airquality/occupancy';
import { buildProfile } from '../../../lib/airquality/profiles';
import { AqSettingsInput, parseAqSettings } from '../../../lib/airquality/settings';
import { Zone } from '../../../lib/airquality/zone';

const T0 = Date.UTC(2026, 2, 30, 8, 0, 0);
const S = 1000;
const MIN = 60 * S;

function monitor(input: AqSettingsInput = {}): AqMonitor {
  const settings = parseAqSettings({ timeZone: 'UTC', ...input });
  return new AqMonitor(settings, buildProfile(settings, (_p, c) => c), new Occupancy(new Zone('UTC'), settings.occupied));
}

/** Feeds (seconds after T0, ppm) pairs for one device; returns every observation. */
function feed(m: AqMonitor, series: Array<[number, number]>, device = 'dev-1'): AqObservation[] {
  return series.map(([s, co2]) => m.observe({ device, co2, at: T0 + s * S }));
}

const categoryChanges = (obs: AqObservation[]) => obs.slice(1).filter((o) => o.change?.changed.includes('category'));

/** An hour of readings every 30 s, alternating ±40 ppm around `centre`. */
function oscillation(centre: number, start: number): Array<[number, number]> {
  return Array.from({ length: 120 }, (_, i) => [i * 30, centre + (i % 2 === 0 ? start : -start) * 40] as [number, number]);
}

describe('air quality: categories without chatter', () => {
  // EN 16798-1, outdoor 420: the boundary between II and III is 1220 ppm.
  for (const start of [1, -1]) {
    it(`a series oscillating ±40 ppm around the II/III boundary for an hour changes category at most once (starting ${start > 0 ? 'above' : 'below'})`, () => {
      const obs = feed(monitor(), oscillation(1220, start));
      assert.equal(obs[0].annotation.category, start > 0 ? 'III' : 'II', 'the first reading sets its category at once');
      assert.deepEqual(obs[0].change, { previous: null, changed: ['category', 'demandOn'] });
      assert.ok(categoryChanges(obs).length <= 1, `${categoryChanges(obs).length} changes`);
      assert.equal(categoryChanges(obs).length, 0);
    });
  }

  it('without margin and dwell the same series changes category at every reading (what the margin and dwell prevent)', () => {
    const obs = feed(monitor({ margin: 0, dwell: 0 }), oscillation(1220, 1));
    assert.equal(categoryChanges(obs).length, 119);
  });

  it('either alone holds this series: the margin (±40 stays within 50 ppm) or the dwell (no side lasts 2 minutes)', () => {
    assert.equal(categoryChanges(feed(monitor({ dwell: 0 }), oscillation(1220, 1))).length, 0, 'margin alone');
    assert.equal(categoryChanges(feed(monitor({ margin: 0 }), oscillation(1220, 1))).length, 0, 'dwell alone');
  });

  it('a step change changes the category once, at the first reading after the dwell time', () => {
    const m = monitor();
    const before = feed(m, [[0, 990], [30, 995], [60, 985]]);
    assert.equal(before[0].annotation.category, 'II');
    // From 90 s on: 1400 ppm, past 1220 + 50, every 30 s for 10 minutes.
    const step = feed(m, Array.from({ length: 20 }, (_, i) => [90 + i * 30, 1400] as [number, number]));
    const changes = step.filter((o) => o.change?.changed.includes('category'));
    assert.equal(changes.length, 1);
    assert.equal(changes[0].annotation.timestamp, new Date(T0 + (90 + 120) * S).toISOString(), 'dwell of 2 minutes from the first reading past the margin');
    assert.equal(changes[0].annotation.category, 'III');
    assert.equal(changes[0].annotation.since, changes[0].annotation.timestamp);
    assert.deepEqual(changes[0].change!.previous, { category: 'II', label: 'II', level: 2, color: '#F0E442', since: new Date(T0).toISOString(), demandOn: false });
    assert.equal(step[3].annotation.category, 'II', 'still II 90 s into the dwell');
  });

  it('a step that turns back within the dwell changes nothing, and the dwell starts again', () => {
    const m = monitor();
    feed(m, [[0, 990]]);
    const obs = feed(m, [[60, 1400], [120, 1400], [150, 990], [180, 1400], [240, 1400], [270, 1400], [300, 1400]]);
    assert.deepEqual(obs.map((o) => o.annotation.category), ['II', 'II', 'II', 'II', 'II', 'II', 'III']);
  });

  it('a jump over two categories goes straight to the one the readings point to after the dwell', () => {
    const m = monitor();
    feed(m, [[0, 800]]);
    const obs = feed(m, [[60, 1300], [120, 1900], [180, 1900]]);
    assert.deepEqual(obs.map((o) => o.annotation.category), ['I', 'I', 'IV']);
  });

  it('a step down needs the margin below the boundary too', () => {
    const m = monitor({ dwell: 0 });
    feed(m, [[0, 1300]]);
    assert.deepEqual(feed(m, [[60, 1200], [120, 1171], [180, 1170]]).map((o) => o.annotation.category), ['III', 'III', 'II']);
  });

  it('nextCategory: the dwell counts the readings\' own time', () => {
    const rules = { classify: (v: number) => (v > 1000 ? 2 : 1), marginPpm: 50, dwellMs: 2 * MIN };
    let { state } = nextCategory(undefined, 900, 0, rules);
    ({ state } = nextCategory(state, 1100, 10 * MIN, rules));
    assert.deepEqual(state, { level: 1, since: 0, pending: { level: 2, since: 10 * MIN } });
    const r = nextCategory(state, 1100, 12 * MIN - 1, rules);
    assert.equal(r.changed, false);
    assert.deepEqual(nextCategory(r.state, 1100, 12 * MIN, rules), { state: { level: 2, since: 12 * MIN }, changed: true });
  });

  it('a reading older than the device\'s last, or the same one polled again, changes nothing', () => {
    const m = monitor({ dwell: 0 });
    feed(m, [[60, 1000]]);
    const again = feed(m, [[60, 1000], [30, 1600]]);
    assert.deepEqual(again.map((o) => [o.annotation.category, o.change]), [['II', undefined], ['II', undefined]]);
  });
});

describe('air quality: ventilation demand', () => {
  it('proportional: 0 % at the lower set-point and below, 100 % at the upper and above, 50 % half way', () => {
    const rules = { demandLow: 700, demandHigh: 1100 };
    assert.deepEqual([400, 699, 700, 800, 900, 1000, 1100, 1101, 3000].map((v) => proportionalDemand(v, rules)), [0, 0, 0, 25, 50, 75, 100, 100, 100]);
    assert.equal(proportionalDemand(702, rules), 1, 'whole percent');
    assert.deepEqual([500, 600, 700].map((v) => proportionalDemand(v, { demandLow: 500, demandHigh: 700 })), [0, 50, 100]);
  });

  it('the annotated msg carries it', () => {
    const obs = feed(monitor(), [[0, 700], [60, 900], [120, 1100]]);
    assert.deepEqual(obs.map((o) => o.annotation.demand), [0, 50, 100]);
  });

  it('on/off: on at ≥ onAt, off at ≤ offAt, nothing between (hysteresis)', () => {
    const rules = { demandLow: 700, demandHigh: 1100, onAt: 1000, offAt: 800, minOnMs: 0, minOffMs: 0 };
    let state = nextSwitch(undefined, 999, 0, rules).state;
    assert.equal(state.on, false);
    const steps: Array<[number, boolean]> = [[1000, true], [900, true], [801, true], [800, false], [900, false], [999, false], [1000, true]];
    steps.forEach(([co2, on], i) => {
      state = nextSwitch(state, co2, (i + 1) * MIN, rules).state;
      assert.equal(state.on, on, `${co2} ppm`);
    });
  });

  it('holds the minimum on and off times (5 minutes each by default)', () => {
    const m = monitor();
    const obs = feed(m, [
      [0, 700], // off at once (first reading)
      [60, 1050], // would switch on, but off only 1 min
      [299, 1050], // 4:59 off
      [300, 1050], // 5:00: on
      [360, 700], // would switch off, but on only 1 min
      [599, 700],
      [600, 700], // 5:00 on: off
      [660, 1200], // off only 1 min: stays off
      [900, 1200], // on
    ]);
    assert.deepEqual(obs.map((o) => o.annotation.demandOn), [false, false, false, true, true, true, false, false, true]);
    assert.deepEqual(obs.filter((o) => o.change?.changed.includes('demandOn')).map((o) => o.annotation.timestamp),
      [0, 300, 600, 900].map((s) => new Date(T0 + s * S).toISOString()));
    const switchedOn = obs[3].change!;
    assert.deepEqual(switchedOn.changed, ['demandOn'], 'the category (I) stayed');
    assert.equal(switchedOn.previous!.demandOn, false);
    assert.equal(obs[3].annotation.demandSince, new Date(T0 + 300 * S).toISOString());
  });

  it('a change of both category and demand is one change msg naming both', () => {
    const obs = feed(monitor({ dwell: 0, minOff: 0 }), [[0, 700], [60, 1400]]);
    assert.deepEqual(obs[1].change!.changed, ['category', 'demandOn']);
    assert.equal(obs[1].change!.previous!.category, 'I');
  });
});

describe('air quality: at most AQ_MAX_DEVICES devices per node', () => {
  it('a msg that would pass the limit is refused whole, before any of its readings changes anything', () => {
    const m = monitor();
    for (let i = 0; i < AQ_MAX_DEVICES; i++) m.observe({ device: `d${i}`, co2: 500, at: T0 });
    const batch = [{ device: 'd0', co2: 1900, at: T0 + MIN }, { device: 'new', co2: 500, at: T0 + MIN }];
    assert.throws(() => m.checkRoom(batch), /more than 5000 devices/);
    assert.doesNotThrow(() => m.checkRoom([{ device: 'd1', co2: 1900, at: T0 + MIN }]));
    assert.equal(m.summary().devices, AQ_MAX_DEVICES);
    assert.equal(m.summary().worst!.category, 'I', 'd0 unchanged');
  });
});
