/**
 * CPU time of a process split by thread, from /proc (Linux): its main thread (JavaScript) and
 * the rest (V8's helper threads: garbage collection, compilation; libuv's pool), or the whole
 * process's. Elsewhere undefined. Clock ticks are 10 ms: meaningful summed over a cycle of a few
 * hundred ms.
 */
import fs from 'node:fs';

/** User + system time of a /proc stat file (a process's or a thread's), ms. */
function statCpuMs(file: string): number {
  const stat = fs.readFileSync(file, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

/** CPU (user + system) a process has spent so far, its ended threads included, ms; undefined where /proc is not. */
export function processCpuMs(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    return statCpuMs(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
}

export interface ThreadCpu {
  mainMs: number;
  otherMs: number;
}

export function threadCpu(pid: number | undefined): ThreadCpu | undefined {
  if (pid === undefined) return undefined;
  try {
    let mainMs = 0;
    let otherMs = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      let ms: number;
      try {
        ms = statCpuMs(`/proc/${pid}/task/${tid}/stat`);
      } catch {
        continue; // the thread ended meanwhile
      }
      if (tid === String(pid)) mainMs += ms;
      else otherMs += ms;
    }
    return { mainMs, otherMs };
  } catch {
    return undefined;
  }
}

export function threadCpuSince(pid: number | undefined, before: ThreadCpu | undefined): ThreadCpu | undefined {
  const now = threadCpu(pid);
  if (!now || !before) return undefined;
  return { mainMs: now.mainMs - before.mainMs, otherMs: now.otherMs - before.otherMs };
}
