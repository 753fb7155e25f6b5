import assert from 'node:assert/strict';
import {
  DEFAULT_DAILY_MEASUREMENT, DEFAULT_MEASUREMENT, MAX_BACKFILL_DAYS, parseHistorySettings, parseHistoryTags,
} from '../../../lib/history/settings';

const codeOf = (fn: () => unknown): string | undefined => {
  try {
    fn();
  } catch (err) {
    return (err as { code?: string }).code;
  }
  return undefined;
};

describe('history settings', () => {
  it('a node saved before the settings existed gets the defaults', () => {
    assert.deepEqual(parseHistorySettings({}), {
      tags: ['device', 'name', 'model', 'gateway'], measurement: DEFAULT_MEASUREMENT, dailyMeasurement: DEFAULT_DAILY_MEASUREMENT, backfillDays: 0,
    });
    assert.equal(DEFAULT_DAILY_MEASUREMENT, 'leapcraft_daily');
  });

  it('tags: device is always one, each tag once, in a fixed order', () => {
    assert.deepEqual(parseHistoryTags(''), ['device']);
    assert.deepEqual(parseHistoryTags('gateway, name,name'), ['device', 'name', 'gateway']);
    assert.equal(codeOf(() => parseHistoryTags('room')), 'LEAPCRAFT_INVALID_INPUT');
    assert.equal(codeOf(() => parseHistoryTags(['name'])), 'LEAPCRAFT_INVALID_INPUT');
  });

  it('measurements: trimmed, an empty one is the default, control characters and equal names refused', () => {
    assert.equal(parseHistorySettings({ measurement: ' air ' }).measurement, 'air');
    assert.equal(parseHistorySettings({ measurement: '' }).measurement, DEFAULT_MEASUREMENT);
    assert.equal(codeOf(() => parseHistorySettings({ measurement: 'a\nb' })), 'LEAPCRAFT_INVALID_INPUT');
    assert.equal(codeOf(() => parseHistorySettings({ measurement: 'x'.repeat(129) })), 'LEAPCRAFT_INVALID_INPUT');
    assert.equal(codeOf(() => parseHistorySettings({ measurement: 'same', dailyMeasurement: 'same' })), 'LEAPCRAFT_INVALID_INPUT');
  });

  it('the context store: trimmed, empty is the default store', () => {
    assert.equal(parseHistorySettings({ store: ' file ' }).store, 'file');
    assert.equal('store' in parseHistorySettings({ store: '' }), false);
    assert.equal(codeOf(() => parseHistorySettings({ store: 'x'.repeat(65) })), 'LEAPCRAFT_INVALID_INPUT');
  });

  it('backfill days: whole numbers from 0 to a year, as numbers or text', () => {
    assert.equal(parseHistorySettings({ backfillDays: '7' }).backfillDays, 7);
    assert.equal(parseHistorySettings({ backfillDays: MAX_BACKFILL_DAYS }).backfillDays, MAX_BACKFILL_DAYS);
    for (const bad of [-1, MAX_BACKFILL_DAYS + 1, 1.5, 'seven']) {
      assert.equal(codeOf(() => parseHistorySettings({ backfillDays: bad })), 'LEAPCRAFT_INVALID_INPUT', String(bad));
    }
  });
});
