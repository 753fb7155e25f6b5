/**
 * The history output's settings in the real editor (Node-RED 4.1 in Debian's Chromium via
 * playwright-core): the rows show for *for a database* only, Emit and only-changed hide (they do
 * not apply), the tags are checkboxes with the device's id always one, and what the dialog
 * saves is what the runtime reads.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { LeapcraftSimulator } from '../../simulator';
import { historySettingsOf } from '../../nodes/telemetry/history';
import { RealNodeRed } from '../support/real-nodered';

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

describe('the history output in the editor (Chromium)', function () {
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
      { id: 'tab', type: 'tab', label: 'history' },
      { id: 'acct', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, budget: '', redisUrl: '', credentials: { apiKey: sim.apiKey } },
      {
        id: 'tel', type: 'leapcraft-telemetry', z: 'tab', x: 150, y: 100, account: 'acct', devices: '', telemetryType: 'latest', resolution: 'daily',
        from: '-7d', to: 'now', interval: 0, output: 'device', emit: 'interval', replicas: 'every', changesOnly: false, cadence: true, blockOverrides: false,
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

  it('shows the history rows for "for a database" only, and saves the tags and days the runtime reads', async () => {
    const page = await browser!.newPage({ viewport: { width: 1440, height: 900 }, locale: 'en-US' });
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    await page.goto(red.url);
    await page.locator('#red-ui-palette-container-Leapcraft').waitFor({ state: 'visible', timeout: 30_000 });
    await page.waitForFunction(() => !!(window as any).RED.nodes.node('tel'), undefined, { timeout: 30_000 }); // eslint-disable-line @typescript-eslint/no-explicit-any
    await page.evaluate(() => (window as any).RED.editor.edit((window as any).RED.nodes.node('tel'))); // eslint-disable-line @typescript-eslint/no-explicit-any
    const output = page.locator('#node-input-output');
    await output.waitFor({ state: 'visible', timeout: 15_000 });
    const historyRows = page.locator('.leapcraft-telemetry-history:visible');
    assert.equal(await historyRows.count(), 0, 'no history rows for one message per device');

    // Polling, for the other outputs: Emit shows. For a database it hides, the history rows show.
    await page.locator('#node-input-interval').fill('60');
    await page.locator('#node-input-interval').dispatchEvent('change');
    assert.equal(await page.locator('#node-input-emit').isVisible(), true);
    await output.selectOption('history');
    assert.ok(await historyRows.count() >= 5);
    assert.equal(await page.locator('#node-input-emit').isVisible(), false, 'Emit does not apply');
    assert.equal(await page.locator('#node-input-changesOnly').isVisible(), false, 'only-changed does not apply');

    const device = page.locator('#leapcraft-telemetry-tag-device');
    assert.equal(await device.isChecked(), true);
    assert.equal(await device.isDisabled(), true, 'the device id is always a tag');
    await page.locator('#leapcraft-telemetry-tag-gateway').uncheck();
    await page.locator('#node-input-backfillDays').fill('7');
    await page.locator('#node-dialog-ok').click();
    await page.waitForFunction(() => !document.querySelector('#dialog-form'), undefined, { timeout: 15_000 });
    const saved = await page.evaluate(() => {
      const n = (window as any).RED.nodes.node('tel'); // eslint-disable-line @typescript-eslint/no-explicit-any
      return { output: n.output, historyTags: n.historyTags, backfillDays: n.backfillDays, valid: n.valid, interval: n.interval };
    });
    assert.deepEqual(saved, { output: 'history', historyTags: 'device,name,model', backfillDays: '7', valid: true, interval: '60' });
    const read = historySettingsOf(saved)!;
    assert.deepEqual([read.tags, read.backfillDays], [['device', 'name', 'model'], 7]);
    assert.deepEqual(errors, [], 'no script error in the editor');
  });
});
