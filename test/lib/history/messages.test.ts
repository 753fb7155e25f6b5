import assert from 'node:assert/strict';
import { historyMsg } from '../../../lib/history/messages';
import { HistoryBatch } from '../../../lib/history/recorder';

const DEVICE = { physical_id: 'D2:C1', name: 'Kitchen' };
const batch: HistoryBatch = {
  id: 'D2:C1',
  measurement: 'leapcraft',
  points: [{ measurement: 'leapcraft', tags: { device: 'D2:C1' }, fields: { co2: 550 }, timestamp: new Date('2026-03-29T15:24:05Z') }],
  skipped: 1,
};
const shaping = (device?: typeof DEVICE) => ({ clone: (m: Record<string, unknown>) => structuredClone(m), deviceOf: () => device });

describe('the history msg', () => {
  it('points in payload (the influxdb batch node), rows in params (postgresql $1), the measurement to route by', () => {
    const msg = historyMsg(undefined, batch, shaping(DEVICE));
    assert.equal(msg.topic, 'D2:C1');
    assert.equal(msg.physical_id, 'D2:C1');
    assert.equal(msg.measurement, 'leapcraft');
    assert.equal(msg.skipped, 1);
    assert.deepEqual(msg.payload, batch.points);
    assert.deepEqual(JSON.parse((msg.params as string[])[0]!), [{ time: '2026-03-29T15:24:05.000Z', device: 'D2:C1', co2: 550 }]);
    assert.deepEqual(msg.device, DEVICE);
  });

  it('a msg that asked keeps its own properties, in a copy; a msg.device it brought is not this device\'s', () => {
    const base = { _msgid: 'm1', mine: 1, device: { name: 'other' } };
    const msg = historyMsg(base, batch, shaping());
    assert.equal(msg._msgid, 'm1');
    assert.equal(msg.mine, 1);
    assert.equal(msg.device, undefined);
    assert.deepEqual(base.device, { name: 'other' });
  });
});
