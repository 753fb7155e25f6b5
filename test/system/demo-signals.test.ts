/**
 * `npm start` stops Node-RED and the simulator however it is told to: Ctrl-C in a terminal
 * signals the whole process group, but a SIGTERM or SIGINT sent to the `npm start` process
 * alone (a service manager, `kill <pid>`) is not passed on by npm, which simply exits.
 */
import assert from 'node:assert/strict';
import { ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isListening } from '../support/demo';
import { freePort } from '../support/real-nodered';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '..', '..');

async function npmStart(): Promise<{ npm: ChildProcess; port: number; simulatorPort: number; output: () => string }> {
  const port = await freePort();
  let simulatorPort = await freePort();
  while (simulatorPort === port) simulatorPort = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env, PORT: String(port), LEAPCRAFT_SIMULATOR_PORT: String(simulatorPort),
    LEAPCRAFT_DEMO_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-signal-')),
  };
  delete env.LEAPCRAFT_API_KEY;
  delete env.LEAPCRAFT_BASE_URL;
  // Its own process group, so the test can clean up whatever is left; the signal under test
  // goes to the npm process alone.
  const npm = spawn('npm', ['start', '--', '--no-build'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  npm.stdout!.on('data', (d) => { output += d; });
  npm.stderr!.on('data', (d) => { output += d; });
  await waitFor(() => output.includes('Press Ctrl+C to stop'), 60_000, `the demo to start:\n${output}`);
  return { npm, port, simulatorPort, output: () => output };
}

describe('npm start stops everything on a signal to the npm process alone', function () {
  this.timeout(120_000);
  const groups: number[] = [];
  after(() => {
    for (const pid of groups) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} to npm: Node-RED and the simulator stop`, async () => {
      const demo = await npmStart();
      groups.push(demo.npm.pid!);
      assert.equal(await isListening(demo.port), true);
      assert.equal(await isListening(demo.simulatorPort), true);
      const sentAt = Date.now();
      process.kill(demo.npm.pid!, signal);
      let nodeRedUp = true;
      let simulatorUp = true;
      await waitFor(async () => {
        nodeRedUp = await isListening(demo.port);
        simulatorUp = await isListening(demo.simulatorPort);
        return !nodeRedUp && !simulatorUp;
      }, 20_000, 'both to stop', 100).catch(() => undefined); // reported below
      console.log(`      measured: ${signal} to npm alone: both stopped ${nodeRedUp || simulatorUp ? 'NOT within 20 s' : `after ${((Date.now() - sentAt) / 1000).toFixed(1)} s`}`);
      assert.equal(nodeRedUp, false, 'Node-RED still listening');
      assert.equal(simulatorUp, false, 'simulator still listening');
    });
  }
});
