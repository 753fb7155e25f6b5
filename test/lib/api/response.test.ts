/** Defensive body parsing (lib/api/response.ts): every body is data or a typed, explained error. */
import assert from 'node:assert/strict';
import { parseJsonBody } from '../../../lib/api/response';

describe('parseJsonBody', () => {
  const parse = (body: string) => parseJsonBody(body, 'GET /telemetry/x', 200);

  it('parses JSON with the white space JSON allows around it, and with what only trim() removes (a byte-order mark, no-break spaces)', () => {
    assert.deepEqual(parse('{"a":1}'), { a: 1 });
    assert.deepEqual(parse(' \r\n\t[1,2]\n'), [1, 2]);
    assert.deepEqual(parse('\ufeff{"a":1}'), { a: 1 });
    assert.deepEqual(parse('\u00a0{"a":1}\u00a0'), { a: 1 });
  });

  it('an empty body, an HTML page and broken JSON each get their own explained LEAPCRAFT_BAD_RESPONSE', () => {
    const cases: Array<[string, RegExp]> = [
      ['', /empty body/], [' \n\t', /empty body/], ['\ufeff', /empty body/], ['\u3000\u2028', /empty body/],
      ['<html><body>maintenance</body></html>', /HTML page instead of JSON/], ['\n  <!DOCTYPE html>', /HTML page/],
      ['{"a":', /not valid JSON/], ['\ufeff{"a":', /not valid JSON/],
    ];
    for (const [body, message] of cases) {
      assert.throws(() => parse(body), (err: Error & { code?: string }) => {
        assert.equal(err.code, 'LEAPCRAFT_BAD_RESPONSE', JSON.stringify(body));
        assert.match(err.message, message, JSON.stringify(body));
        assert.match(err.message, /GET \/telemetry\/x returned HTTP 200/);
        return true;
      });
    }
  });
});
