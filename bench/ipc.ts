/**
 * Request/reply over the IPC channel of a forked child. Every contender and the simulator
 * run in a child process of their own (two cores: nobody shares an event loop with the
 * thing it measures), and the orchestrator drives them through these calls.
 */
import { ChildProcess, fork } from 'node:child_process';
import path from 'node:path';

type Handler = (params: any) => unknown; // eslint-disable-line @typescript-eslint/no-explicit-any

interface Request {
  id: number;
  method: string;
  params: unknown;
}

interface Reply {
  id: number;
  result?: unknown;
  error?: string;
}

/** Child side: answers the parent's calls; exits when the parent goes away. */
export function serve(handlers: Record<string, Handler>): void {
  if (!process.send) throw new Error('bench child started without an IPC channel');
  process.on('message', (raw: Request) => {
    const reply = (r: Omit<Reply, 'id'>) => process.send!({ id: raw.id, ...r });
    const handler = handlers[raw.method];
    if (!handler) {
      reply({ error: `unknown method ${raw.method}` });
      return;
    }
    Promise.resolve()
      .then(() => handler(raw.params))
      .then(
        (result) => reply({ result: result ?? null }),
        (err: unknown) => reply({ error: err instanceof Error ? err.stack ?? err.message : String(err) }),
      );
  });
  // The orchestrator died or finished: nothing left to measure for.
  process.on('disconnect', () => process.exit(0));
}

export interface Child {
  readonly name: string;
  readonly process: ChildProcess;
  call<T = unknown>(method: string, params?: unknown, timeoutMs?: number): Promise<T>;
  /** Asks the child to exit, killing it after a grace period. */
  close(): Promise<void>;
}

export interface SpawnOptions {
  /** Extra node flags, e.g. --expose-gc. */
  execArgv?: string[];
  env?: Record<string, string>;
}

/** Forks `bench/<script>` under tsx, with an IPC channel. */
export function spawnChild(name: string, script: string, options: SpawnOptions = {}): Child {
  const proc = fork(path.join(__dirname, script), [], {
    execArgv: ['--require', require.resolve('tsx/cjs'), ...(options.execArgv ?? [])],
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let nextId = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  const failAll = (why: string) => {
    for (const p of pending.values()) {
      clearTimeout(p.timer);
      p.reject(new Error(`${name}: ${why}`));
    }
    pending.clear();
  };
  proc.on('message', (reply: Reply) => {
    const p = pending.get(reply.id);
    if (!p) return;
    pending.delete(reply.id);
    clearTimeout(p.timer);
    if (reply.error !== undefined) p.reject(new Error(`${name}: ${reply.error}`));
    else p.resolve(reply.result);
  });
  proc.on('exit', (code, signal) => failAll(`exited (${signal ?? code})`));
  proc.on('error', (err) => failAll(err.message));

  return {
    name,
    process: proc,
    call<T>(method: string, params?: unknown, timeoutMs = 120_000): Promise<T> {
      if (!proc.connected) return Promise.reject(new Error(`${name}: not running`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(id);
          reject(new Error(`${name}: ${method} timed out after ${timeoutMs} ms`));
        }, timeoutMs);
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
        proc.send({ id, method, params: params ?? null } satisfies Request);
      });
    },
    async close(): Promise<void> {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise((r) => proc.once('exit', r));
      if (proc.connected) proc.disconnect();
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
