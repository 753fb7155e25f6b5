/**
 * The Node-RED editor as a user drives it, for the browser tests: importing an example from the
 * menu, deploying, clicking an inject and reading the debug sidebar, and what the editor holds
 * (accounts, tabs). Every wait is for an event of the page, none for a fixed time.
 */
/* eslint-disable @typescript-eslint/no-explicit-any */
import type { Page } from 'playwright-core';

/** The account every example brings and the demo uses (one id). */
export const ACCOUNT_ID = 'c0a1e0d1f00000aa';

export type ConflictChoice = 'Import copy' | 'View nodes...';

export interface Imported {
  /** The tab the example went to ("Import to: new flow"). */
  tab: string;
  /** Node-RED said some of the nodes exist already. */
  existing: boolean;
  /** With View nodes...: the ids the dialog left unchecked (kept as they are, not imported). */
  notImported: string[];
}

/**
 * Menu → Import → Examples → node-red-contrib-leapcraft → `name`, Import to: new flow, Import.
 * When Node-RED says some nodes exist already (the account every example shares), `choice`
 * answers: Import copy, or View nodes... and then Import selected as the dialog proposes it.
 */
export async function importExample(page: Page, name: string, choice: ConflictChoice): Promise<Imported> {
  const tabsBefore: string[] = await page.evaluate(() => {
    const ids: string[] = [];
    (window as any).RED.nodes.eachWorkspace((w: { id: string }) => { ids.push(w.id); });
    return ids;
  });
  await page.locator('#red-ui-header-button-sidemenu').click();
  await page.locator('#menu-item-import').click();
  const dialog = page.locator('.red-ui-clipboard-dialog, .ui-dialog').filter({ has: page.locator('#red-ui-clipboard-dialog-import-tab-examples') }).first();
  await page.getByRole('link', { name: 'Examples' }).click();
  const examples = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  const item = examples.getByText(name, { exact: true });
  if (!(await item.isVisible())) await examples.getByText('node-red-contrib-leapcraft', { exact: true }).click();
  await item.click();
  await page.locator('#red-ui-clipboard-dialog-import-opt-new').click();
  await page.locator('#red-ui-clipboard-dialog-ok').click();
  await dialog.waitFor({ state: 'hidden' }).catch(() => undefined);

  const conflict = page.locator('.red-ui-notification', { hasText: 'already exist' });
  const outcome = await Promise.race([
    conflict.waitFor({ state: 'visible', timeout: 15_000 }).then(() => 'conflict' as const),
    page.waitForFunction((before) => {
      let added = false;
      (window as any).RED.nodes.eachWorkspace((w: { id: string }) => { if (!before.includes(w.id)) added = true; });
      return added;
    }, tabsBefore, { timeout: 15_000 }).then(() => 'imported' as const),
  ]);
  let notImported: string[] = [];
  if (outcome === 'conflict') {
    if (choice === 'Import copy') {
      await conflict.getByRole('button', { name: 'Import copy' }).click();
    } else {
      await conflict.getByRole('button', { name: 'View nodes...' }).click();
      const list = page.locator('#red-ui-clipboard-dialog-import-conflicts-list');
      await list.waitFor({ state: 'visible' });
      notImported = await list.evaluate((el) => Array.from(el.querySelectorAll('.red-ui-clipboard-dialog-import-conflicts-gutter input[type="checkbox"][data-node-id]'))
        .filter((cb) => !(cb as HTMLInputElement).checked)
        .map((cb) => cb.getAttribute('data-node-id') ?? ''));
      await page.locator('#red-ui-clipboard-dialog-import-conflict').click();
    }
  }
  await page.waitForFunction((before) => {
    let added = false;
    (window as any).RED.nodes.eachWorkspace((w: { id: string }) => { if (!before.includes(w.id)) added = true; });
    return added;
  }, tabsBefore, { timeout: 15_000 });
  // The imported nodes follow the mouse until a click puts them down, near the new tab's top left.
  const chart = await page.locator('#red-ui-workspace-chart').boundingBox();
  await page.mouse.move(chart!.x + 80, chart!.y + 60, { steps: 4 });
  await page.mouse.click(chart!.x + 80, chart!.y + 60);
  await page.waitForFunction(() => (window as any).RED.nodes.dirty() === true, undefined, { timeout: 15_000 });
  const tab: string = await page.evaluate((before) => {
    let id = '';
    (window as any).RED.nodes.eachWorkspace((w: { id: string }) => { if (!before.includes(w.id)) id = w.id; });
    return id;
  }, tabsBefore);
  return { tab, existing: outcome === 'conflict', notImported: [...new Set(notImported)] };
}

/** Clicks Deploy and waits until the editor has nothing left to deploy. */
export async function deploy(page: Page): Promise<void> {
  await page.waitForFunction(() => (window as any).RED.nodes.dirty() === true, undefined, { timeout: 15_000 });
  await page.locator('#red-ui-header-button-deploy').click();
  // A deploy with invalid or unconfigured nodes asks first: that is a failure here.
  const confirm = page.getByRole('button', { name: 'Confirm deploy' });
  await Promise.race([
    page.waitForFunction(() => (window as any).RED.nodes.dirty() === false, undefined, { timeout: 30_000 }),
    confirm.waitFor({ state: 'visible', timeout: 30_000 }).then(async () => {
      throw new Error(`Node-RED asked before deploying: ${await page.locator('.red-ui-notification').filter({ has: confirm }).innerText()}`);
    }),
  ]);
}

/** The leapcraft-config nodes the editor holds: id, name and how many nodes use each. */
export async function accounts(page: Page): Promise<Array<{ id: string; name: string; users: number }>> {
  return page.evaluate(() => {
    const out: Array<{ id: string; name: string; users: number }> = [];
    (window as any).RED.nodes.eachConfig((n: any) => {
      if (n.type === 'leapcraft-config') out.push({ id: n.id, name: n.name, users: n.users.length });
    });
    return out;
  });
}

/** The id of the node of `type` named `name` on tab `z`. */
export async function nodeOnTab(page: Page, z: string, type: string, name: string): Promise<string> {
  const id: string | undefined = await page.evaluate(([tab, t, n]) => (window as any).RED.nodes.filterNodes({ z: tab, type: t })
    .find((node: { name: string }) => node.name === n)?.id, [z, type, name]);
  if (!id) throw new Error(`no ${type} "${name}" on tab ${z}`);
  return id;
}

/**
 * Shows tab `z`, clears the debug sidebar, clicks the button of the inject named `inject` and
 * resolves with the text of the first debug message matching `expect`.
 */
export async function injectAndRead(page: Page, z: string, inject: string, expect: RegExp): Promise<string> {
  await page.evaluate((tab) => {
    const RED = (window as any).RED;
    RED.workspaces.show(tab);
    RED.sidebar.show('debug');
    RED.actions.invoke('core:clear-debug-messages');
  }, z);
  const id = await nodeOnTab(page, z, 'inject', inject);
  await page.locator(`[id="${id}"] .red-ui-flow-node-button`).click();
  const msg = page.locator('.red-ui-debug-msg').filter({ hasText: expect }).first();
  await msg.waitFor({ state: 'visible', timeout: 20_000 });
  return msg.innerText();
}
