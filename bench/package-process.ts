/**
 * Contender (p), the package alone (package-cycle.ts), in a plain Node.js process. Set beside
 * (a) and (b), it splits what (b) costs beyond the limit into the package's share and
 * Node-RED's (sending the msgs through the flow to the sink).
 */
import { serve } from './ipc';
import { loadLib, PackageAccount, PackageInit, startPackage } from './package-cycle';
import { profileHandlers } from './profile';

/**
 * The package measured: this working tree, or another checkout with a dist/ of its own
 * (LEAPCRAFT_BENCH_PACKAGE), to measure a before and an after under the same conditions.
 */
const lib = loadLib();

let account: PackageAccount | undefined;

const cycle = (p: { ids?: string[] } | null) => account!.cycle(p?.ids);

serve({
  async init(p: PackageInit) {
    account = await startPackage(lib, p);
  },
  cycle,
  ...profileHandlers(cycle),
  stop() {
    account?.close();
  },
});
