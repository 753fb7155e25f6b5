/**
 * The demo of `npm start` in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core, which downloads no browser of its own.
 *
 * Starts `node scripts/start.js` (simulator + Node-RED 4.1 + demo flow) on free ports in a
 * temporary user directory, then checks
 *   (a) the editor's palette: the Leapcraft category with every node type,
 *   (b) the dashboard: live data in the CO2, temperature and humidity charts (read from the
 *       charts themselves), the CO2 gauges, the alert list (newest first) and the topology table,
 *   (c) last: the account's "Test connection" button and the device picker of a devices node,
 *       both through the package's admin routes against the simulator.
 *
 * Screenshots go to $ARTIFACTS_DIR (or .artifacts/) on every run; with LEAPCRAFT_UPDATE_DOCS_IMAGES=1
 * docs/images/dashboard.png and docs/images/editor.png are refreshed from the same run (so a plain
 * test run leaves the work tree clean).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { isListening, startDemo, type RunningDemo } from './support/demo';

const ROOT = path.resolve(__dirname, '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { demoNodeId } = require('../scripts/start.js') as { demoNodeId: (id: string) => string };
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(ROOT, process.env.ARTIFACTS_DIR || '.artifacts');
const DOCS_IMAGES = path.join(ROOT, 'docs', 'images');
const UPDATE_DOCS_IMAGES = process.env.LEAPCRAFT_UPDATE_DOCS_IMAGES === '1';
function publish(name: string): void {
  if (UPDATE_DOCS_IMAGES) fs.copyFileSync(path.join(ARTIFACTS, name), path.join(DOCS_IMAGES, name));
}
const LEAPCRAFT_TYPES = ['leapcraft-devices', 'leapcraft-telemetry', 'leapcraft-topology', 'leapcraft-notifications', 'leapcraft-things'];
const VIEWPORT = { width: 1280, height: 800 };
/** Widget ids of examples/dashboard.json, as npm start deploys them (ids of its own: see demoNodeId). */
const WIDGET = {
  co2Chart: demoNodeId('c0a1e0d1f0000604'),
  temperatureChart: demoNodeId('c0a1e0d1f0000605'),
  humidityChart: demoNodeId('c0a1e0d1f0000606'),
  gauges: ['c0a1e0d1f0000608', 'c0a1e0d1f0000609', 'c0a1e0d1f000060a', 'c0a1e0d1f000060b'].map(demoNodeId),
  alertsTable: demoNodeId('c0a1e0d1f000060f'),
  topologyTable: demoNodeId('c0a1e0d1f0000613'),
};

interface SimDevice {
  name: string;
  physical_id: string;
}

interface ChartSeries {
  name: string;
  points: [number, number][];
}

/** Room order as the demo flow's gauge function sorts them. */
const byName = (a: string, b: string): number => a.localeCompare(b);

/** The simulator's own view of the estate, read through its API as any client would. */
async function simulatorDevices(demo: RunningDemo): Promise<SimDevice[]> {
  const tokenRes = await fetch(`${demo.simulatorUrl}/auth/client/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: `api_key=${encodeURIComponent(demo.apiKey)}`,
  });
  assert.equal(tokenRes.status, 200, 'token exchange with the simulator');
  const { token } = (await tokenRes.json()) as { token: string };
  const res = await fetch(`${demo.simulatorUrl}/devices?limit=-1`, { headers: { Authorization: `Bearer ${token}` } });
  assert.equal(res.status, 200, 'device list of the simulator');
  return (await res.json()) as SimDevice[];
}

/** A chart's series as the dashboard draws them: the ECharts options of the ui-chart component. */
async function chartSeries(page: Page, chartId: string): Promise<ChartSeries[] | null> {
  return page.evaluate((id) => {
    // Dashboard 2.0 registers its chart components in window.uiCharts when window.Cypress is
    // set (its own end-to-end hook; set by an init script below).
    const charts = (window as unknown as { uiCharts?: Record<string, { chart?: { getOption(): { series?: { name: string; data: unknown[] }[] } } }> }).uiCharts;
    const chart = charts?.[id]?.chart;
    if (!chart) return null;
    return (chart.getOption().series ?? []).map((s) => ({
      name: String(s.name),
      points: (s.data ?? []).filter((p): p is [number, number] => Array.isArray(p) && p.length >= 2).map((p) => [Number(p[0]), Number(p[1])] as [number, number]),
    }));
  }, chartId);
}

/** The visible rows of a ui-table, as cell texts (the "no data" row excluded). */
async function tableRows(page: Page, widgetId: string): Promise<string[][]> {
  return page.evaluate((id) => {
    const rows = Array.from(document.querySelectorAll(`#nrdb-ui-widget-${id} tbody tr`))
      .filter((tr) => !tr.classList.contains('v-data-table-rows-no-data') && !tr.classList.contains('v-data-table-rows-loading'));
    return rows.map((tr) => Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim()));
  }, widgetId);
}

async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>, describe?: () => Promise<string>): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${describe ? `: ${await describe()}` : ''}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('demo in a browser (npm start, Chromium via playwright-core)', function () {
  this.timeout(180_000);

  let demo: RunningDemo | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let editor: Page | undefined;
  let devices: SimDevice[] = [];

  before(async function () {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.mkdirSync(DOCS_IMAGES, { recursive: true });
    for (const f of fs.readdirSync(ARTIFACTS)) if (/^failed-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    demo = await startDemo();
    fs.writeFileSync(path.join(ARTIFACTS, 'demo-output.txt'), demo.output());
    devices = await simulatorDevices(demo);
    assert.ok(devices.length >= 4, 'the simulator has devices');
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US' });
  });

  afterEach(async function () {
    if (this.currentTest?.state !== 'failed' || !context) return;
    const name = (this.currentTest.title.match(/^\((\w)\)/)?.[1] ?? 'x');
    for (const [i, page] of context.pages().entries()) {
      await page.screenshot({ path: path.join(ARTIFACTS, `failed-${name}-${i}.png`), fullPage: true }).catch(() => undefined);
    }
  });

  after(async function () {
    this.timeout(60_000);
    try {
      await browser?.close();
    } finally {
      if (demo) {
        fs.writeFileSync(path.join(ARTIFACTS, 'node-red.log'), demo.nodeRedLog());
        await demo.stop();
        fs.writeFileSync(path.join(ARTIFACTS, 'demo-output.txt'), demo.output());
        // Everything npm start started is gone: nothing listens on its ports any more.
        assert.equal(await isListening(demo.port), false, 'Node-RED still listening after stop');
        assert.equal(await isListening(demo.simulatorPort), false, 'simulator still listening after stop');
      }
    }
  });

  it('(a) the editor palette shows the Leapcraft category with every node type', async function () {
    editor = await context!.newPage();
    await editor.goto(demo!.editorUrl);
    const category = editor.locator('#red-ui-palette-container-Leapcraft');
    await category.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal((await editor.locator('#red-ui-palette-header-Leapcraft').innerText()).trim(), 'Leapcraft');
    for (const type of LEAPCRAFT_TYPES) {
      assert.equal(await category.locator(`.red-ui-palette-node[data-palette-type="${type}"]`).count(), 1, `${type} in the Leapcraft category`);
    }
    // The config node is no palette entry, but the editor knows it.
    assert.equal(await editor.evaluate(() => !!(window as any).RED.nodes.getType('leapcraft-config')), true);

    // The demo flow is deployed: its first tab shows one of each Leapcraft node.
    const onTab = await editor.evaluate((types) => {
      const RED = (window as any).RED;
      const z = RED.workspaces.active();
      const counts: Record<string, number> = {};
      for (const t of types) counts[t] = RED.nodes.filterNodes({ z, type: t }).length;
      return { tab: RED.nodes.workspace(z)?.label as string, counts };
    }, LEAPCRAFT_TYPES);
    assert.equal(onTab.tab, 'Leapcraft nodes');
    for (const type of LEAPCRAFT_TYPES) assert.ok(onTab.counts[type] >= 1, `a ${type} node on the tab`);

    // The flow runs: the "all devices" inject (its button in the workspace) brings the
    // simulator's device list to the debug sidebar.
    await editor.locator('[id="demo-inject-devices"] .red-ui-flow-node-button').click();
    await editor.evaluate(() => (window as any).RED.sidebar.show('debug'));
    const debugMsg = editor.locator('.red-ui-debug-msg', { hasText: 'devices' }).first();
    await debugMsg.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await debugMsg.innerText(), new RegExp(`array\\[${devices.length}\\]`), 'the device list in the debug sidebar');
    // Node statuses from the running flow (polls answered), and the inject's notification gone,
    // make the picture; not checks.
    await waitUntil('node statuses', 10_000, async () =>
      (await editor!.locator('.red-ui-flow-node-status-label').allTextContents()).some((s) => /\d\d:\d\d/.test(s)))
      .catch(() => undefined);
    await waitUntil('notifications to close', 10_000, async () => (await editor!.locator('.red-ui-notification').count()) === 0)
      .catch(() => undefined);
    await editor.screenshot({ path: path.join(ARTIFACTS, 'editor.png') });
    publish('editor.png');
  });

  it('(b) the dashboard shows live charts, CO2 gauges, the latest alerts and the topology', async function () {
    const page = await context!.newPage();
    await page.addInitScript(() => {
      (window as unknown as { Cypress?: unknown }).Cypress ??= {};
    });
    const started = Date.now();
    await page.goto(demo!.dashboardUrl);
    await page.waitForURL(/\/dashboard\/climate/, { timeout: 30_000 });
    const rooms = devices.map((d) => d.name).sort(byName);

    // CO2 chart: a series per room, each with at least two readings (the 10 s polling is live).
    // x is the reading's time (msg.timestamp, epoch ms), y the ppm.
    const roomsWith = async (id: string, points: number) => {
      const series = await chartSeries(page, id);
      if (!series) return null;
      return rooms.every((r) => series.some((s) => s.name === r && s.points.length >= points)) ? series : null;
    };
    const co2 = await waitUntil('two CO2 readings of every room in the chart', 60_000, () => roomsWith(WIDGET.co2Chart, 2),
      async () => JSON.stringify((await chartSeries(page, WIDGET.co2Chart))?.map((s) => [s.name, s.points.length])));
    const now = Date.now();
    for (const s of co2) {
      for (const [x, y] of s.points) {
        assert.ok(x > now - 2 * 3600_000 && x < now + 60_000, `${s.name}: x ${x} is the reading's epoch ms`);
        assert.ok(y >= 300 && y <= 5000, `${s.name}: ${y} ppm`);
      }
    }
    const dataSeenAfterReadyMs = Date.now() - demo!.readyAt;
    const dataAfterPageLoadMs = Date.now() - started;

    for (const [id, lo, hi] of [[WIDGET.temperatureChart, -10, 50], [WIDGET.humidityChart, 0, 100]] as const) {
      const series = (await chartSeries(page, id)) ?? [];
      assert.deepEqual(series.filter((s) => s.points.length > 0).map((s) => s.name).sort(byName), rooms, `${id}: a series per room`);
      for (const s of series) for (const [, y] of s.points) assert.ok(y >= lo && y <= hi, `${id} ${s.name}: ${y}`);
    }

    // Gauges: the CO2 of the first four rooms in alphabetical order, labelled with the room.
    for (const [i, room] of rooms.slice(0, 4).entries()) {
      const gauge = page.locator(`#nrdb-ui-widget-${WIDGET.gauges[i]}`);
      const text = await waitUntil(`gauge ${i + 1} (${room})`, 20_000, async () => {
        const t = await gauge.innerText().catch(() => '');
        return t.includes(room) && /\b\d{3,4}\b[\s\S]*ppm/.test(t) ? t : null;
      }, () => gauge.innerText().catch(() => '(none)'));
      const value = Number(text.split('\n').map((l) => l.trim()).filter((l) => /^\d{3,4}$/.test(l) && l !== '400' && l !== '1600')[0]);
      assert.ok(value >= 300 && value <= 5000, `gauge ${room}: ${text}`);
    }

    // Alerts: the simulator's backlog (30) arrives at the first check; the list keeps the 20
    // newest, newest first; the table shows 8 a page.
    const alerts = await waitUntil('alert rows', 30_000, async () => {
      const rows = await tableRows(page, WIDGET.alertsTable);
      return rows.length > 0 ? rows : null;
    });
    assert.equal(alerts.length, 8, 'a full first page of alerts');
    const times = alerts.map((r) => r[0]);
    for (const t of times) assert.match(t, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/);
    assert.deepEqual([...times].sort().reverse(), times, 'newest first');
    for (const r of alerts) assert.ok(r[2].length > 0, `alert message: ${r.join(' | ')}`);
    const footer = await page.locator(`#nrdb-ui-widget-${WIDGET.alertsTable} .v-data-table-footer__info`).innerText();
    assert.match(footer, /of 20\b/, 'the last 20 alerts');

    // Topology: one row per sensor, with its gateway, every simulator device once.
    const topology = await waitUntil('topology rows', 30_000, async () => {
      const rows = await tableRows(page, WIDGET.topologyTable);
      return rows.length >= devices.length ? rows : null;
    });
    assert.deepEqual(topology.map((r) => r[1]).sort(byName), rooms);
    for (const r of topology) {
      assert.ok(r[0].length > 0, 'gateway');
      assert.match(r[2], /^(airbird|ambinode)$/);
      assert.match(r[3], /^-\d+$/, 'RSSI');
    }

    // A third reading of every room makes a better picture (not a check), then the pictures.
    await waitUntil('three readings of every room', 20_000, () => roomsWith(WIDGET.humidityChart, 3)).catch(() => undefined);
    await page.waitForTimeout(1000);
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard.png'), fullPage: true });
    publish('dashboard.png');
    fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), `${JSON.stringify({
      npmStartReadyMs: demo!.startupMs,
      chartDataCheckedAfterReadyMs: dataSeenAfterReadyMs,
      chartDataAfterPageLoadMs: dataAfterPageLoadMs,
    }, null, 2)}\n`);
  });

  it('(c) the account dialog tests the connection and the device picker lists the simulator devices', async function () {
    // These editor features live in the package's editor files: check they are there first,
    // so a missing feature fails here with a clear message rather than as a timeout.
    const configHtml = fs.readFileSync(path.join(ROOT, 'nodes', 'leapcraft-config.html'), 'utf8');
    const devicesHtml = fs.readFileSync(path.join(ROOT, 'nodes', 'leapcraft-devices.html'), 'utf8');
    assert.match(configHtml, /id="leapcraft-config-test"/, 'the Test connection button in nodes/leapcraft-config.html');
    assert.match(configHtml, /id="leapcraft-config-test-result"/, 'its result element');
    assert.match(devicesHtml, /devicePicker\(/, 'the device picker in nodes/leapcraft-devices.html');
    assert.ok(fs.existsSync(path.join(ROOT, 'resources', 'leapcraft-editor.js')), 'resources/leapcraft-editor.js');

    const page = editor ?? (await context!.newPage());
    if (!editor) {
      await page.goto(demo!.editorUrl);
      await page.locator('#red-ui-palette-container-Leapcraft').waitFor({ state: 'visible', timeout: 30_000 });
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.workspaces.show('demo-tab-nodes');
      RED.menu.setSelected('menu-item-sidebar', false); // room for the edit tray
    });

    // As a user does it: double-click the devices node, then the pencil beside its account.
    await page.locator('[id="demo-devices"] .red-ui-flow-node').dblclick();
    const physicalId = page.locator('#node-input-physicalId');
    await physicalId.waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('#node-input-btn-account-edit').click();
    const testButton = page.locator('#leapcraft-config-test');
    await testButton.waitFor({ state: 'visible', timeout: 15_000 });
    // The key field holds the stored key's placeholder: the runtime uses the deployed key.
    assert.equal(await page.locator('#node-config-input-baseUrl').inputValue(), demo!.simulatorUrl);
    await testButton.click();
    const result = page.locator('#leapcraft-config-test-result');
    await waitUntil('the Test connection result', 20_000, async () => /Connected/.test(await result.innerText()),
      () => result.innerText());
    assert.equal((await result.innerText()).trim(), `Connected: ${devices.length} devices`);
    assert.equal(await result.locator('.fa-check').count(), 1, 'shown as a success');
    await page.mouse.move(600, 700); // no tooltip in the picture
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-test-connection.png') });
    await page.locator('#node-config-dialog-cancel').click();

    // Back in the devices dialog: typing part of a room name suggests the simulator's device.
    await physicalId.waitFor({ state: 'visible', timeout: 15_000 });
    const device = [...devices].sort((a, b) => byName(a.name, b.name)).find((d) => d.name.length >= 5)!;
    await physicalId.click();
    await physicalId.pressSequentially(device.name.slice(0, 5), { delay: 50 });
    const menu = page.locator('ul.ui-autocomplete:visible');
    const suggestion = menu.locator('li', { hasText: device.physical_id });
    await suggestion.first().waitFor({ state: 'visible', timeout: 20_000 });
    const labels = (await menu.locator('li').allInnerTexts()).map((t) => t.trim());
    assert.ok(labels.some((l) => l.includes(device.name) && l.includes(device.physical_id)), `suggestions: ${labels.join(' / ')}`);
    const needle = device.name.slice(0, 5).toLowerCase();
    for (const l of labels) assert.ok(l.toLowerCase().includes(needle), `only matching devices: ${l}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-device-picker.png') });
    await suggestion.first().click();
    assert.equal(await physicalId.inputValue(), device.physical_id, 'picking fills in the physical id');
    await page.locator('#node-dialog-cancel').click();
  });
});
