/** Contender (a), the limit (limit.ts), in a process of its own. */
import { serve } from './ipc';
import { Limit, LimitInit, startLimit } from './limit';
import { profileHandlers } from './profile';

let limit: Limit | undefined;

const cycle = (p: { ids?: string[] } | null) => limit!.cycle(p?.ids);

serve({
  async init(p: LimitInit) {
    limit = await startLimit(p);
  },
  /** One cycle: the device list then every device; with `ids`, just those devices. */
  cycle,
  ...profileHandlers(cycle),
  stop() {
    limit?.close();
  },
});
