/**
 * A portfolio of accounts on a cluster: 10 accounts (10 simulators) on three real Node-RED
 * replicas sharing a real redis-server. The accounts' leases spread over the live replicas: each
 * leads 3 or 4 of them; after one replica is killed the other two lead 5 each within one lease time.
 */
import assert from 'node:assert/strict';
import { LeapcraftSimulator } from '../../simulator';
import { RealNodeRed } from '../support/real-nodered';
import { RedisServer } from '../support/redis';
import { waitFor } from '../support/wait';

const ACCOUNTS = 10;
const LEASE_TTL_MS = 10_000;

describe('cluster on Redis: 10 accounts on three replicas', function () {
  this.timeout(240_000);
  let redis: RedisServer;
  const sims: LeapcraftSimulator[] = [];
  const reds: RealNodeRed[] = [];

  /** Which accounts each replica leads now, as its log says last for each account. */
  function leads(red: RealNodeRed): string[] {
    const last = new Map<string, boolean>();
    for (const line of red.log.split('\n')) {
      const m = /\[leapcraft-config:(acct\d+)\] (leads the account|follows the account|works alone)/.exec(line);
      if (m) last.set(m[1]!, m[2] === 'leads the account');
    }
    return [...last].filter(([, leading]) => leading).map(([name]) => name);
  }

  before(async () => {
    redis = new RedisServer();
    await redis.start();
    for (let i = 0; i < ACCOUNTS; i++) {
      const sim = new LeapcraftSimulator({ deviceCount: 3, seed: i + 1 });
      await sim.start();
      sims.push(sim);
    }
  });
  after(async () => {
    for (const red of reds) await red.dispose();
    for (const sim of sims) await sim.stop();
    await redis?.dispose();
  });

  it('each replica leads 3 or 4 of 10 accounts; after one is killed the other two lead 5 each within one lease time', async () => {
    const flows: unknown[] = [{ id: 'tab', type: 'tab', label: 'portfolio' }];
    sims.forEach((sim, i) => {
      flows.push(
        { id: `account${i}`, type: 'leapcraft-config', name: `acct${i}`, baseUrl: sim.baseUrl, concurrency: 2, timeout: 10, budget: '', redisUrl: '', credentials: { apiKey: sim.apiKey } },
        {
          id: `tel${i}`, type: 'leapcraft-telemetry', z: 'tab', x: 120, y: 40 + 40 * i, account: `account${i}`, devices: '', telemetryType: 'latest', resolution: 'daily',
          from: '-7d', to: 'now', interval: 5, output: 'device', emit: 'interval', replicas: 'every', cadence: false, wires: [[]],
        },
      );
    });
    for (let r = 0; r < 3; r++) {
      const red = new RealNodeRed({ env: { LEAPCRAFT_REDIS_URL: redis.url } });
      reds.push(red);
      await red.start();
      await red.deploy(flows);
    }
    const spread = () => reds.map((red) => leads(red).length);
    await waitFor(() => {
      const s = spread();
      return s.reduce((a, b) => a + b, 0) === ACCOUNTS && s.every((n) => n === 3 || n === 4);
    }, 60_000, 'the leases spread 3 or 4 to each replica').catch((err: Error) => { console.log(reds[0]!.log.slice(-2500)); throw new Error(`${err.message}: ${spread().join('/')}`); });
    const first = spread();
    // Every account is polled, by one replica only.
    const owners = new Map<string, number>();
    for (const red of reds) for (const a of leads(red)) owners.set(a, (owners.get(a) ?? 0) + 1);
    assert.equal(owners.size, ACCOUNTS);
    assert.ok([...owners.values()].every((n) => n === 1), 'no account led twice');

    const victim = reds[0]!;
    const killedAt = Date.now();
    victim.signal('SIGKILL');
    await victim.exited();
    const survivors = reds.slice(1);
    await waitFor(() => survivors.every((red) => leads(red).length === 5), 3 * LEASE_TTL_MS, 'the survivors leading 5 each')
      .catch((err: Error) => { throw new Error(`${err.message}: ${survivors.map((red) => leads(red).length).join('/')}`); });
    const took = Date.now() - killedAt;
    console.log(`      measured: leads spread ${first.join('/')} over three replicas; after a SIGKILL the other two lead ${survivors.map((red) => leads(red).length).join('/')} after ${took} ms`);
    assert.ok(took <= LEASE_TTL_MS + 1000, `rebalanced in ${took} ms (lease time ${LEASE_TTL_MS} ms)`);
    // Each of the dead replica's accounts is polled again.
    const since = Date.now();
    await waitFor(() => sims.every((sim) => sim.stats.requests.some((q) => q.endpoint === 'telemetry' && q.at >= since)), 15_000, 'every account polled');
  });
});
