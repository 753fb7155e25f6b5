/**
 * The bridge's device table (lib/homeassistant/device-table.ts): the counts the node's status
 * shows are kept as devices change, in one place; here they are checked against a count made
 * afresh from the devices after every change of a long mixed run.
 */
import assert from 'node:assert/strict';
import { HaDeviceCounts, HaDeviceTable, HaKnownDevice } from '../../../lib/homeassistant/device-table';
import { HA_OFFLINE, HA_ONLINE } from '../../../lib/homeassistant/publisher';

/** The counts as the status would show them, made from the devices themselves. */
function recount(table: HaDeviceTable, skippedKeys: number): HaDeviceCounts {
  const devices = [...table.values()];
  return {
    devices: devices.filter((d) => d.entities.size > 0).length,
    entities: devices.reduce((n, d) => n + d.entities.size, 0),
    online: devices.filter((d) => d.availability === HA_ONLINE).length,
    offline: devices.filter((d) => d.availability === HA_OFFLINE).length,
    skippedKeys,
  };
}

/** A small deterministic generator, so a failure names a run that can be repeated. */
function generator(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s / 0x7fffffff;
  };
}

describe('Home Assistant device table', () => {
  it('keeps its counts equal to a fresh count through every kind of change', () => {
    const MAX_KEYS = 4;
    const ids = ['a', 'b', 'c:d', 'e'];
    const keys = ['co2', 'temperature', 'humidity', 'pm2_5', 'voc', 'noise'];
    for (const seed of [1, 2, 3, 4, 5]) {
      const random = generator(seed);
      const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)];
      const table = new HaDeviceTable(10, MAX_KEYS);
      let skipped = 0;
      const changes = { add: 0, remove: 0, online: 0, offline: 0, forget: 0 };
      for (let step = 0; step < 500; step++) {
        const d: HaKnownDevice = table.get(pick(ids)) ?? table.device(pick(ids), () => ({ readings: [[pick(keys), 1]] }));
        switch (Math.floor(random() * 5)) {
          case 0: {
            const key = pick(keys);
            const had = d.entities.has(key);
            const full = d.entities.size >= MAX_KEYS;
            if (had) break;
            const entity = table.addEntity(d, key, random() < 0.5 ? 1 : 'text');
            assert.equal(entity === undefined, full, 'a key is left out only when the device is full');
            if (full) skipped++;
            changes.add++;
            break;
          }
          case 1:
            table.removeEntities(d, [pick(keys), pick(keys)]);
            changes.remove++;
            break;
          case 2: {
            const was = d.availability;
            assert.equal(table.setAvailability(d, HA_ONLINE), was !== HA_ONLINE);
            changes.online++;
            break;
          }
          case 3: {
            const was = d.availability;
            assert.equal(table.setAvailability(d, HA_OFFLINE), was !== HA_OFFLINE);
            changes.offline++;
            break;
          }
          case 4:
            table.forget(d);
            changes.forget++;
            break;
        }
        assert.deepEqual({ ...table.counts }, recount(table, skipped), `seed ${seed}, step ${step}`);
      }
      for (const [kind, n] of Object.entries(changes)) assert.ok(n > 20, `seed ${seed}: only ${n} changes of kind ${kind}`);
    }
  });

  it('a device made from the record gets back its reading entities; availability changes say whether they changed', () => {
    const table = new HaDeviceTable(10, 64);
    const d = table.device('a', () => ({ readings: [['co2', 1], ['state', 0]] }));
    assert.deepEqual([...d.entities.values()].map((e) => [e.key, e.numeric]), [['co2', true], ['state', false]]);
    assert.equal(table.device('a', () => { throw new Error('the record is read only for a new device'); }), d);
    assert.equal(table.setAvailability(d, HA_ONLINE), true);
    assert.equal(table.setAvailability(d, HA_ONLINE), false);
    assert.deepEqual({ ...table.counts }, { devices: 1, entities: 2, online: 1, offline: 0, skippedKeys: 0 });
    assert.equal(table.removeEntities(d, ['co2', 'co2', 'nothing']), 1);
    table.forget(d);
    assert.deepEqual({ ...table.counts }, { devices: 0, entities: 0, online: 0, offline: 0, skippedKeys: 0 });
    // A device forgotten is no longer the table's: changing it would falsify the counts.
    assert.throws(() => table.setAvailability(d, HA_OFFLINE), /not in the table/);
  });

  it('refuses a msg that would take it past its devices, before anything changes', () => {
    const table = new HaDeviceTable(2, 64);
    table.device('a', () => undefined);
    table.reserve(['a', 'b', 'b']);
    assert.throws(() => table.reserve(['b', 'c']), (e: { code?: string }) => e.code === 'LEAPCRAFT_INVALID_INPUT');
    assert.deepEqual([...table.ids()], ['a']);
  });
});
