/**
 * CPU time of a process split by thread, from /proc (Linux): its main thread (JavaScript) and
 * the rest (V8's helper threads: garbage collection, compilation; libuv's pool). Elsewhere
 * undefined. Clock ticks are 10 ms: meaningful summed over a cycle of a few hundred ms.
 */
import fs from 'node:fs';

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
      let stat: string;
      try {
        stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      } catch {
        continue; // the thread ended meanwhile
      }
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = (Number(fields[11]) + Number(fields[12])) * 10;
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
