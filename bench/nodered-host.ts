/**
 * Node-RED 4.1 (the devDependency) embedded as a library in this process, with the
 * package loaded from the working tree's build (dist/) through a linked user directory,
 * as a user's Node-RED loads it. No editor or HTTP nodes are served (httpAdminRoot and
 * httpNodeRoot are off): the runtime, the flows and the nodes are the real ones, and the
 * measurements read them in-process without a network hop of their own.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/**
 * The package measured: this working tree, or another checkout with a dist/ of its own
 * (LEAPCRAFT_BENCH_PACKAGE), to measure a before and an after under the same conditions.
 */
const ROOT = process.env.LEAPCRAFT_BENCH_PACKAGE ? path.resolve(process.env.LEAPCRAFT_BENCH_PACKAGE) : path.resolve(__dirname, '..');

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RedApp = any;
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type RuntimeNode = any;

export interface NodeRedHost {
  RED: RedApp;
  userDir: string;
  deploy(flows: unknown[], credentials?: Record<string, unknown>): Promise<void>;
  getNode(id: string): RuntimeNode;
  stop(): Promise<void>;
}

export async function startNodeRed(): Promise<NodeRedHost> {
  if (!fs.existsSync(path.join(ROOT, 'dist', 'nodes', 'leapcraft-telemetry.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first');
  }
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-bench-'));
  fs.mkdirSync(path.join(userDir, 'node_modules'));
  fs.writeFileSync(path.join(userDir, 'package.json'), JSON.stringify({ name: 'leapcraft-bench-userdir', private: true }));
  fs.symlinkSync(ROOT, path.join(userDir, 'node_modules', 'node-red-contrib-leapcraft'), 'dir');

  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const RED: RedApp = require('node-red');
  RED.init({
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    httpAdminRoot: false,
    httpNodeRoot: false,
    // Errors only: the runtime's start-up warnings (projects, unencrypted credentials) say nothing here.
    logging: { console: { level: 'error', metrics: false, audit: false } },
    // Nodes of the package and the core only: no example or palette look-ups, and none of the
    // other Node-RED modules in the repository's node_modules (the dashboard, the history
    // tests' database nodes), which Node-RED would load from there too and whose heap every
    // garbage collection of the measured process would mark.
    externalModules: { autoInstall: false, palette: { allowInstall: false, allowList: ['node-red-contrib-leapcraft'] } },
  });
  // RED.start() resolves before the (empty) flow file is loaded and started: a deploy made
  // in between would have its credentials replaced by the file's.
  const loaded = new Promise<void>((resolve) => RED.events.once('flows:started', () => resolve()));
  await RED.start();
  await loaded;

  return {
    RED,
    userDir,
    async deploy(flows, credentials = {}) {
      // setFlows resolves with the revision once the flows are saved; they start a moment later.
      const startedRevisions = new Set<string>();
      const onStarted = (ev: { config?: { rev?: string } }) => { if (ev.config?.rev) startedRevisions.add(ev.config.rev); };
      RED.events.on('flows:started', onStarted);
      try {
        const rev: string = await RED.nodes.setFlows(flows, credentials, 'full');
        for (let i = 0; !startedRevisions.has(rev); i++) {
          if (i > 1000) throw new Error('the deployed flows did not start within 10 s');
          await new Promise((r) => setTimeout(r, 10));
        }
      } finally {
        RED.events.off('flows:started', onStarted);
      }
    },
    getNode(id) {
      const node = RED.nodes.getNode(id);
      if (!node) throw new Error(`no node ${id} in the deployed flow`);
      return node;
    },
    async stop() {
      await RED.stop();
      fs.rmSync(userDir, { recursive: true, force: true });
    },
  };
}
