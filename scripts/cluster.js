#!/usr/bin/env node
/**
 * `npm run cluster`: two Node-RED replicas of the demo sharing their account through Redis, on one
 * machine, to watch a cluster at work (docs/CLUSTER.md):
 *   1. builds the package (`--no-build` skips it),
 *   2. starts Redis (`redis-server` from the PATH, on 127.0.0.1:6390 by default, no persistence,
 *      in a temporary directory), and refuses with a message when there is none,
 *   3. starts the demo's simulator once,
 *   4. starts the demo twice (scripts/start.js): Node-RED on 127.0.0.1:1880 (user directory
 *      .demo-a) and 127.0.0.1:1881 (.demo-b), each with LEAPCRAFT_REDIS_URL set, the same flows on
 *      both. One leads the account and polls, the other follows (each node's status says which);
 *      stop the leader's Node-RED and the other takes over within 10 s.
 * Ctrl+C (SIGINT) or SIGTERM stops everything it started.
 * Environment: PORT (1880; the second replica gets PORT + 1), LEAPCRAFT_REDIS_PORT (6390),
 * LEAPCRAFT_SIMULATOR_PORT (8787).
 */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { demoSimulator, startDemo } = require('./start');

const ROOT = path.resolve(__dirname, '..');

function portFrom(value, fallback, name) {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new Error(`${name} must be a port number (1-65535), not ${JSON.stringify(value)}`);
  return n;
}

/** True when `redis-server` runs from the PATH. */
function haveRedis() {
  const res = spawnSync('redis-server', ['--version'], { stdio: 'ignore' });
  return !res.error && res.status === 0;
}

function pong(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let data = '';
    const done = (ok) => { socket.destroy(); resolve(ok); };
    socket.setTimeout(1000, () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (d) => { data += d; if (data.includes('\r\n')) done(data.startsWith('+PONG')); });
    socket.once('error', () => done(false));
  });
}

async function startRedis(port) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-cluster-redis-'));
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) throw new Error(`redis-server exited (port ${port} in use? set LEAPCRAFT_REDIS_PORT)`);
    if (await pong(port)) return { url: `redis://127.0.0.1:${port}`, proc, stop };
    if (i > 100) {
      await stop();
      throw new Error(`redis-server did not answer on 127.0.0.1:${port} within 5 s`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts the pair; resolves with the replicas, Redis and a stop() for all of them. */
async function startCluster(options = {}) {
  const env = options.env ?? process.env;
  const log = options.log ?? ((line) => process.stdout.write(`${line}\n`));
  if (!haveRedis()) {
    throw new Error('redis-server is not on the PATH: install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) and run npm run cluster again');
  }
  const port = options.port ?? portFrom(env.PORT, 1880, 'PORT');
  const redisPort = options.redisPort ?? portFrom(env.LEAPCRAFT_REDIS_PORT, 6390, 'LEAPCRAFT_REDIS_PORT');
  const started = [];
  const stop = async () => {
    for (const s of started.reverse()) await s.stop().catch(() => undefined);
  };
  try {
    if (options.build !== false) {
      const res = spawnSync(process.platform === 'win32' ? 'npm.cmd' : 'npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
      if (res.status !== 0) throw new Error('npm run build failed');
    }
    const redis = await startRedis(redisPort);
    started.push(redis);
    const simulator = demoSimulator(options.simulatorPort ?? portFrom(env.LEAPCRAFT_SIMULATOR_PORT, 8787, 'LEAPCRAFT_SIMULATOR_PORT'));
    await simulator.start();
    started.push(simulator);
    const replicas = [];
    for (const [i, name] of ['a', 'b'].entries()) {
      const replica = await startDemo({
        build: false, port: port + i, demoDir: options.demoDirs?.[i] ?? path.join(ROOT, `.demo-${name}`), simulator,
        env: { LEAPCRAFT_REDIS_URL: redis.url }, log,
      });
      started.push(replica);
      replicas.push(replica);
    }
    log([
      '',
      `Leapcraft cluster running: two replicas of the demo sharing their account through ${redis.url}`,
      ...replicas.map((r, i) => `  replica ${'ab'[i]}:  ${r.editorUrl}  (dashboard ${r.dashboardUrl}, log ${r.logFile})`),
      '  One leads the account and polls, the other follows (see any node\'s status). Stop one to see the other take over.',
      'Press Ctrl+C to stop everything.',
    ].join('\n'));
    return { replicas, redis, simulator, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write('Usage: npm run cluster [-- --no-build]\nEnvironment: PORT, LEAPCRAFT_REDIS_PORT, LEAPCRAFT_SIMULATOR_PORT (see scripts/cluster.js)\n');
    return;
  }
  const cluster = await startCluster({ build: !args.includes('--no-build') });
  let stopping = false;
  const shutdown = (signal) => {
    if (stopping) process.exit(1);
    stopping = true;
    process.stdout.write(`\n${signal}: stopping the replicas, the simulator and Redis ...\n`);
    cluster.stop().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((err) => {
    process.stderr.write(`npm run cluster: ${err && err.message ? err.message : String(err)}\n`);
    process.exit(1);
  });
}

module.exports = { startCluster, haveRedis };
