/**
 * The history output into a real InfluxDB 1.x through node-red-contrib-influxdb's batch node,
 * in a real Node-RED restarted half-way (test/support/history-run.ts): one point per distinct
 * reading the simulator served, at the reading's own time, with the simulator's values; 7 daily
 * points per device from the backfill, none more after the restart and a redeploy.
 */
import assert from 'node:assert/strict';
import { useInfluxDb } from '../support/influxdb';
import {
  BACKFILL_DAYS, DEVICES, disposeRun, expectedValues, HistoryRun, POLL_S, READINGS, readingKey, REPORT_MS, runHistory, sentChecks,
} from '../support/history-run';

const DB = 'leapcraft';

describe('history into a real InfluxDB', function () {
  this.timeout(6 * 60_000);
  const holder = useInfluxDb();
  let run: HistoryRun | undefined;
  after(async () => {
    if (run) await disposeRun(run);
  });

  it(`${DEVICES} sensors reporting every ${REPORT_MS / 1000} s, polled every ${POLL_S} s, Node-RED restarted: one point per reading, at its time, with its values; the backfill's days once`, async () => {
    const influx = holder.influx;
    await influx.command(`CREATE DATABASE ${DB}`);
    const count = async (measurement: string) => {
      const [series] = await influx.query(DB, `SELECT count("co2") FROM "${measurement}"`);
      return Number(series?.values[0]?.[1] ?? 0);
    };
    run = await runHistory({
      nodeRed: { modules: ['node-red-contrib-influxdb'] },
      inputs: ['influx-batch'],
      nodes: [
        { id: 'influx-batch', type: 'influxdb batch', z: 'tab', x: 450, y: 160, influxdb: 'influx-cfg', precision: 'ms', retentionPolicy: '', name: '', database: 'database', precisionV18FluxV20: 'ms', retentionPolicyV18Flux: '', org: 'organisation', bucket: 'bucket', wires: [] },
        { id: 'influx-cfg', type: 'influxdb', hostname: '127.0.0.1', port: influx.port, protocol: 'http', database: DB, name: '', usetls: false, tls: '', influxdbVersion: '1.x', url: influx.url, timeout: 10, rejectUnauthorized: true },
      ],
      counts: async () => ({ readings: await count('leapcraft'), daily: await count('leapcraft_daily') }),
    });
    const { readings, daily, duplicates } = sentChecks(run);
    console.log(`      measured: ${run.served.size} distinct readings served, ${run.polls} polls, ${readings.length} reading points sent (${duplicates} twice), ` +
      `${run.counts.readings} points stored; ${daily.length} daily points sent, ${run.counts.daily} stored; averages requests ${run.averagesRequests.first} at the first deploy, ${run.averagesRequests.later} after`);

    assert.deepEqual(run.errors, []);
    assert.ok(run.served.size >= READINGS);
    assert.ok(run.polls > run.served.size, 'readings are served again (from the poll) and not written again');
    assert.equal(duplicates, 0, 'no reading sent twice, restart or not');
    assert.equal(readings.length, run.served.size);
    assert.equal(run.counts.readings, run.served.size, 'one point per distinct reading served');

    // Every point: a reading the simulator served, at the reading's own time, with its values.
    const expected = expectedValues();
    const all = await holder.influx.query(DB, 'SELECT * FROM "leapcraft" GROUP BY "device"');
    const stored = new Set<string>();
    for (const s of all) {
      const cols = s.columns;
      for (const row of s.values) {
        const device = s.tags!.device!;
        const time = row[cols.indexOf('time')] as number;
        stored.add(readingKey(device, time));
        for (const [field, value] of Object.entries(expected(device, time))) assert.equal(row[cols.indexOf(field)], value, `${device} ${field} at ${new Date(time).toISOString()}`);
      }
    }
    assert.deepEqual([...stored].sort(), [...run.served].sort());

    assert.equal(run.counts.daily, DEVICES * BACKFILL_DAYS, `${BACKFILL_DAYS} daily points per device`);
    assert.equal(daily.length, DEVICES * BACKFILL_DAYS, 'the restart and the redeploy sent no day again');
    assert.equal(run.averagesRequests.first, DEVICES, 'one averages request per device');
    assert.equal(run.averagesRequests.later, 0, 'nothing asked again');

    // A Grafana-free look at the points: one device's last readings, and its daily averages.
    const device = [...run.served][0]!.split('@')[0]!;
    for (const q of [`SELECT * FROM "leapcraft" WHERE "device" = '${device}' ORDER BY time DESC LIMIT 3`, `SELECT * FROM "leapcraft_daily" WHERE "device" = '${device}'`]) {
      const [res] = await holder.influx.query(DB, q);
      console.log(`      ${q}\n${res!.values.map((v) => `        ${res!.columns.map((c, i) => `${c}=${c === 'time' ? new Date(v[i] as number).toISOString() : String(v[i])}`).join(' ')}`).join('\n')}`);
    }
  });
});
