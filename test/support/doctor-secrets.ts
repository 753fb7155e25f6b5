/** What a first-contact check's report, answer or output must never hold: the simulated estate's secrets and values. */
import assert from 'node:assert/strict';
import type { LeapcraftSimulator } from '../../simulator';

type Json = Record<string, unknown>;

/** Everything of the simulated estate that must never reach a report (read after the check, over HTTP). */
export async function estateValues(sim: LeapcraftSimulator): Promise<string[]> {
  const out = new Set<string>([sim.apiKey, ...sim.stats.tokensIssued]);
  sim.setKeyValid(true); // the check is over: read the estate with the key
  for (const d of sim.devices()) for (const v of [d.physical_id, d.name, d.serial, d.topology_id]) out.add(v);
  const answer = (await (await fetch(`${sim.baseUrl}/auth/client/token`, {
    method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `api_key=${encodeURIComponent(sim.apiKey)}`,
  })).json()) as { token?: string; access_token?: string };
  const token = (answer.token ?? answer.access_token) as string;
  out.add(token);
  const get = async (p: string) => {
    const body = (await (await fetch(`${sim.baseUrl}${p}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as unknown;
    return (Array.isArray(body) ? body : (body as { data: unknown[] }).data) as Json[];
  };
  for (const g of await get('/topologies')) for (const v of [g.gateway_id, g.name]) if (typeof v === 'string') out.add(v);
  for (const a of await get('/notifications?limit=50')) for (const v of [a.id, a.message]) if (typeof v === 'string') out.add(v);
  for (const t of await get('/things?limit=-1')) for (const v of [t.id, t.name]) if (typeof v === 'string') out.add(v);
  return [...out];
}

export function assertClean(text: string, values: readonly string[], what = 'the report'): void {
  for (const v of values) assert.ok(!text.includes(v), `${what} contains ${JSON.stringify(v)}`);
  assert.doesNotMatch(text, /bearer [0-9a-f]{8}/i);
}
