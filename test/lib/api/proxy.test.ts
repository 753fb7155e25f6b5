/**
 * A corporate network: the API is reached through an HTTP proxy named in HTTPS_PROXY, and the
 * proxy must only ever see a CONNECT (end-to-end TLS to the API, so neither the key nor a token
 * passes through it in clear). The client runs in a child process, as Node-RED would, with the
 * proxy and a private CA (NODE_EXTRA_CA_CERTS) in its environment: the API is the simulator behind
 * a TLS front end for https://api.leapcraft.test, a name only the proxy knows how to reach.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net, { AddressInfo } from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { LeapcraftSimulator } from '../../../simulator';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const TLS_DIR = path.join(__dirname, '..', '..', 'support', 'tls');
const HOST = 'api.leapcraft.test';

/** Lists the devices, reads four of them, closes the client and reports what is still open. */
const CHILD = `
const { LeapcraftClient } = require('./lib');
const { waitFor } = require('./test/support/wait');
(async () => {
  const client = new LeapcraftClient({
    baseUrl: process.env.LEAPCRAFT_BASE, apiKey: process.env.LEAPCRAFT_KEY, concurrency: 2, backoffBaseMs: 10, backoffMaxMs: 20,
    timeoutMs: Number(process.env.LEAPCRAFT_TIMEOUT_MS || 30000),
  });
  const result = {};
  try {
    const devices = await client.listDevices();
    const readings = await Promise.all(devices.slice(0, 4).map((d) => client.getTelemetry(d.physical_id)));
    Object.assign(result, { devices: devices.length, readings: readings.length });
  } catch (err) {
    Object.assign(result, { code: err.code, message: err.message });
  }
  client.close();
  const openSockets = () => process._getActiveHandles().filter((h) => h instanceof require('net').Socket && !h.destroyed && h !== process.stdout && h !== process.stderr).length;
  // Closing destroys the sockets on a later turn: wait for that (or 2 s), then count what is left.
  await waitFor(() => openSockets() === 0, 2000, 'the sockets closed').catch(() => undefined);
  result.openSockets = openSockets();
  console.log(JSON.stringify(result));
})();
`;

interface Started {
  port: number;
  close(): Promise<void>;
}

async function listen(server: net.Server): Promise<Started> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => { for (const s of sockets) s.destroy(); server.close(() => resolve()); }),
  };
}

/** TLS in front of the simulator, with the test certificate for api.leapcraft.test. */
async function startTlsFront(targetPort: number): Promise<Started & { connections: number }> {
  const front = { connections: 0 } as Started & { connections: number };
  const server = tls.createServer({
    key: fs.readFileSync(path.join(TLS_DIR, `${HOST}.key`)),
    cert: fs.readFileSync(path.join(TLS_DIR, `${HOST}.crt`)),
  }, (clear) => {
    front.connections++;
    const upstream = net.connect(targetPort, '127.0.0.1');
    clear.pipe(upstream).pipe(clear);
    clear.on('error', () => upstream.destroy());
    upstream.on('error', () => clear.destroy());
  });
  server.on('tlsClientError', () => undefined);
  return Object.assign(front, await listen(server));
}

/** An HTTP proxy that tunnels every CONNECT to `tunnelPort` and refuses anything sent in clear. */
async function startProxy(tunnelPort: number): Promise<Started & { hits: string[]; url: string; refuseWith?: number; hang?: boolean }> {
  const hits: string[] = [];
  const control: { refuseWith?: number; hang?: boolean } = {};
  const server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url} in clear`);
    req.resume();
    res.writeHead(502, { Connection: 'close' }).end();
  });
  server.on('connect', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    hits.push(`CONNECT ${req.url}${req.headers['proxy-authorization'] ? ' with proxy credentials' : ''}${req.headers.authorization ? ' with authorization' : ''}`);
    if (control.hang) return; // never answers: the socket stays open until the client gives up
    if (control.refuseWith) {
      socket.end(`HTTP/1.1 ${control.refuseWith} Refused\r\nProxy-Authenticate: Basic realm="office"\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const upstream = net.connect(tunnelPort, '127.0.0.1', () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket).pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  const started = await listen(server);
  return Object.assign(control, started, { hits, url: `http://127.0.0.1:${started.port}` });
}

function runChild(env: Record<string, string>): Promise<Record<string, unknown>> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(https?_proxy|no_proxy|all_proxy|node_extra_ca_certs)$/i.test(k)));
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-r', 'tsx/cjs', '-e', CHILD], { cwd: ROOT, env: { ...clean, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`child failed (${err.message}): ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as Record<string, unknown>);
    });
  });
}

describe('through an HTTPS_PROXY (CONNECT, end-to-end TLS)', function () {
  this.timeout(60_000);
  let sim: LeapcraftSimulator;
  let front: Awaited<ReturnType<typeof startTlsFront>>;
  let proxy: Awaited<ReturnType<typeof startProxy>>;

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 12 });
    await sim.start();
    front = await startTlsFront(Number(new URL(sim.baseUrl).port));
    proxy = await startProxy(front.port);
  });
  afterEach(async () => {
    await proxy?.close();
    await front?.close();
    await sim?.stop();
  });

  const env = (extra: Record<string, string> = {}) => ({
    HTTPS_PROXY: proxy.url,
    LEAPCRAFT_BASE: `https://${HOST}:${front.port}${new URL(sim.baseUrl).pathname}`,
    LEAPCRAFT_KEY: sim.apiKey,
    ...extra,
  });

  it('reaches the API with CONNECT only, verifies its certificate, and leaves no socket open after close', async () => {
    const result = await runChild(env({ NODE_EXTRA_CA_CERTS: path.join(TLS_DIR, `${HOST}.crt`) }));
    assert.deepEqual(result, { devices: 12, readings: 4, openSockets: 0 });
    console.log(`      measured: ${sim.stats.total} requests over ${proxy.hits.length} tunnel(s) at concurrency 2`);
    assert.ok(proxy.hits.length >= 1 && proxy.hits.length <= 2, `one tunnel per socket, at most the concurrency: ${proxy.hits.join('; ')}`);
    assert.deepEqual(proxy.hits.filter((h) => h !== `CONNECT ${HOST}:${front.port}`), [], 'nothing but CONNECTs, none with credentials');
    assert.equal(front.connections, proxy.hits.length);
    assert.equal(sim.stats.byEndpoint.token, 1);
    assert.equal(sim.stats.byEndpoint.telemetry, 4);
  });

  it('a proxy that refuses the tunnel (407) is an actionable error, not retried, and the proxy URL is not quoted', async () => {
    proxy.refuseWith = 407;
    const result = await runChild(env({ HTTPS_PROXY: proxy.url.replace('http://', 'http://office:s3cret-pw@') }));
    assert.equal(result.code, 'LEAPCRAFT_UNAVAILABLE', JSON.stringify(result));
    assert.equal(result.message, 'POST /auth/client/token: the proxy refused the tunnel to the API with HTTP 407; check HTTPS_PROXY (and its credentials) and NO_PROXY');
    assert.deepEqual(proxy.hits, [`CONNECT ${HOST}:${front.port} with proxy credentials`], 'one CONNECT, carrying the proxy credentials');
    assert.equal(sim.stats.total, 0);
    assert.equal(result.openSockets, 0);
  });

  it('a proxy that never answers the CONNECT: LEAPCRAFT_TIMEOUT, and no socket left behind', async () => {
    proxy.hang = true;
    const result = await runChild(env({ LEAPCRAFT_TIMEOUT_MS: '500' }));
    assert.equal(result.code, 'LEAPCRAFT_TIMEOUT', JSON.stringify(result));
    assert.equal(proxy.hits.length, 4, `1 attempt + 3 retries: ${proxy.hits.join('; ')}`);
    assert.equal(result.openSockets, 0, 'every CONNECT given up on was closed');
  });

  it('refuses an API certificate it cannot verify, through the tunnel too', async () => {
    const result = await runChild(env());
    assert.equal(result.code, 'LEAPCRAFT_UNAVAILABLE', JSON.stringify(result));
    assert.match(String(result.message), /SELF_SIGNED_CERT/);
    assert.equal(result.openSockets, 0);
    assert.equal(sim.stats.total, 0, 'not one request reached the API');
    assert.ok(proxy.hits.every((h) => h.startsWith('CONNECT ')), proxy.hits.join('; '));
  });
});
