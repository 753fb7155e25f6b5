/**
 * A look inside the Node-RED process from outside: a settings.js global-context function that
 * collects the garbage (Node-RED runs with --expose-gc) and reports the process's active
 * resources (timers, sockets, ...) by kind and its memory, served by the observed flow's
 * `GET /reliability/probe` route (flow.ts).
 */
import http from 'node:http';

import type { RealNodeRed } from '../../../support/real-nodered';
import { sleep } from '../../../support/wait';

/** settings.js entries for RealNodeRed's `settingsSource`. */
export const PROBE_SETTINGS = `functionGlobalContext: {
    reliabilityProbe: function () {
      if (typeof global.gc === 'function') { global.gc(); global.gc(); }
      var resources = {};
      process.getActiveResourcesInfo().forEach(function (kind) { resources[kind] = (resources[kind] || 0) + 1; });
      var m = process.memoryUsage();
      return { resources: resources, heapUsed: m.heapUsed, rss: m.rss, gc: typeof global.gc === 'function' };
    },
  },`;

/** Node flags the probe needs. */
export const PROBE_NODE_ARGS = ['--expose-gc'];

export interface ProbeSample {
  /** Active resources by kind, e.g. {Timeout: 12, TCPSocketWrap: 5}. */
  resources: Record<string, number>;
  /** Bytes, measured right after a full garbage collection. */
  heapUsed: number;
  rss: number;
  gc: boolean;
}

export function probe(red: RealNodeRed): Promise<ProbeSample> {
  // A connection of its own (no keep-alive agent), closed after the answer, so the probe
  // leaves no socket behind to be counted next time.
  return new Promise((resolve, reject) => {
    const req = http.get(`${red.url}/reliability/probe`, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => {
        if (res.statusCode !== 200) return reject(new Error(`probe failed: HTTP ${res.statusCode} ${body}`));
        try {
          resolve(JSON.parse(body) as ProbeSample);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', reject);
  });
}

/**
 * The quietest of a few samples: timers and sockets come and go with every poll, so the
 * minimum per kind (and of the heap) is what stays when nothing is in flight.
 */
export async function quietProbe(red: RealNodeRed, samples = 5, gapMs = 300): Promise<ProbeSample> {
  let best: ProbeSample | undefined;
  for (let i = 0; i < samples; i++) {
    if (i > 0) await sleep(gapMs);
    const s = await probe(red);
    if (!best) {
      best = s;
      continue;
    }
    const kinds = new Set([...Object.keys(best.resources), ...Object.keys(s.resources)]);
    const resources: Record<string, number> = {};
    for (const k of kinds) resources[k] = Math.min(best.resources[k] ?? 0, s.resources[k] ?? 0);
    best = { resources, heapUsed: Math.min(best.heapUsed, s.heapUsed), rss: Math.min(best.rss, s.rss), gc: best.gc && s.gc };
  }
  return best!;
}
