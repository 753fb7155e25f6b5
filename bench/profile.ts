/**
 * In-process CPU profiles (the inspector's sampling profiler, what `node --cpu-prof`
 * writes) over exactly the cycles being looked at, summarised as the functions with the
 * most self time and the share of each area (the package, Node-RED, axios, Node itself).
 */
import fs from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
}

export interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileEntry {
  fn: string;
  where: string;
  area: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  totalMs: number;
  top: ProfileEntry[];
  areas: Array<{ area: string; selfMs: number; share: number }>;
}

const ROOT = path.resolve(__dirname, '..');

function post<T>(session: Session, method: string, params?: object): Promise<T> {
  return new Promise((resolve, reject) => {
    session.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result as T)));
  });
}

/** Runs `work` under the sampling profiler and returns the raw profile. */
export async function profile(work: () => Promise<void>, intervalUs = 200): Promise<CpuProfile> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'Profiler.enable');
    await post(session, 'Profiler.setSamplingInterval', { interval: intervalUs });
    await post(session, 'Profiler.start');
    let failure: unknown;
    await work().catch((err: unknown) => { failure = err; });
    const { profile: result } = await post<{ profile: CpuProfile }>(session, 'Profiler.stop');
    await post(session, 'Profiler.disable');
    if (failure !== undefined) throw failure;
    return result;
  } finally {
    session.disconnect();
  }
}

/** Runs `work` under the sampling heap profiler (every allocation of ~`intervalBytes`) and returns the raw profile. */
export async function heapProfile(work: () => Promise<void>, intervalBytes = 1024): Promise<unknown> {
  const session = new Session();
  session.connect();
  try {
    await post(session, 'HeapProfiler.enable');
    await post(session, 'HeapProfiler.startSampling', {
      samplingInterval: intervalBytes, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true,
    });
    let failure: unknown;
    await work().catch((err: unknown) => { failure = err; });
    const { profile: result } = await post<{ profile: unknown }>(session, 'HeapProfiler.stopSampling');
    await post(session, 'HeapProfiler.disable');
    if (failure !== undefined) throw failure;
    return result;
  } finally {
    session.disconnect();
  }
}

/**
 * The profiling requests a contender process serves beside `cycle` (bench/limit-process.ts,
 * bench/package-process.ts): a CPU profile of some cycles, summarised (`save` also writes the
 * raw .cpuprofile), and the sampling heap profiler over some cycles, written to `save` (a tool
 * for finding allocations).
 */
export function profileHandlers(cycle: (p: { ids?: string[] } | null) => Promise<unknown>) {
  return {
    async profile(p: { ids?: string[]; cycles: number; save?: string }): Promise<ProfileSummary> {
      const prof = await profile(async () => {
        for (let i = 0; i < p.cycles; i++) await cycle(p);
      });
      if (p.save) fs.writeFileSync(p.save, JSON.stringify(prof));
      return summarise(prof);
    },
    async heapProfile(p: { cycles: number; save: string }): Promise<void> {
      const prof = await heapProfile(async () => {
        for (let i = 0; i < p.cycles; i++) await cycle(null);
      });
      fs.writeFileSync(p.save, JSON.stringify(prof));
    },
  };
}

function shortPath(url: string): string {
  const file = url.startsWith('file://') ? url.slice('file://'.length) : url;
  const nm = file.lastIndexOf('/node_modules/');
  if (nm >= 0) return file.slice(nm + '/node_modules/'.length);
  if (file.startsWith(ROOT)) return file.slice(ROOT.length + 1);
  return file;
}

/** Which part of the stack a frame belongs to. */
export function areaOf(frame: CallFrame): string {
  const { url, functionName } = frame;
  if (!url) {
    if (functionName === '(garbage collector)') return 'garbage collector';
    if (functionName === '(idle)') return 'idle';
    if (functionName === '(program)') return 'V8/native';
    return 'V8/native';
  }
  if (url.startsWith('node:')) return 'Node.js core';
  const p = shortPath(url);
  if (/^(dist\/)?(lib|nodes)\//.test(p)) return 'this package';
  if (p.startsWith('@node-red/') || p.startsWith('node-red/')) return 'Node-RED runtime and core nodes';
  if (p.startsWith('axios/') || p.startsWith('follow-redirects/') || p.startsWith('form-data/') || p.startsWith('proxy-from-env/')) return 'axios';
  if (p.startsWith('got/') || p.startsWith('@sindresorhus/') || p.startsWith('http2-wrapper/') || p.startsWith('cacheable-')) return 'got (http request node)';
  if (p.startsWith('tsx/') || p.startsWith('bench/')) return 'bench harness';
  return 'other modules';
}

export function summarise(prof: CpuProfile, topN = 15): ProfileSummary {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  // Samples under the inspector's own calls (stopping the profiler) are the measurement's, not the process's.
  const parent = new Map<number, number>();
  for (const n of prof.nodes) for (const c of (n as ProfileNode & { children?: number[] }).children ?? []) parent.set(c, n.id);
  const underInspector = (id: number): boolean => {
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) if (byId.get(x)?.callFrame.url === 'node:inspector') return true;
    return false;
  };
  const self = new Map<number, number>();
  for (let i = 0; i < prof.samples.length; i++) {
    const id = prof.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0));
  }
  const byFn = new Map<string, { fn: string; where: string; area: string; us: number }>();
  const byArea = new Map<string, number>();
  let total = 0;
  for (const [id, us] of self) {
    const frame = byId.get(id)!.callFrame;
    const area = underInspector(id) ? 'the profiler itself' : areaOf(frame);
    byArea.set(area, (byArea.get(area) ?? 0) + us);
    total += us;
    if (area === 'idle' || area === 'the profiler itself') continue;
    const where = frame.url ? `${shortPath(frame.url)}:${frame.lineNumber + 1}` : '';
    const fn = frame.functionName || '(anonymous)';
    const key = `${fn} ${where}`;
    const entry = byFn.get(key) ?? { fn, where, area, us: 0 };
    entry.us += us;
    byFn.set(key, entry);
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const share = (us: number) => (total > 0 ? Math.round((us / total) * 1000) / 10 : 0);
  return {
    totalMs: ms(total),
    top: [...byFn.values()].sort((a, b) => b.us - a.us).slice(0, topN)
      .map((e) => ({ fn: e.fn, where: e.where, area: e.area, selfMs: ms(e.us), share: share(e.us) })),
    areas: [...byArea.entries()].sort((a, b) => b[1] - a[1]).map(([area, us]) => ({ area, selfMs: ms(us), share: share(us) })),
  };
}
