/**
 * A recorded day for the air-quality report: the simulator's data generator (simulator/model.ts,
 * seed 1, one report an hour) for two rooms, and the report worked out by hand, for the unit test
 * (test/lib/airquality/report.test.ts) and the node test (test/nodes/air-quality-node.test.ts).
 *
 * The day is Sunday 29 March 2026 in Europe/Copenhagen: the clocks go forward at 02:00, so the
 * local day runs from 2026-03-28T23:00Z to 2026-03-29T22:00Z, 23 hours. The simulated building
 * works Monday to Friday on UTC and every EU clock change falls on a Sunday, so the generator's
 * own Sunday is empty air: the series is the generator's readings of the Monday after (30 March),
 * each one's time moved back 24 hours onto the Sunday of the change. Two readings of the
 * Training Room are left out, a gap.
 */
import assert from 'node:assert/strict';
import { generateWorld } from '../../simulator/data';
import { latestTelemetry } from '../../simulator/model';
import type { AqReport, TelemetryReading } from '../../lib';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export const RECORDED_DAY = {
  timeZone: 'Europe/Copenhagen',
  /** The local day's bounds: 00:00 CET, and 00:00 CEST of the next day. */
  from: Date.parse('2026-03-28T23:00:00Z'),
  to: Date.parse('2026-03-29T22:00:00Z'),
  /**
   * The node's settings: EN 16798-1 with 420 ppm outdoors (categories I ≤ 970, II ≤ 1220,
   * III ≤ 1770 ppm; the limit is II's 1220), occupied every day 08:00–18:00 local (on this day
   * 06:00–16:00 UTC), a reading holds at most 90 minutes, the daily report at midnight.
   */
  settings: {
    profile: 'en16798', outdoorCo2: 420, days: '1,2,3,4,5,6,7', occupiedFrom: '08:00', occupiedTo: '18:00', gap: 90, reportAt: '00:00', timeZone: 'Europe/Copenhagen',
  },
  /** Device indexes of the generator (seed 1): Conference Room A (busy 0.96) and Training Room (0.90). */
  rooms: [11, 7],
  /** Readings left out: the Training Room's at 10:57:56Z and 11:57:56Z (UTC, on the Sunday). */
  dropped: ['2026-03-29T10:57:56Z', '2026-03-29T11:57:56Z'],
};

/**
 * The day's readings in time order, as GET /telemetry (latest) answers them and leapcraft-telemetry
 * passes them on in its device mode: from 22:xx UTC the evening before to 21:xx UTC.
 */
export function recordedDay(): TelemetryReading[] {
  const world = generateWorld({ seed: 1, deviceCount: 12, gateways: 3, thingCount: 0 });
  const params = { seed: 1, reportIntervalMs: HOUR };
  const readings: TelemetryReading[] = [];
  for (const index of RECORDED_DAY.rooms) {
    const device = world.devices[index];
    // The generator's Monday from 22:00 UTC on Sunday: each hour's report, one day back.
    for (let t = Date.parse('2026-03-29T22:00:00Z') + HOUR - 1; t < Date.parse('2026-03-30T22:00:00Z'); t += HOUR) {
      const reading = latestTelemetry(device, t, params);
      const moved: TelemetryReading = {
        ...reading,
        data: { ...reading.data },
        timestamp: new Date(Date.parse(reading.timestamp) - DAY).toISOString().replace('.000Z', 'Z'),
        created_at: new Date(Date.parse(reading.created_at) - DAY).toISOString().replace('.000Z', 'Z'),
      };
      if (index === 7 && RECORDED_DAY.dropped.includes(moved.timestamp!)) continue;
      readings.push(moved);
    }
  }
  return readings.sort((a, b) => Date.parse(a.timestamp!) - Date.parse(b.timestamp!));
}

/**
 * The readings that held during occupied time (06:00–16:00 UTC), as the generator gives them:
 * [UTC time of the reading, CO2 ppm]. The tests check that recordedDay() holds exactly these.
 */
export const OCCUPIED_READINGS: Record<string, Array<[string, number]>> = {
  // Conference Room A reports at hh:52:27.
  '59:C9:29:CD:B7:2A': [
    ['05:52:27', 424], ['06:52:27', 411], ['07:52:27', 420], ['08:52:27', 689], ['09:52:27', 904], ['10:52:27', 1039],
    ['11:52:27', 1072], ['12:52:27', 1084], ['13:52:27', 1245], ['14:52:27', 1270], ['15:52:27', 1294],
  ],
  // Training Room reports at hh:57:56; 10:57:56 (1010) and 11:57:56 (1027) are left out.
  '12:CC:88:DA:C0:1E': [
    ['05:57:56', 425], ['06:57:56', 429], ['07:57:56', 413], ['08:57:56', 690], ['09:57:56', 875],
    ['12:57:56', 1067], ['13:57:56', 1198], ['14:57:56', 1232], ['15:57:56', 1241],
  ],
};

/**
 * The report by hand. Occupied time is 06:00:00–16:00:00 UTC = 36000 s per room. A reading holds
 * until the next one (at most 90 minutes); categories by the table: I ≤ 970 < II ≤ 1220 < III.
 *
 * Conference Room A
 *   05:52:27  424 I    holds 06:00:00–06:52:27 in occupied time:  3147 s
 *   06:52:27 … 09:52:27  411, 420, 689, 904   all I, 4 × 3600 s  = 14400 s
 *   10:52:27 … 12:52:27  1039, 1072, 1084     all II, 3 × 3600 s = 10800 s
 *   13:52:27 1245 III 3600 s, 25 ppm over 1220  →  25 × 1 h       = 25 ppm·h
 *   14:52:27 1270 III 3600 s, 50 ppm over       →  50 × 1 h       = 50 ppm·h
 *   15:52:27 1294 III 15:52:27–16:00:00 = 453 s, 74 ppm over → 74 × 453/3600 = 9.3117 ppm·h
 *   I  = 3147 + 14400 = 17547 s = 4.874 h   share 17547/36000 = 0.4874
 *   II = 10800 s                = 3 h       share 0.3
 *   III = 7200 + 453 = 7653 s   = 2.126 h   share 7653/36000 = 0.2126
 *   above the limit: 25 + 50 + 9.3117 = 84.3 ppm·h; highest 1294 at 15:52:27Z; no data: 0 h
 *
 * Training Room
 *   05:57:56  425 I   06:00:00–06:57:56:  3476 s
 *   06:57:56 … 08:57:56  429, 413, 690   I, 3 × 3600 s = 10800 s
 *   09:57:56  875 I   holds 90 minutes (the next reading is gone): 09:57:56–11:27:56 = 5400 s
 *   11:27:56–12:57:56  no data: 5400 s = 1.5 h
 *   12:57:56 1067 II, 13:57:56 1198 II: 2 × 3600 s = 7200 s
 *   14:57:56 1232 III 3600 s, 12 ppm over → 12 ppm·h
 *   15:57:56 1241 III 15:57:56–16:00:00 = 124 s, 21 ppm over → 21 × 124/3600 = 0.7233 ppm·h
 *   I  = 3476 + 10800 + 5400 = 19676 s = 5.466 h  share 19676/30600 = 0.643
 *   II = 7200 s = 2 h                              share 7200/30600 = 0.2353
 *   III = 3600 + 124 = 3724 s = 1.034 h            share 3724/30600 = 0.1217
 *   with data 30600 s = 8.5 h; above the limit 12.7 ppm·h; highest 1241 at 15:57:56Z
 *
 * Both rooms: I 37223 s = 10.34 h (share 37223/66600 = 0.5589), II 18000 s = 5 h (0.2703),
 * III 11377 s = 3.16 h (0.1708); with data 18.5 h, no data 1.5 h; 84.3117 + 12.7233 = 97.0 ppm·h;
 * highest 1294 ppm in Conference Room A.
 */
export const HAND_REPORT = {
  from: '2026-03-28T23:00:00.000Z',
  to: '2026-03-29T22:00:00.000Z',
  hours: 23,
  occupiedHours: 10,
  rooms: {
    '59:C9:29:CD:B7:2A': {
      hours: { I: 4.874, II: 3, III: 2.126, IV: 0 }, shares: { I: 0.4874, II: 0.3, III: 0.2126, IV: 0 },
      dataHours: 10, noDataHours: 0, ppmHoursAbove: 84.3, max: { co2: 1294, at: '2026-03-29T15:52:27.000Z' },
    },
    '12:CC:88:DA:C0:1E': {
      hours: { I: 5.466, II: 2, III: 1.034, IV: 0 }, shares: { I: 0.643, II: 0.2353, III: 0.1217, IV: 0 },
      dataHours: 8.5, noDataHours: 1.5, ppmHoursAbove: 12.7, max: { co2: 1241, at: '2026-03-29T15:57:56.000Z' },
    },
  },
  all: {
    hours: { I: 10.34, II: 5, III: 3.16, IV: 0 }, shares: { I: 0.5589, II: 0.2703, III: 0.1708, IV: 0 },
    dataHours: 18.5, noDataHours: 1.5, ppmHoursAbove: 97, max: { co2: 1294, at: '2026-03-29T15:52:27.000Z', device: '59:C9:29:CD:B7:2A' },
  },
};

/** A report in the hand calculation's terms. */
export function reportSummary(r: Pick<AqReport['devices'][number], 'categories' | 'dataHours' | 'noDataHours' | 'ppmHoursAbove'>) {
  return {
    hours: Object.fromEntries(r.categories.map((c) => [c.category, c.hours])),
    shares: Object.fromEntries(r.categories.map((c) => [c.category, c.share])),
    dataHours: r.dataHours, noDataHours: r.noDataHours, ppmHoursAbove: r.ppmHoursAbove,
  };
}

/** The report the node sent equals the hand calculation. */
export function assertHandReport(report: AqReport): void {
  assert.equal(report.from, HAND_REPORT.from);
  assert.equal(report.to, HAND_REPORT.to);
  assert.equal(report.hours, HAND_REPORT.hours, 'the day the clocks go forward has 23 hours');
  assert.equal(report.occupiedHours, HAND_REPORT.occupiedHours);
  assert.equal(report.timeZone, 'Europe/Copenhagen');
  assert.deepEqual([report.profile, report.limit, report.limitAboveOutdoor], ['en16798', 800, true]);
  assert.deepEqual(report.devices.map((d) => d.device).sort(), Object.keys(HAND_REPORT.rooms).sort());
  for (const device of report.devices) {
    const hand = HAND_REPORT.rooms[device.device as keyof typeof HAND_REPORT.rooms];
    const { max, ...rest } = hand;
    assert.deepEqual(reportSummary(device), rest, device.device);
    assert.deepEqual(device.max, max, device.device);
  }
  const { max, ...rest } = HAND_REPORT.all;
  assert.deepEqual(reportSummary(report.all), rest, 'all devices');
  assert.deepEqual({ co2: report.all.max!.co2, at: report.all.max!.at, device: report.all.max!.device }, max);
  assert.equal(report.all.devices, 2);
}
