/**
 * The device picker of leapcraft-devices on a large account, as a user meets it: an account
 * and a devices node deployed beside whatever runs ("modified nodes"), the node's dialog opened
 * in the editor, the device field focused (the list read from the API through the admin route),
 * then names typed into it (the list narrowed in the browser). Used by the browser test (e) and
 * by the benchmark's building-scale section, which prints the times.
 */
import type { Page } from 'playwright-core';

export interface PickerAccount {
  accountId: string;
  pickerId: string;
  /** The tab the picker node is on. */
  z: string;
}

export interface FilteredList {
  typed: string;
  ms: number;
  /** Suggestions shown, every one matching what was typed. */
  shown: number;
  /** The suggestion texts (the first 20). */
  items: string[];
}

export interface PickerTiming {
  /** From the click into the empty field to the list shown (ms). */
  listMs: number;
  listShown: number;
  filtered: FilteredList[];
}

/** Deploys an account on `baseUrl` and a leapcraft-devices node on tab `z` into the running Node-RED at `adminUrl`. */
export async function deployPickerAccount(adminUrl: string, baseUrl: string, apiKey: string, z: string): Promise<PickerAccount> {
  const headers = { 'Node-RED-API-Version': 'v2' };
  const current = (await (await fetch(`${adminUrl}/flows`, { headers })).json()) as { rev: string; flows: unknown[] };
  const account = { id: 'e10000000000000a', type: 'leapcraft-config', name: 'large account', baseUrl, concurrency: 8, timeout: 30, budget: '', credentials: { apiKey } };
  const picker = { id: 'e10000000000000b', type: 'leapcraft-devices', z, name: 'one of many', account: account.id, physicalId: '', x: 1100, y: 1000, wires: [[]] };
  const deployed = await fetch(`${adminUrl}/flows`, {
    method: 'POST',
    headers: { ...headers, 'Content-Type': 'application/json', 'Node-RED-Deployment-Type': 'nodes' },
    body: JSON.stringify({ rev: current.rev, flows: [...current.flows, account, picker] }),
  });
  if (deployed.status !== 200) throw new Error(`deploy: HTTP ${deployed.status} ${await deployed.text()}`);
  return { accountId: account.id, pickerId: picker.id, z };
}

/**
 * Opens the picker node's dialog at `editorUrl`, focuses the device field and types each of
 * `typed` in turn. A filtered list counts as shown when every suggestion contains the typed text
 * (case-insensitive), checked on every animation frame in the page.
 */
export async function timePicker(page: Page, editorUrl: string, at: PickerAccount, typed: string[]): Promise<PickerTiming> {
  await page.goto(editorUrl);
  await page.locator('#red-ui-palette-container-Leapcraft').waitFor({ state: 'visible', timeout: 30_000 });
  // The palette can be drawn before the flows have loaded: wait for the node itself.
  await page.waitForFunction((id) => !!(window as any).RED?.nodes?.node(id), at.pickerId, { timeout: 30_000 });
  await page.evaluate(({ id, z }) => {
    const RED = (window as any).RED;
    RED.workspaces.show(z);
    RED.editor.edit(RED.nodes.node(id));
  }, { id: at.pickerId, z: at.z });
  const field = page.locator('#node-input-physicalId');
  await field.waitFor({ state: 'visible', timeout: 15_000 });
  const menu = page.locator('ul.ui-autocomplete:visible');

  const focusedAt = Date.now();
  await field.click();
  await menu.first().waitFor({ state: 'visible', timeout: 60_000 });
  const listMs = Date.now() - focusedAt;
  const listShown = await menu.locator('li').count();

  const filtered: FilteredList[] = [];
  for (const text of typed) {
    const needle = text.toLowerCase();
    const typedAt = Date.now();
    await field.fill(text);
    const handle = await page.waitForFunction((n) => {
      const items = Array.from(document.querySelectorAll('ul.ui-autocomplete li'))
        .filter((li) => (li as HTMLElement).offsetParent !== null)
        .map((li) => (li.textContent ?? '').trim());
      return items.length > 0 && items.every((t) => t.toLowerCase().includes(n)) ? items : null;
    }, needle, { polling: 'raf', timeout: 30_000 });
    const ms = Date.now() - typedAt;
    const items = (await handle.jsonValue()) as string[];
    filtered.push({ typed: text, ms, shown: items.length, items: items.slice(0, 20) });
  }
  return { listMs, listShown, filtered };
}
