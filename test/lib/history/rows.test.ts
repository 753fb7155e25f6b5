import assert from 'node:assert/strict';
import { HistoryPoint } from '../../../lib/history/points';
import { rowsJson, sqlParams, sqlRow } from '../../../lib/history/rows';

const point = (name: string): HistoryPoint => ({
  measurement: 'leapcraft',
  tags: { device: 'D2:C1', name },
  fields: { co2: 550, temperature: 21.5 },
  timestamp: new Date('2026-03-29T15:24:05Z'),
});

describe('history rows', () => {
  it('a row is the time in ISO 8601 UTC, a column per tag and per reading', () => {
    assert.deepEqual(sqlRow(point('Kitchen')), { time: '2026-03-29T15:24:05.000Z', device: 'D2:C1', name: 'Kitchen', co2: 550, temperature: 21.5 });
  });

  it('msg.params is one parameter: the rows as JSON', () => {
    const params = sqlParams([point('a'), point('b')]);
    assert.equal(params.length, 1);
    assert.deepEqual(JSON.parse(params[0]).map((r: { name: string }) => r.name), ['a', 'b']);
  });

  it('the JSON holds no single quote, yet reads back as the same text', () => {
    const json = rowsJson([point("O'Brien's office '); DROP TABLE x; --")]);
    assert.ok(!json.includes("'"));
    assert.equal(JSON.parse(json)[0].name, "O'Brien's office '); DROP TABLE x; --");
  });
});
