/**
 * The limit, (a): the least work a client can do for one poll cycle. The same HTTP client as
 * the package (axios, text body parsed with JSON.parse), the same keep-alive agent settings
 * and the same concurrency, one token exchanged up front, then the device list in one request
 * (limit=-1) and one request per device from a plain worker pool. No validation, no retries,
 * no Node-RED: nothing a real node could skip. Run in a process of its own (limit-process.ts)
 * or beside the package in one process (package-compare.ts).
 */
import http from 'node:http';
import { performance } from 'node:perf_hooks';
import axios, { AxiosInstance } from 'axios';
import type { CycleResult } from './nodered-process';

export interface LimitInit {
  baseUrl: string;
  apiKey: string;
  concurrency: number;
}

export interface Limit {
  /** One cycle: the device list then every device; with `ids`, just those devices. */
  cycle(ids?: string[]): Promise<CycleResult>;
  close(): void;
}

export async function startLimit(p: LimitInit): Promise<Limit> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: p.concurrency, maxFreeSockets: p.concurrency });
  const client = axios.create({
    baseURL: p.baseUrl,
    httpAgent: agent,
    proxy: false,
    responseType: 'text',
    transformResponse: [(data: unknown) => data],
    headers: { Accept: 'application/json' },
  });
  const res = await client.post('/auth/client/token', new URLSearchParams({ api_key: p.apiKey }).toString(), {
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
  });
  const token = (JSON.parse(res.data as string) as { token: string }).token;
  client.defaults.headers.common.Authorization = `Bearer ${token}`;
  return { cycle: (ids) => cycle(client, p.concurrency, ids), close: () => agent.destroy() };
}

async function cycle(client: AxiosInstance, concurrency: number, ids?: string[]): Promise<CycleResult> {
  const cpu = process.cpuUsage();
  const start = performance.now();
  const list = ids
    ? ids.map((physical_id) => ({ physical_id }))
    : JSON.parse((await client.get('/devices', { params: { limit: -1 } })).data as string) as Array<{ physical_id: string }>;
  const readings: unknown[] = [];
  let next = 0;
  let errors = 0;
  const worker = async () => {
    while (next < list.length) {
      const id = list[next++]!.physical_id;
      const res = await client.get(`/telemetry/${encodeURIComponent(id)}`, { params: { type: 'latest' } });
      if (res.status === 200) readings.push(JSON.parse(res.data as string));
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - start;
  const used = process.cpuUsage(cpu);
  return { ms, cpuMs: (used.user + used.system) / 1000, msgs: readings.length, errors };
}
