/** The shapes in the doctor's report: field names and types, never values (lib/doctor/shape.ts). */
import assert from 'node:assert/strict';
import { dateTimeOf, describeShape } from '../../../lib/doctor/shape';

describe('doctor: describeShape', () => {
  it('field names and types, nested, merged over items, no values', () => {
    const shape = describeShape({ data: [{ a: 1, b: 'x', t: '2026-03-30T00:00:00Z' }, { a: 2, c: null, t: '2026-03-30 00:00:00' }], total: 2 });
    assert.equal(shape, '{\n  data: array(2) of {\n    a: number\n    b?: string\n    t: string<date-time, space, no zone> | string<date-time, zone>\n    c?: null\n  }\n  total: number\n}');
    assert.equal(describeShape([]), 'array(0)');
    assert.equal(describeShape({ secret: 'abc' }), '{ secret: string }');
  });

  it('arrays of varying length, dates, and what is too deep or too wide', () => {
    assert.equal(describeShape([[1], [1, 2, 3]]), 'array(2) of array(1..3) of number');
    assert.equal(describeShape({ d: '2026-03-30' }), '{ d: string<date> }');
    let deep: unknown = 1;
    for (let i = 0; i < 10; i++) deep = [deep];
    assert.match(describeShape(deep), /…$/);
    const wide = Object.fromEntries(Array.from({ length: 55 }, (_, i) => [`f${i}`, i]));
    assert.match(describeShape(wide), /… 5 more fields\n\}$/);
  });

  it('dateTimeOf: zoned, or zone-less read as UTC; anything else undefined', () => {
    assert.equal(dateTimeOf('2026-03-30T10:00:00+02:00'), Date.UTC(2026, 2, 30, 8));
    assert.equal(dateTimeOf('2026-03-30 10:00:00'), Date.UTC(2026, 2, 30, 10));
    for (const v of ['2026-03-30', 'soon', 42, null]) assert.equal(dateTimeOf(v), undefined, String(v));
  });
});
