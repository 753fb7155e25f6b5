'use strict';
/**
 * Network stub for `node-red-dev validate` run offline, loaded as a preload:
 *
 *   NODE_OPTIONS="--require /abs/path/test/support/catalogue-stub.js" node-red-dev validate -p <dir> -o <out.json>
 *
 * node-red-dev 0.1.6 fetches, through axios (follow-redirects → https.request), `request` and `got`:
 *   - https://catalogue.nodered.org/catalogue.json (P08 similar names, N01 unique node types)
 *   - https://registry.npmjs.org/node-red (P06 Node-RED versions, P07 Node.js version)
 *   - https://registry.npmjs.org/<dep>, walking the dependency tree (D02 npm-remote-ls, D03 npm-check)
 *
 * This preload patches http/https request/get in the child process:
 *   - catalogue.nodered.org is answered with CATALOGUE_STUB_FILE, or with an empty catalogue `{"modules":[]}`;
 *   - registry hosts (CATALOGUE_STUB_REGISTRY_HOSTS, comma separated; default registry.npmjs.org) go to the real
 *     registry, unless CATALOGUE_STUB_REGISTRY_FILE is set: then they are answered from that JSON file
 *     (`{ "<package name>": <packument> }`, 404 for a name not in it);
 *   - every other request fails at once with ECONNREFUSED (no hanging on a closed network).
 * Answers are real HTTP exchanges with a server on a unix socket inside this process, so every client sees an
 * ordinary response. With CATALOGUE_STUB_LOG set, one JSON line per request is appended to that file:
 * {"url", "action": "catalogue" | "registry-stub" | "pass" | "blocked", "status"?}.
 */
const fs = require('fs');
const http = require('http');
const https = require('https');
const os = require('os');
const path = require('path');

const CATALOGUE_HOST = 'catalogue.nodered.org';
const env = process.env;
const registryHosts = (env.CATALOGUE_STUB_REGISTRY_HOSTS || 'registry.npmjs.org').split(',').map((h) => h.trim().toLowerCase()).filter(Boolean);
const catalogueBody = env.CATALOGUE_STUB_FILE ? fs.readFileSync(env.CATALOGUE_STUB_FILE, 'utf8') : JSON.stringify({ modules: [] });
JSON.parse(catalogueBody); // fail at start-up, not mid-run, on a broken catalogue file
const packuments = env.CATALOGUE_STUB_REGISTRY_FILE ? JSON.parse(fs.readFileSync(env.CATALOGUE_STUB_REGISTRY_FILE, 'utf8')) : undefined;

const original = {
  httpRequest: http.request,
  httpGet: http.get,
  httpsRequest: https.request,
  httpsGet: https.get,
};

function log(entry) {
  if (env.CATALOGUE_STUB_LOG) fs.appendFileSync(env.CATALOGUE_STUB_LOG, JSON.stringify(entry) + '\n');
}

// The answering server: a unix socket binds synchronously, so it is ready before the first request.
const socketPath = path.join(env.CATALOGUE_STUB_DIR || os.tmpdir(), `catalogue-stub-${process.pid}-${Date.now().toString(36)}.sock`);
const server = http.createServer((req, res) => {
  const url = new URL(req.url, `https://${req.headers['x-stub-host']}`);
  const send = (status, body) => {
    res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), connection: 'close' });
    res.end(body);
    log({ url: url.href, action: url.hostname === CATALOGUE_HOST ? 'catalogue' : 'registry-stub', status });
  };
  if (url.hostname === CATALOGUE_HOST) {
    if (url.pathname === '/catalogue.json') send(200, catalogueBody);
    else send(404, JSON.stringify({ error: 'not found' }));
    return;
  }
  const name = decodeURIComponent(url.pathname.replace(/^\//, '').replace(/\/$/, ''));
  if (packuments && Object.prototype.hasOwnProperty.call(packuments, name)) send(200, JSON.stringify(packuments[name]));
  else send(404, JSON.stringify({ error: 'Not found' }));
});
server.listen(socketPath);
server.unref();
process.once('exit', () => {
  try { fs.unlinkSync(socketPath); } catch { /* already gone */ }
});

/** Host, path, method and headers of a request(url[, options][, cb]) / request(options[, cb]) call. */
function describe(args, defaultProtocol) {
  let url;
  let options = {};
  let callback;
  const [a, b, c] = args;
  if (typeof a === 'string' || a instanceof URL) {
    url = new URL(String(a));
    if (typeof b === 'function') callback = b;
    else { options = b || {}; callback = c; }
  } else {
    options = a || {};
    callback = b;
  }
  const protocol = options.protocol || (url && url.protocol) || defaultProtocol;
  let host = options.hostname || (options.host && String(options.host).replace(/:\d+$/, '')) || (url && url.hostname) || 'localhost';
  host = String(host).replace(/^\[|\]$/g, '').toLowerCase();
  const reqPath = options.path || (url ? url.pathname + url.search : '/');
  const method = (options.method || 'GET').toUpperCase();
  const headers = { ...(options.headers || {}) };
  return { protocol, host, path: reqPath, method, headers, callback, href: `${protocol}//${host}${reqPath}` };
}

function toStub(d) {
  const headers = {};
  for (const [k, v] of Object.entries(d.headers)) {
    const key = k.toLowerCase();
    if (key !== 'host' && key !== 'connection' && key !== 'accept-encoding') headers[key] = v;
  }
  headers['x-stub-host'] = d.host;
  headers.connection = 'close';
  return original.httpRequest({ socketPath, path: d.path, method: d.method, headers, agent: false }, d.callback);
}

function blocked(d) {
  log({ url: d.href, action: 'blocked' });
  process.stderr.write(`[catalogue-stub] blocked ${d.method} ${d.href}\n`);
  // A request that never connects: destroyed with the error before its socket is used.
  const req = original.httpRequest({ socketPath, path: '/', method: d.method, agent: false }, d.callback);
  const err = Object.assign(new Error(`catalogue-stub: outbound request to ${d.host} blocked (network closed): ${d.href}`), { code: 'ECONNREFUSED' });
  process.nextTick(() => req.destroy(err));
  return req;
}

function patched(defaultProtocol, originalRequest, isGet) {
  return function stubbedRequest(...args) {
    const d = describe(args, defaultProtocol);
    let req;
    if (d.host === CATALOGUE_HOST) req = toStub(d);
    else if (registryHosts.includes(d.host) && packuments) req = toStub(d);
    else if (registryHosts.includes(d.host)) {
      log({ url: d.href, action: 'pass' });
      return originalRequest.apply(this, args);
    } else req = blocked(d);
    if (isGet) req.end();
    return req;
  };
}

http.request = patched('http:', original.httpRequest, false);
http.get = patched('http:', original.httpGet, true);
https.request = patched('https:', original.httpsRequest, false);
https.get = patched('https:', original.httpsGet, true);
