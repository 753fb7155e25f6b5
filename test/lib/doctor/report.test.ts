/** The doctor's names (from the one dialect table), its report text and the simulator command (lib/doctor/). */
import assert from 'node:assert/strict';
import { DIALECTS } from '../../../lib/api/dialects';
import { DOCTOR_POINTS, formatDoctorReport, READING_NAMES, simulatorCommand, type DoctorReport, type PointFinding } from '../../../lib/doctor';
import { readingName } from '../../../lib/doctor/types';

function report(points: Partial<Record<string, PointFinding>>, extra: Partial<DoctorReport> = {}): DoctorReport {
  const all = Object.fromEntries(DOCTOR_POINTS.map((p) => [p, points[p] ?? { reading: null, evidence: 'not probed' }])) as DoctorReport['points'];
  return {
    tool: 'leapcraft-doctor 0.0.0', baseUrl: 'http://127.0.0.1:1/v1', startedAt: '2026-03-30T09:00:00.000Z', outcome: 'ok', points: all,
    dialect: DOCTOR_POINTS.map((p) => all[p].reading).filter((r): r is string => r !== null),
    shapes: {}, timings: {}, statuses: {}, surprises: [], requests: 0, ...extra,
  };
}

describe('doctor: names and report', () => {
  it('names every reading of the table by its point and value', () => {
    for (const d of DIALECTS) assert.equal(readingName(d.point, d.value), d.name);
    assert.equal(Object.values(READING_NAMES).reduce((n, names) => n + Object.keys(names).length, 0), DIALECTS.length);
    assert.equal(readingName('alertTime', 'timestamp'), 'alertTime=timestamp');
  });

  it('the simulator command: the named readings, and a flag for a time field without a name', () => {
    const r = report({
      tokenBody: { reading: 'token-oauth2', value: 'oauth2', evidence: '' },
      latestBody: { reading: 'latest-under-data', value: 'under-data', evidence: '' },
      alertTime: { reading: 'alertTime=timestamp', value: 'timestamp', evidence: '' },
    });
    assert.equal(simulatorCommand(r), 'npm run simulator -- --dialect token-oauth2,latest-under-data --alert-time timestamp');
    assert.equal(simulatorCommand(report({})), undefined);
  });

  it('the text: a table row per point (pipes escaped), the surprises, no line for what was not asked', () => {
    const text = formatDoctorReport(report(
      { tokenBody: { reading: null, evidence: 'cannot tell: the token under "jwt" | odd' } },
      { surprises: ['one surprise'], statuses: { 'GET /x': 200 }, timings: { 'GET /x': 12 }, shapes: { 'GET /x': '{ a: number }' }, requests: 1 },
    ));
    assert.match(text, /^## Leapcraft API check \(leapcraft-doctor 0\.0\.0\)/);
    assert.match(text, /\| tokenBody \| \? \| cannot tell: the token under "jwt" \\\| odd \|/);
    assert.match(text, /- one surprise/);
    assert.match(text, /\| GET \/x \| 200 \| 12 \|/);
    assert.match(text, /#### GET \/x \(HTTP 200\)\n\n```\n\{ a: number \}\n```/);
    assert.doesNotMatch(text, /The simulator speaking it/);
    for (const p of DOCTOR_POINTS) assert.equal(text.split('\n').filter((l) => l.startsWith(`| ${p} | `)).length, 1, p);
  });
});
