/**
 * The simulator's silent sensor (LeapcraftSimulator.silence and POST /__sim/silence): a silent
 * device's latest reading (and its topology's last_seen) stays the one it made before it went
 * silent while the others move on; it reports on its usual rhythm again when told.
 */
import assert from 'node:assert/strict';
import { LeapcraftSimulator } from '../../simulator';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 2, 30, 9, 0, 0);

describe('simulator: a silent sensor', () => {
  let now = T0;
  const sim = new LeapcraftSimulator({ deviceCount: 3, seed: 5, reportIntervalMs: MINUTE, now: () => now });
  let token = '';
  let root = '';

  before(async () => {
    const base = await sim.start();
    root = base.replace(/\/v1$/, '');
    const r = await fetch(`${base}/auth/client/token`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `api_key=${sim.apiKey}` });
    token = ((await r.json()) as { token: string }).token;
  });
  after(() => sim.stop());

  const latest = async (id: string): Promise<string> => {
    const r = await fetch(`${sim.baseUrl}/telemetry/${encodeURIComponent(id)}?type=latest`, { headers: { Authorization: `Bearer ${token}` } });
    assert.equal(r.status, 200);
    return ((await r.json()) as { timestamp: string }).timestamp;
  };
  const control = (body: unknown) => fetch(`${root}/__sim/silence`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

  it('stops one device reporting until told otherwise, over the control interface too', async () => {
    const [quiet, other] = sim.devices().map((d) => d.physical_id);
    const before = await latest(quiet);
    assert.equal((await control({ physical_id: quiet })).status, 200);
    now += 10 * MINUTE;
    assert.equal(await latest(quiet), before, 'the silent device keeps its last reading');
    assert.ok(Date.parse(await latest(other)) > Date.parse(before), 'the others report on');
    sim.silence(quiet, false);
    assert.ok(Date.parse(await latest(quiet)) > now - MINUTE, 'reports again');
    sim.silence(quiet);
    now += 5 * MINUTE;
    assert.ok(now - Date.parse(await latest(quiet)) >= 5 * MINUTE);
    assert.equal((await control({ physical_id: quiet, silent: false })).status, 200);
    assert.ok(Date.parse(await latest(quiet)) > now - MINUTE);
  });

  it('refuses an unknown device and a malformed body', async () => {
    assert.equal((await control({ physical_id: 'nope' })).status, 400);
    assert.equal((await control({ silent: true })).status, 400);
    assert.equal((await control({ physical_id: sim.devices()[0].physical_id, silent: 'yes' })).status, 400);
    assert.throws(() => sim.silence('nope'), /No device/);
  });
});
