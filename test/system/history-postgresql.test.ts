/**
 * The history output into a real PostgreSQL 15, with the SQL of examples/history-postgresql.json
 * (tables keyed on (device, time), INSERT … SELECT FROM jsonb_to_recordset … ON CONFLICT DO
 * NOTHING), in a real Node-RED restarted half-way (test/support/history-run.ts). The example
 * targets node-red-contrib-postgresql, which binds msg.params to $1 but is not installable here;
 * node-red-contrib-postgrestor (installed) cannot bind parameters and takes the same rows through
 * its query template instead: `'{{{msg.params.0}}}'::jsonb` for `$1::jsonb`.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { installPostgrestor, PG_USER, usePostgreSql } from '../support/postgresql';
import {
  BACKFILL_DAYS, DEVICES, disposeRun, expectedValues, HistoryRun, POLL_S, READINGS, readingKey, REPORT_MS, runHistory, sentChecks,
} from '../support/history-run';

const EXAMPLE = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'examples', 'history-postgresql.json'), 'utf8')) as Array<Record<string, unknown>>;
const exampleQuery = (name: string): string => String(EXAMPLE.find((n) => n.type === 'postgresql' && n.name === name)!.query);
/** The example's insert, for a node that templates its query rather than binding `$1`. */
const templated = (sql: string): string => {
  assert.ok(sql.includes('$1::jsonb'));
  return sql.replace('$1::jsonb', "'{{{msg.params.0}}}'::jsonb");
};
const FIELDS = ['temperature', 'humidity', 'co2', 'pm2_5', 'noise', 'battery'];

describe('history into a real PostgreSQL', function () {
  this.timeout(6 * 60_000);
  const holder = usePostgreSql();
  let run: HistoryRun | undefined;
  after(async () => {
    if (run) await disposeRun(run);
  });

  it(`${DEVICES} sensors reporting every ${REPORT_MS / 1000} s, polled every ${POLL_S} s, Node-RED restarted: one row per reading, no duplicate; the backfill's days once`, async () => {
    const pg = holder.pg;
    await pg.query(exampleQuery('create tables'));
    const count = async (table: string) => Number((await pg.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)).rows[0]!.n);
    const postgrestor = (id: string, name: string, y: number) => ({
      id, type: 'postgrestor', z: 'tab', x: 650, y, name, query: templated(exampleQuery(name)), postgresDB: 'pg-cfg', output: true, outputs: 1, wires: [['pg-failed']],
    });
    run = await runHistory({
      nodeRed: { env: { PGUSER: PG_USER } },
      prepare: (red) => installPostgrestor(red.userDir),
      inputs: ['route'],
      nodes: [
        {
          id: 'route', type: 'switch', z: 'tab', x: 450, y: 200, name: '', property: 'measurement', propertyType: 'msg', checkall: 'false', repair: false, outputs: 2,
          rules: [{ t: 'eq', v: 'leapcraft', vt: 'str' }, { t: 'eq', v: 'leapcraft_daily', vt: 'str' }], wires: [['pg-readings'], ['pg-daily']],
        },
        postgrestor('pg-readings', 'insert readings', 180),
        postgrestor('pg-daily', 'insert daily averages', 220),
        // postgrestor reports a failed query without the msg (no Catch): it sends the msg on with msg.err.
        { id: 'pg-failed', type: 'switch', z: 'tab', x: 850, y: 200, name: '', property: 'err', propertyType: 'msg', checkall: 'false', repair: false, outputs: 1, rules: [{ t: 'nnull' }], wires: [['pg-error']] },
        { id: 'pg-error', type: 'change', z: 'tab', x: 1000, y: 200, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'err', tot: 'msg' }], wires: [['error-file']] },
        // min 0: postgrestor makes a pool per msg and never ends it; with pg 8 a pool keeps `min` clients open for good.
        {
          id: 'pg-cfg', type: 'postgresDB', name: '', host: '127.0.0.1', hostFieldType: 'str', port: pg.port, portFieldType: 'num', database: 'postgres', databaseFieldType: 'str',
          ssl: false, sslFieldType: 'bool', max: 10, maxFieldType: 'num', min: 0, minFieldType: 'num', idle: 1000, idleFieldType: 'num',
          user: PG_USER, userFieldType: 'str', password: '', passwordFieldType: 'str',
        },
      ],
      counts: async () => ({ readings: await count('leapcraft_readings'), daily: await count('leapcraft_daily') }),
    });
    const { readings, daily, duplicates } = sentChecks(run);
    console.log(`      measured: ${run.served.size} distinct readings served, ${run.polls} polls, ${readings.length} reading rows sent (${duplicates} twice), ` +
      `${run.counts.readings} rows stored; ${daily.length} daily rows sent, ${run.counts.daily} stored; averages requests ${run.averagesRequests.first} at the first deploy, ${run.averagesRequests.later} after`);

    assert.deepEqual(run.errors, []);
    assert.ok(run.served.size >= READINGS);
    assert.equal(duplicates, 0, 'no reading sent twice, restart or not');
    assert.equal(readings.length, run.served.size);
    assert.equal(run.counts.readings, run.served.size, 'one row per distinct reading served');

    const expected = expectedValues();
    const rows = (await pg.query<Record<string, unknown> & { device: string; time: Date }>(`SELECT device, time, name, model, gateway, ${FIELDS.join(', ')} FROM leapcraft_readings`)).rows;
    const stored = new Set<string>();
    for (const row of rows) {
      stored.add(readingKey(row.device, row.time.getTime()));
      const values = expected(row.device, row.time.getTime());
      for (const field of FIELDS) assert.equal(row[field], values[field] ?? null, `${row.device} ${field} at ${row.time.toISOString()}`);
      assert.ok(typeof row.name === 'string' && typeof row.model === 'string' && typeof row.gateway === 'string');
    }
    assert.deepEqual([...stored].sort(), [...run.served].sort());

    assert.equal(run.counts.daily, DEVICES * BACKFILL_DAYS, `${BACKFILL_DAYS} daily rows per device`);
    assert.equal(daily.length, DEVICES * BACKFILL_DAYS, 'the restart and the redeploy sent no day again');
    assert.equal(run.averagesRequests.first, DEVICES, 'one averages request per device');
    assert.equal(run.averagesRequests.later, 0, 'nothing asked again');

    // A Grafana-free look at the rows: one device's last readings, and its daily averages.
    const device = rows[0]!.device;
    for (const q of [
      `SELECT device, time, name, co2, temperature, humidity FROM leapcraft_readings WHERE device = $1 ORDER BY time DESC LIMIT 3`,
      `SELECT device, time, name, co2, temperature, humidity FROM leapcraft_daily WHERE device = $1 ORDER BY time`,
    ]) {
      const res = await pg.query<Record<string, unknown>>(q, [device]);
      console.log(`      ${q}\n${res.rows.map((r) => `        ${Object.entries(r).map(([k, v]) => `${k}=${v instanceof Date ? v.toISOString() : String(v)}`).join(' ')}`).join('\n')}`);
    }
  });
});
