/**
 * The Redis password of a shared account never leaves its credential: with a real redis-server that
 * requires a password and a real Node-RED, the account shares through Redis, and the password is in
 * no file of the user directory but the encrypted flows_cred.json, not in GET /flows, not in the log.
 * A wrong password is said as Redis being unreachable (the account works alone), the password unsaid.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { LeapcraftSimulator } from '../../simulator';
import { RealNodeRed } from '../support/real-nodered';
import { RedisServer } from '../support/redis';
import { waitFor } from '../support/wait';

const PASSWORD = `redis-SECRET-${Date.now().toString(36)}`;

describe('cluster on Redis: the Redis password stays a credential', function () {
  this.timeout(60_000);
  let redis: RedisServer;
  let sim: LeapcraftSimulator;
  let red: RealNodeRed;
  before(async () => {
    redis = new RedisServer(['--requirepass', PASSWORD]);
    await redis.start();
    sim = new LeapcraftSimulator({ deviceCount: 2 });
    await sim.start();
  });
  after(async () => {
    await red?.dispose();
    await sim?.stop();
    await redis?.dispose();
  });

  const flows = (password: string) => [
    { id: 'tab', type: 'tab', label: 'secrets' },
    { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 2, timeout: 10, budget: '', redisUrl: `redis://127.0.0.1:${redis.port}`, credentials: { apiKey: sim.apiKey, redisPassword: password } },
    {
      id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 120, y: 60, account: 'acct', devices: '', telemetryType: 'latest', resolution: 'daily',
      from: '-7d', to: 'now', interval: 2, output: 'device', emit: 'interval', replicas: 'every', cadence: false, wires: [[]],
    },
  ];

  /** Every file of the user directory but the encrypted credentials, GET /flows and the log. */
  async function everything(): Promise<string> {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory() && e.name !== 'node_modules') walk(p);
        else if (e.isFile() && e.name !== 'flows_cred.json') files.push(fs.readFileSync(p, 'utf8'));
      }
    };
    walk(red.userDir);
    const deployed = JSON.stringify(await red.getFlows());
    return [...files, deployed, red.log].join('\n');
  }

  it('shares with the password from the credential; the password is nowhere else, also when it is wrong', async () => {
    red = new RealNodeRed();
    await red.start();
    await red.deploy(flows(PASSWORD));
    await waitFor(() => /leads the account/.test(red.log), 20_000, 'the account leading through the password-protected Redis');
    assert.ok(!(await everything()).includes(PASSWORD), 'the password only in the encrypted credentials');
    assert.ok(fs.readFileSync(path.join(red.userDir, 'flows_cred.json'), 'utf8').length > 0);

    const wrong = `${PASSWORD}-wrong`;
    await red.deploy(flows(wrong));
    await waitFor(() => /works alone: Redis unreachable/.test(red.log), 20_000, 'a wrong password: the account works alone');
    const all = await everything();
    assert.ok(!all.includes(PASSWORD), 'neither password anywhere');
  });
});
