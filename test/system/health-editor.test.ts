/**
 * The device-health output in the real editor (Node-RED 4.1 in Debian's Chromium via
 * playwright-core): its rows show only with the box ticked (and for polled latest readings), the
 * node gets a second port when it is ticked and loses it when it is not, a bad value is marked,
 * and what the dialog saves is what the runtime reads; deployed, the node has two outputs.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { LeapcraftSimulator } from '../../simulator';
import { healthSettingsOf } from '../../nodes/telemetry/health';
import { RealNodeRed } from '../support/real-nodered';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
/* eslint-disable @typescript-eslint/no-explicit-any */

describe('the device-health output in the editor (Chromium)', function () {
  this.timeout(120_000);
  let sim: LeapcraftSimulator;
  let red: RealNodeRed;
  let browser: Browser | undefined;
  before(async () => {
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    sim = new LeapcraftSimulator({ deviceCount: 2 });
    await sim.start();
    red = new RealNodeRed({ settingsSource: 'editorTheme: { tours: false }, telemetry: { enabled: false, updateNotification: false },' });
    await red.start();
    await red.deploy([
      { id: 'tab', type: 'tab', label: 'health' },
      { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, budget: '', redisUrl: '', credentials: { apiKey: sim.apiKey } },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 150, y: 100, account: 'acct', devices: '', telemetryType: 'latest', resolution: 'daily',
        from: '-7d', to: 'now', interval: 60, output: 'device', emit: 'interval', replicas: 'every', changesOnly: false, cadence: true, blockOverrides: false,
        historyTags: 'device,name,model,gateway', measurement: 'leapcraft', dailyMeasurement: 'leapcraft_daily', backfillDays: 0, store: '', wires: [[]],
      },
    ]);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  });
  after(async () => {
    await browser?.close();
    await red?.dispose();
    await sim?.stop();
  });

  async function edit(page: Page): Promise<void> {
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('tel')));
    await page.locator('#node-input-health').waitFor({ state: 'visible', timeout: 15_000 });
  }
  async function ok(page: Page): Promise<void> {
    await page.locator('#node-dialog-ok').click();
    await page.waitForFunction(() => !document.querySelector('#dialog-form'), undefined, { timeout: 15_000 });
  }
  const saved = (page: Page) => page.evaluate(() => {
    const n = (window as any).RED.nodes.node('tel');
    (window as any).RED.view.redraw(true);
    return { health: n.health, silentPeriods: n.silentPeriods, batteryLow: n.batteryLow, outputs: n.outputs, valid: n.valid };
  });
  /** The output ports the canvas draws on the node. */
  const ports = (page: Page) => page.locator('[id="tel"] .red-ui-flow-port-output').count();

  it('a second port with the box ticked, none without; the rows and the values the runtime reads', async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(red.url);
    await page.locator('#red-ui-palette-container-Leapcraft').waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForFunction(() => !!(window as any).RED.nodes.node('tel'), undefined, { timeout: 30_000 });
    await edit(page);
    const rows = page.locator('.leapcraft-telemetry-health:visible');
    assert.equal(await rows.count(), 0, 'no health rows while the box is not ticked');
    await page.locator('#node-input-health').check();
    assert.equal(await rows.count(), 3, 'silent after, battery low, the tip');
    // Averages: no health output to set.
    await page.locator('#node-input-telemetryType').selectOption('averages');
    assert.equal(await rows.count(), 0);
    await page.locator('#node-input-telemetryType').selectOption('latest');
    await page.locator('#node-input-silentPeriods').fill('1');
    await page.locator('#node-input-silentPeriods').dispatchEvent('change');
    assert.equal(await page.locator('#node-input-silentPeriods.input-error').count(), 1, 'below the range is marked');
    await page.locator('#node-input-silentPeriods').fill('4');
    await page.locator('#node-input-silentPeriods').dispatchEvent('change');
    await page.locator('#node-input-batteryLow').fill('15');
    await ok(page);
    const ticked = await saved(page);
    assert.deepEqual(ticked, { health: true, silentPeriods: '4', batteryLow: '15', outputs: 2, valid: true });
    await page.waitForFunction(() => document.querySelectorAll('[id="tel"] .red-ui-flow-port-output').length === 2, undefined, { timeout: 5000 });
    assert.deepEqual(healthSettingsOf(ticked), { silentPeriods: 4, batteryLow: 15 });

    // Deployed: the runtime's node has two outputs.
    await page.locator('#red-ui-header-button-deploy').click();
    await page.waitForFunction(() => !(window as any).RED.nodes.dirty(), undefined, { timeout: 15_000 });
    const flows = await (await fetch(`${red.url}/flows`)).json() as Array<Record<string, unknown>>;
    const tel = flows.find((n) => n.id === 'tel')!;
    assert.equal(tel.outputs, 2);
    assert.equal((tel.wires as unknown[]).length, 2);

    await edit(page);
    await page.locator('#node-input-health').uncheck();
    await ok(page);
    const off = await saved(page);
    assert.deepEqual([off.health, off.outputs], [false, 1]);
    await page.waitForFunction(() => document.querySelectorAll('[id="tel"] .red-ui-flow-port-output').length === 1, undefined, { timeout: 5000 });
    assert.equal(await ports(page), 1);
    assert.equal(healthSettingsOf(off), undefined);
    assert.deepEqual(errors, [], 'no script error in the editor');
  });
});
