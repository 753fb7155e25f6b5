/**
 * `npm run cluster` (scripts/cluster.js): two replicas of the demo sharing their account through a
 * Redis it starts; without redis-server on the PATH it refuses and says what to install.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../support/real-nodered';
import { waitFor } from '../support/wait';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const { startCluster } = require('../../scripts/cluster.js') as { startCluster(o: object): Promise<{ replicas: Array<{ output(): string; editorUrl: string }>; stop(): Promise<void> }> };
const ROOT = path.resolve(__dirname, '..', '..');

describe('npm run cluster: a local pair on Redis', function () {
  this.timeout(120_000);

  it('refuses with a message when redis-server is not on the PATH', async () => {
    const run = promisify(execFile);
    const err = await run(process.execPath, [path.join(ROOT, 'scripts', 'cluster.js'), '--no-build'], { env: { ...process.env, PATH: '/nonexistent' } })
      .then(() => undefined, (e: { code?: number; stderr?: string }) => e);
    assert.ok(err, 'it exits with an error');
    assert.equal(err.code, 1);
    assert.match(String(err.stderr), /redis-server is not on the PATH: install Redis/);
  });

  it('two replicas of the demo, one leading and one following the account', async () => {
    const dirs = [fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-pair-a-')), fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-pair-b-'))];
    const cluster = await startCluster({
      build: false, port: await freePort(), redisPort: await freePort(), simulatorPort: 0, demoDirs: dirs, log: () => undefined, env: {},
    });
    try {
      const said = (i: number, what: RegExp) => what.test(cluster.replicas[i]!.output());
      await waitFor(() => (said(0, /leads the account/) && said(1, /follows the account/)) || (said(1, /leads the account/) && said(0, /follows the account/)), 30_000, 'one leader, one follower');
      for (const r of cluster.replicas) assert.equal((await fetch(`${r.editorUrl}settings`)).status, 200);
    } finally {
      await cluster.stop();
      for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
