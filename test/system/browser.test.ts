/**
 * The demo of `npm start` in a real browser: Debian's Chromium (/usr/bin/chromium, installed by
 * .ci/run) driven by playwright-core, which downloads no browser of its own.
 *
 * Starts `node scripts/start.js` (simulator + Node-RED 4.1 + demo flow) on free ports in a
 * temporary user directory, opens the dashboard at once (the first seconds after a start are
 * what a newcomer sees first), then checks
 *   (a) the editor: the Leapcraft category with every node type, the demo flow running, and on
 *       both demo tabs every Leapcraft node showing a status that no other node covers,
 *   (b) the dashboard: live data in the CO2, temperature and humidity charts (read from the
 *       charts themselves), every room with a colour of its own that colour-blind eyes can tell
 *       apart too, the same on every chart and in the key above it (every name whole), fixed axes
 *       with round ticks and headroom; CO2 gauges bound to their room from the first frame and never
 *       showing a number below their minimum (no reading yet: no number); the alert list (newest
 *       first) and the topology table,
 *   (c) at 360, 768, 1024 and 1440 px: the gauges' scale labels clear of their value and unit, no
 *       empty columns beside the groups, the keys whole, no error in the browser console,
 *   (d) a co2_high alert raised from the simulator's readings on the dashboard within 2 minutes,
 *   (e) the editor's dialogs: a new node takes the only account, the account dialog (its base URL
 *       from the environment, Test connection, a result cleared by the other button), the device
 *       and gateway pickers, and in English and German: labels on one line, at most one line of
 *       tip per field, nothing cut off, one list of context stores, help that fits the sidebar,
 *   (f) the README's first flow word for word: Import → Examples → list-devices into the running
 *       demo (it keeps the one account), Deploy, the device list in the debug sidebar, and an
 *       error naming its device in full,
 *   (g) a second example imported the other way (View nodes..., Import selected) works without
 *       editing, every example imports beside the demo with the account its only shared node,
 *       and one account is left,
 *   (h) a device picker on an account of 10,000 sensors (timed),
 *   (i) last: a tab of the user's own (with a subflow and a config node with credentials)
 *       survives `npm start` twice.
 *
 * Screenshots go to $ARTIFACTS_DIR (or .artifacts/) on every run; with LEAPCRAFT_UPDATE_DOCS_IMAGES=1
 * docs/images/dashboard.png and docs/images/editor.png are refreshed from the same run (so a plain
 * test run leaves the work tree clean).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

import { LeapcraftSimulator } from '../../simulator';
import { gaugeGeometry, groupRows, overlaps, roomKey, yAxis } from '../support/dashboard';
import { isListening, startDemo, type RunningDemo } from '../support/demo';
import { ACCOUNT_ID, accounts, deploy, importExample, injectAndRead } from '../support/editor';
import { deployPickerAccount, timePicker } from '../support/picker';
import { waitFor } from '../support/wait';

const ROOT = path.resolve(__dirname, '..', '..');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { demoNodeId, demoFlow } = require('../../scripts/start.js') as {
  demoNodeId: (id: string) => string;
  demoFlow: (o: { apiKey?: string }) => Array<{ id: string }>;
};
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const ARTIFACTS = path.resolve(ROOT, process.env.ARTIFACTS_DIR || '.artifacts');
const DOCS_IMAGES = path.join(ROOT, 'docs', 'images');
const EXAMPLES_DIR = path.join(ROOT, 'examples');
const UPDATE_DOCS_IMAGES = process.env.LEAPCRAFT_UPDATE_DOCS_IMAGES === '1';
function publish(name: string): void {
  if (UPDATE_DOCS_IMAGES) fs.copyFileSync(path.join(ARTIFACTS, name), path.join(DOCS_IMAGES, name));
}
const LEAPCRAFT_TYPES = ['leapcraft-devices', 'leapcraft-telemetry', 'leapcraft-topology', 'leapcraft-notifications', 'leapcraft-things'];
/** The dialogs and help this check holds to one-line labels and a fitting sidebar (the Home Assistant node's help is being reworked). */
const DIALOG_TYPES = ['leapcraft-config', ...LEAPCRAFT_TYPES, 'leapcraft-air-quality'];
/** The dialogs held to one-line labels: those above and the Home Assistant node's. */
const LABEL_TYPES = [...DIALOG_TYPES, 'leapcraft-homeassistant'];
const DEMO_TABS = ['demo-tab-nodes', 'demo-tab-dashboard'];
const VIEWPORT = { width: 1280, height: 800 };
/** Widget ids of examples/dashboard.json, as npm start deploys them (ids of its own: see demoNodeId). */
const WIDGET = {
  co2Chart: demoNodeId('c0a1e0d1f0000604'),
  temperatureChart: demoNodeId('c0a1e0d1f0000605'),
  humidityChart: demoNodeId('c0a1e0d1f0000606'),
  gauges: ['c0a1e0d1f0000608', 'c0a1e0d1f0000609', 'c0a1e0d1f000060a', 'c0a1e0d1f000060b'].map(demoNodeId),
  alertsTable: demoNodeId('c0a1e0d1f000060f'),
  topologyTable: demoNodeId('c0a1e0d1f0000613'),
  /** The room key above each chart, in the order of the charts above. */
  keys: ['c0a1e0d1f0000630', 'c0a1e0d1f0000631', 'c0a1e0d1f0000632'].map(demoNodeId),
};
/** The gauges' scale (examples/dashboard.json). */
const GAUGE_MIN = 400;
/** The widths a newcomer's devices have: a phone, a tablet upright, a small laptop, a desktop. */
const WIDTHS = [360, 768, 1024, 1440];
/** The charts' fixed y axes (examples/dashboard.json), in the order of WIDGET's charts. */
const AXES = [[400, 1600], [16, 28], [20, 70]];

interface SimDevice {
  name: string;
  physical_id: string;
  topology_id: string;
}

interface ChartSeries {
  name: string;
  color: string;
  points: [number, number][];
}

interface ChartInfo {
  series: ChartSeries[];
}

interface GaugeSample {
  at: number;
  gauges: Array<{ label: string; valueShown: boolean; value: string } | null>;
}

/** Room order as the demo flow's gauge function sorts them. */
const byName = (a: string, b: string): number => a.localeCompare(b);

/** The simulator's own view of the estate, read through its API as any client would. */
/**
 * Opens the editor and waits until it shows the Leapcraft palette and has imported the deployed
 * flows: the palette appears before the flows are read, and a look (or a deploy) in between sees
 * an editor with no tabs at all.
 */
async function openEditor(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await page.locator('#red-ui-palette-container-Leapcraft').waitFor({ state: 'visible', timeout: 30_000 });
  // The editor sets the flows' revision and imports them in one task: a revision seen means imported.
  await page.waitForFunction(() => !!(window as any).RED.nodes.version(), undefined, { timeout: 30_000 });
}

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

/**
 * A chart as the dashboard draws it: the ECharts options and layout of the ui-chart component,
 * each series with the colour it is drawn in.
 */
async function chartInfo(page: Page, chartId: string): Promise<ChartInfo | null> {
  return page.evaluate((id) => {
    // Dashboard 2.0 registers its chart components in window.uiCharts when window.Cypress is
    // set (its own end-to-end hook; set by an init script below).
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const chart = (window as any).uiCharts?.[id]?.chart;
    if (!chart) return null;
    const option = chart.getOption();
    return {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      series: (option.series ?? []).map((s: any, i: number) => ({
        name: String(s.name),
        color: String(chart.getVisual({ seriesIndex: i }, 'color')).toUpperCase(),
        points: (s.data ?? []).filter((p: unknown) => Array.isArray(p) && p.length >= 2).map((p: unknown[]) => [Number(p[0]), Number(p[1])]),
      })),
    };
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

/** What `probe` finds once it finds something (looking every 250 ms: each look asks the page). */
async function waitUntil<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>, describe?: () => Promise<string>): Promise<T> {
  let value: T | undefined | null | false;
  try {
    await waitFor(async () => Boolean(value = await probe()), timeoutMs, what, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message} (${timeoutMs / 1000} s)${describe ? `: ${await describe()}` : ''}`);
  }
  return value as T;
}

// ---- colours: can every viewer tell the series apart? -------------------------------------------

type Rgb = [number, number, number];
const hexRgb = (hex: string): Rgb => {
  const m = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex.trim());
  assert.ok(m, `not a #rrggbb colour: ${hex}`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
};
const toLinear = (c: number): number => (c / 255 <= 0.04045 ? c / 255 / 12.92 : ((c / 255 + 0.055) / 1.055) ** 2.4);
const toSrgb = (c: number): number => 255 * (Math.min(1, Math.max(0, c)) <= 0.0031308 ? 12.92 * Math.max(0, c) : 1.055 * Math.min(1, c) ** (1 / 2.4) - 0.055);
/** Colour-vision deficiency at full severity (Machado, Oliveira and Fernandes 2009), applied in linear RGB. */
const CVD: Record<string, number[][]> = {
  normal: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  deuteranopia: [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.01182, 0.04294, 0.968881]],
  protanopia: [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
};
function seenAs(rgb: Rgb, vision: string): Rgb {
  const lin = rgb.map(toLinear);
  return CVD[vision].map((row) => toSrgb(row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2])) as Rgb;
}
function lab(rgb: Rgb): [number, number, number] {
  const [r, g, b] = rgb.map(toLinear);
  const xyz = [(0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047, 0.2126729 * r + 0.7151522 * g + 0.072175 * b, (0.0193339 * r + 0.119192 * g + 0.9503041 * b) / 1.08883];
  const f = xyz.map((v) => (v > 216 / 24389 ? Math.cbrt(v) : (24389 / 27 * v + 16) / 116));
  return [116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])];
}
/** CIEDE2000 colour difference: about 1 is just noticeable; distinct lines want 10 or so. */
function deltaE2000([L1, a1, b1]: number[], [L2, a2, b2]: number[]): number {
  const rad = Math.PI / 180;
  const C1 = Math.hypot(a1, b1);
  const C2 = Math.hypot(a2, b2);
  const Cm = (C1 + C2) / 2;
  const G = 0.5 * (1 - Math.sqrt(Cm ** 7 / (Cm ** 7 + 25 ** 7)));
  const [ap1, ap2] = [(1 + G) * a1, (1 + G) * a2];
  const [Cp1, Cp2] = [Math.hypot(ap1, b1), Math.hypot(ap2, b2)];
  const hue = (b: number, a: number) => ((Math.atan2(b, a) / rad) + 360) % 360;
  const [hp1, hp2] = [hue(b1, ap1), hue(b2, ap2)];
  let dhp = Cp1 * Cp2 === 0 ? 0 : hp2 - hp1;
  if (dhp > 180) dhp -= 360;
  else if (dhp < -180) dhp += 360;
  const dL = L2 - L1;
  const dC = Cp2 - Cp1;
  const dH = 2 * Math.sqrt(Cp1 * Cp2) * Math.sin((dhp / 2) * rad);
  const Lm = (L1 + L2) / 2;
  const Cpm = (Cp1 + Cp2) / 2;
  const hm = Cp1 * Cp2 === 0 ? hp1 + hp2 : Math.abs(hp1 - hp2) <= 180 ? (hp1 + hp2) / 2 : (hp1 + hp2 + (hp1 + hp2 < 360 ? 360 : -360)) / 2;
  const T = 1 - 0.17 * Math.cos((hm - 30) * rad) + 0.24 * Math.cos(2 * hm * rad) + 0.32 * Math.cos((3 * hm + 6) * rad) - 0.2 * Math.cos((4 * hm - 63) * rad);
  const Rt = -2 * Math.sqrt(Cpm ** 7 / (Cpm ** 7 + 25 ** 7)) * Math.sin(60 * Math.exp(-(((hm - 275) / 25) ** 2)) * rad);
  const Sl = 1 + (0.015 * (Lm - 50) ** 2) / Math.sqrt(20 + (Lm - 50) ** 2);
  const Sc = 1 + 0.045 * Cpm;
  const Sh = 1 + 0.015 * Cpm * T;
  return Math.sqrt((dL / Sl) ** 2 + (dC / Sc) ** 2 + (dH / Sh) ** 2 + Rt * (dC / Sc) * (dH / Sh));
}
/** WCAG contrast ratio of a colour against white (the chart groups' background). */
function contrastOnWhite(rgb: Rgb): number {
  const [r, g, b] = rgb.map(toLinear);
  return 1.05 / (0.2126 * r + 0.7152 * g + 0.0722 * b + 0.05);
}
/** The closest two colours of a set as some viewer sees them (normal, deuteranopia, protanopia). */
function closestPair(colors: string[]): { vision: string; a: string; b: string; deltaE: number } {
  let worst = { vision: '', a: '', b: '', deltaE: Infinity };
  for (const vision of Object.keys(CVD)) {
    const labs = colors.map((c) => lab(seenAs(hexRgb(c), vision)));
    for (let i = 0; i < colors.length; i++) {
      for (let j = i + 1; j < colors.length; j++) {
        const deltaE = deltaE2000(labs[i], labs[j]);
        if (deltaE < worst.deltaE) worst = { vision, a: colors[i], b: colors[j], deltaE };
      }
    }
  }
  return worst;
}

// ---- the editor's canvas ----------------------------------------------------------------------

interface CanvasNode {
  id: string;
  type: string;
  /** The node's body and, for an inject, its button (screen pixels). */
  boxes: Array<{ left: number; top: number; right: number; bottom: number }>;
  status: { text: string; box: { left: number; top: number; right: number; bottom: number } } | null;
}

/** The nodes of the editor's active tab as drawn in its SVG, with their status where one shows. */
async function canvasNodes(page: Page): Promise<CanvasNode[]> {
  return page.evaluate(() => {
    // (No named functions in here: tsx would wrap them in a helper the page does not have.)
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const RED = (window as any).RED;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return RED.nodes.filterNodes({ z: RED.workspaces.active() }).map((n: any) => {
      const group = document.getElementById(n.id);
      const body = group?.querySelector(':scope > .red-ui-flow-node');
      const button = group?.querySelector(':scope > .red-ui-flow-node-button');
      const status = group?.querySelector(':scope > .red-ui-flow-node-status-group') as SVGGElement | null;
      const label = status?.querySelector('.red-ui-flow-node-status-label');
      const text = (label?.textContent ?? '').trim();
      const shown = !!status && getComputedStyle(status).display !== 'none' && text !== '';
      const [bodyBox, buttonBox, statusBox] = [body, button, shown ? status : null].map((el) => {
        if (!el) return null;
        const r = el.getBoundingClientRect();
        return { left: r.left, top: r.top, right: r.right, bottom: r.bottom };
      });
      return {
        id: n.id,
        type: n.type,
        boxes: [bodyBox, buttonBox].filter((b) => b !== null),
        status: statusBox ? { text, box: statusBox } : null,
      };
    });
  });
}

/** Which labels of an open dialog's rows take more than one line. */
async function wrappedLabels(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const form = document.querySelector('#node-config-dialog-edit-form') ?? document.querySelector('#dialog-form');
    return Array.from(form?.querySelectorAll('.form-row > label:first-child') ?? [])
      .filter((label) => (label as HTMLElement).offsetParent !== null && (label.textContent ?? '').trim() !== '')
      .filter((label) => {
        const height = label.getBoundingClientRect().height;
        const line = parseFloat(getComputedStyle(label).lineHeight) || 20;
        return height > line * 1.5;
      })
      .map((label) => (label.textContent ?? '').trim());
  });
}

/** The tips of an open dialog that take more than one line. */
async function longTips(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const form = document.querySelector('#node-config-dialog-edit-form') ?? document.querySelector('#dialog-form');
    return Array.from(form?.querySelectorAll('.form-tips') ?? [])
      .filter((tip) => (tip as HTMLElement).offsetParent !== null && (tip.textContent ?? '').trim() !== '')
      .filter((tip) => {
        // The text's own lines, not the box (which has padding).
        const range = document.createRange();
        range.selectNodeContents(tip);
        const lines = new Set(Array.from(range.getClientRects()).filter((r) => r.width > 0).map((r) => Math.round(r.top)));
        return lines.size > 1;
      })
      .map((tip) => (tip.textContent ?? '').trim().replace(/\s+/g, ' '));
  });
}

/** The fields of an open dialog whose text (value, placeholder or chosen option) does not fit them. */
async function cutFields(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const form = document.querySelector('#node-config-dialog-edit-form') ?? document.querySelector('#dialog-form');
    const ctx = document.createElement('canvas').getContext('2d')!;
    return Array.from(form?.querySelectorAll('input[type="text"], input:not([type]), input[type="password"], select') ?? [])
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .map((el) => {
        const style = getComputedStyle(el);
        ctx.font = style.font;
        const select = el.tagName === 'SELECT' ? (el as HTMLSelectElement) : null;
        const input = el as HTMLInputElement;
        const text = select ? (select.selectedOptions[0]?.text ?? '') : (input.type === 'password' ? '' : input.value || input.placeholder || '');
        // A select's arrow takes about 20 px of its box.
        const room = el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - (select ? 20 : 0);
        const need = ctx.measureText(text).width;
        return need > room + 1 ? `${el.id}: "${text}" needs ${Math.round(need)} px, has ${Math.round(room)}` : '';
      })
      .filter((problem) => problem !== '');
  });
}

/** Selects of an open dialog that list an entry twice (the context stores: the default one by its name too). */
async function repeatedOptions(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const form = document.querySelector('#node-config-dialog-edit-form') ?? document.querySelector('#dialog-form');
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const defaultStore = (window as any).RED.settings.context?.default;
    return Array.from(form?.querySelectorAll('select') ?? [])
      .filter((el) => (el as HTMLElement).offsetParent !== null)
      .flatMap((el) => {
        const options = Array.from((el as HTMLSelectElement).options);
        const texts = options.map((o) => o.text);
        const repeated = texts.filter((t, i) => texts.indexOf(t) !== i);
        const store = /store-select$/.test(el.id) && options.some((o) => o.value === '') && options.some((o) => o.value === defaultStore);
        return [...repeated.map((t) => `${el.id}: "${t}" twice`), ...(store ? [`${el.id}: the default store "${defaultStore}" twice`] : [])];
      });
  });
}

/** Opens the edit dialog of a new node of `type` on the active tab, as a drop from the palette does. */
async function editNewNode(page: Page, type: string): Promise<string> {
  return page.evaluate((t) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const RED = (window as any).RED;
    const def = RED.nodes.getType(t);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const node: any = { id: RED.nodes.id(), type: t, z: RED.workspaces.active(), x: 900, y: 700, _def: def, changed: true };
    for (const [key, spec] of Object.entries(def.defaults ?? {}) as Array<[string, { value: unknown }]>) node[key] = JSON.parse(JSON.stringify(spec.value ?? ''));
    RED.nodes.add(node);
    RED.editor.edit(node);
    return node.id as string;
  }, type);
}

/** Closes the open edit dialog (the node's, or the config node's on top of it) and waits until it is gone. */
async function closeDialog(page: Page, which: 'node' | 'config' = 'node'): Promise<void> {
  await page.locator(which === 'config' ? '#node-config-dialog-cancel' : '#node-dialog-cancel').click();
  const form = which === 'config' ? '#node-config-dialog-edit-form' : '#dialog-form';
  await page.waitForFunction((f) => !document.querySelector(f), form, { timeout: 15_000 });
}

/** The elements of the help sidebar that stick out to the right of it (with what they hold). */
async function helpOverflow(page: Page, type: string): Promise<string[]> {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  await page.evaluate((t) => (window as any).RED.sidebar.help.show(t), type);
  const body = page.locator('.red-ui-help').last();
  await body.waitFor({ state: 'visible', timeout: 10_000 });
  await page.waitForTimeout(300);
  // What sticks out of the sidebar, and what is cut inside its own box (nowrap text, a table too wide).
  return body.evaluate((help) => {
    const right = help.getBoundingClientRect().right;
    return Array.from(help.querySelectorAll('*'))
      .filter((el) => {
        const box = el.getBoundingClientRect();
        if (box.width === 0) return false;
        const scrolls = /auto|scroll/.test(getComputedStyle(el).overflowX);
        return box.right > right + 1 || (!scrolls && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0);
      })
      .map((el) => `<${el.tagName.toLowerCase()}> ${(el.textContent ?? '').trim().replace(/\s+/g, ' ').slice(0, 60)}`);
  });
}

// ---- the examples -------------------------------------------------------------------------------

interface Example {
  file: string;
  nodes: Array<{ id: string; type: string }>;
}
/** Every example of examples/. */
function examples(): Example[] {
  return fs.readdirSync(EXAMPLES_DIR).filter((f) => f.endsWith('.json')).sort()
    .map((file) => ({ file, nodes: JSON.parse(fs.readFileSync(path.join(EXAMPLES_DIR, file), 'utf8')) as Example['nodes'] }));
}

describe('demo in a browser (npm start, Chromium via playwright-core)', function () {
  this.timeout(180_000);

  let demo: RunningDemo | undefined;
  let demoDir: string | undefined;
  let browser: Browser | undefined;
  let context: BrowserContext | undefined;
  let editor: Page | undefined;
  /** The dashboard, opened as soon as the demo is up, recording its gauges from the first frame. */
  let dashboard: Page | undefined;
  let dashboardOpenedAfterReadyMs = 0;
  let devices: SimDevice[] = [];
  const timings: Record<string, number> = {};
  /** Errors in the browser console of every dashboard page (and uncaught page errors). */
  const consoleErrors: string[] = [];
  const watchConsole = (page: Page, what: string): void => {
    page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(`${what}: ${m.text()}`); });
    page.on('pageerror', (err) => consoleErrors.push(`${what}: ${err.message}`));
  };

  before(async function () {
    fs.mkdirSync(ARTIFACTS, { recursive: true });
    fs.mkdirSync(DOCS_IMAGES, { recursive: true });
    for (const f of fs.readdirSync(ARTIFACTS)) if (/^failed-.*\.png$/.test(f)) fs.rmSync(path.join(ARTIFACTS, f));
    assert.ok(fs.existsSync(CHROMIUM), `${CHROMIUM} is missing: apt-get install chromium (.ci/run does)`);
    // A user directory of the test's own: the last test starts npm start again on it.
    demoDir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-demo-'));
    demo = await startDemo({ demoDir });
    fs.writeFileSync(path.join(ARTIFACTS, 'demo-output.txt'), demo.output());
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    });
    context = await browser.newContext({ viewport: VIEWPORT, deviceScaleFactor: 1, locale: 'en-US' });

    // The dashboard right after the start, as a newcomer opens it: every 50 ms from the page's
    // first script on, what each CO2 gauge shows (its label, and its number when one shows), and
    // when each row of the alert list first showed.
    dashboard = await context.newPage();
    watchConsole(dashboard, 'dashboard');
    await dashboard.addInitScript(({ gaugeIds, alertsTable }: { gaugeIds: string[]; alertsTable: string }) => {
      const rowsSeen: Record<string, number> = {};
      (window as unknown as { alertRowsSeen: Record<string, number> }).alertRowsSeen = rowsSeen;
      setInterval(() => {
        for (const tr of Array.from(document.querySelectorAll(`#nrdb-ui-widget-${alertsTable} tbody tr`))) {
          const cells = Array.from(tr.querySelectorAll('td')).map((td) => (td.textContent ?? '').trim());
          if (cells.length >= 3) rowsSeen[cells.join(' | ')] ??= Date.now();
        }
      }, 250);
      (window as unknown as { Cypress?: unknown }).Cypress ??= {};
      const samples: GaugeSample[] = [];
      (window as unknown as { gaugeSamples: GaugeSample[] }).gaugeSamples = samples;
      setInterval(() => {
        const gauges = gaugeIds.map((id) => {
          const widget = document.getElementById(`nrdb-ui-widget-${id}`);
          if (!widget || !widget.querySelector('svg')) return null;
          const value = widget.querySelector('.nrdb-ui-gauge-value') as HTMLElement | null;
          return {
            label: (widget.querySelector('.nrdb-ui-gauge-title')?.textContent ?? '').trim(),
            valueShown: !!value && getComputedStyle(value).visibility !== 'hidden' && value.offsetParent !== null,
            value: (value?.querySelector('span')?.textContent ?? '').trim(),
          };
        });
        if (gauges.some((g) => g !== null)) samples.push({ at: Date.now(), gauges });
      }, 50);
    }, { gaugeIds: WIDGET.gauges, alertsTable: WIDGET.alertsTable });
    await dashboard.goto(demo.dashboardUrl);
    dashboardOpenedAfterReadyMs = Date.now() - demo.readyAt;
    devices = await simulatorDevices(demo);
    assert.ok(devices.length >= 4, 'the simulator has devices');
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
      fs.writeFileSync(path.join(ARTIFACTS, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
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
      if (demoDir) fs.rmSync(demoDir, { recursive: true, force: true });
    }
  });

  it('(a) the editor palette shows the Leapcraft category with every node type, and every demo node its status', async function () {
    editor = await context!.newPage();
    await openEditor(editor, demo!.editorUrl);
    const category = editor.locator('#red-ui-palette-container-Leapcraft');
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

    // Every node of the demo is valid as the editor sees it (no red triangle, no "not properly
    // configured" question at the first deploy).
    const invalid = await editor.evaluate(() => {
      const RED = (window as any).RED;
      const out: string[] = [];
      // (No named functions in here: tsx would wrap them in a helper the page does not have.)
      RED.nodes.eachNode((n: { valid?: boolean; type: string; id: string; name?: string }) => { if (n.valid === false) out.push(`${n.type} ${n.name || n.id}`); });
      RED.nodes.eachConfig((n: { valid?: boolean; type: string; id: string; name?: string }) => { if (n.valid === false) out.push(`${n.type} ${n.name || n.id}`); });
      return out;
    });
    assert.deepEqual(invalid, [], 'nodes of the demo the editor marks invalid');

    // The flow runs: the "all devices" inject (its button in the workspace) brings the
    // simulator's device list to the debug sidebar.
    await editor.locator('[id="demo-inject-devices"] .red-ui-flow-node-button').click();
    await editor.evaluate(() => (window as any).RED.sidebar.show('debug'));
    const debugMsg = editor.locator('.red-ui-debug-msg', { hasText: 'devices' }).first();
    await debugMsg.waitFor({ state: 'visible', timeout: 20_000 });
    assert.match(await debugMsg.innerText(), new RegExp(`array\\[${devices.length}\\]`), 'the device list in the debug sidebar');

    // On both demo tabs, every Leapcraft node shows a status after a while, and no status is
    // hidden under another node (positions from the editor's SVG). Every debug node is active:
    // each inject shows something in the sidebar.
    for (const tab of DEMO_TABS) {
      await editor.evaluate((z) => (window as any).RED.workspaces.show(z), tab);
      const nodes = await waitUntil(`a status on every Leapcraft node of ${tab}`, 30_000, async () => {
        const all = await canvasNodes(editor!);
        return all.filter((n) => n.type.startsWith('leapcraft-')).every((n) => n.status) ? all : null;
      }, async () => JSON.stringify((await canvasNodes(editor!)).filter((n) => n.type.startsWith('leapcraft-')).map((n) => [n.id, n.status?.text ?? null])));
      const overlaps = (a: CanvasNode['boxes'][number], b: CanvasNode['boxes'][number]) =>
        a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
      for (const n of nodes.filter((x) => x.status)) {
        for (const other of nodes.filter((x) => x.id !== n.id)) {
          for (const b of [...other.boxes, ...(other.status ? [other.status.box] : [])]) {
            assert.ok(!overlaps(n.status!.box, b), `${tab}: the status "${n.status!.text}" of ${n.id} is covered by ${other.id} (${other.type})`);
          }
        }
      }
      const debugNodes: Array<[string, boolean]> = await editor.evaluate((z) => (window as any).RED.nodes.filterNodes({ z, type: 'debug' }).map((n: any) => [n.id, n.active]), tab);
      for (const [id, active] of debugNodes) assert.equal(active, true, `${tab}: the debug node ${id} is active`);
    }
    await editor.evaluate(() => (window as any).RED.workspaces.show('demo-tab-nodes'));
    // The inject's notification gone makes the picture; not a check.
    await waitUntil('notifications to close', 10_000, async () => (await editor!.locator('.red-ui-notification').count()) === 0)
      .catch(() => undefined);
    await editor.screenshot({ path: path.join(ARTIFACTS, 'editor.png') });
    publish('editor.png');
    await editor.evaluate(() => (window as any).RED.workspaces.show('demo-tab-dashboard'));
    await editor.screenshot({ path: path.join(ARTIFACTS, 'editor-dashboard-tab.png') });
    await editor.evaluate(() => (window as any).RED.workspaces.show('demo-tab-nodes'));
  });

  it('(b) the dashboard shows live charts with a colour per room, CO2 gauges of fixed rooms, the latest alerts and the topology', async function () {
    const page = dashboard!;
    const started = Date.now();
    await page.waitForURL(/\/dashboard\/climate/, { timeout: 30_000 });
    const rooms = devices.map((d) => d.name).sort(byName);

    // CO2 chart: a series per room, each with at least two readings (the 10 s polling is live).
    // x is the reading's time (msg.timestamp, epoch ms), y the ppm.
    const roomsWith = async (id: string, points: number) => {
      const chart = await chartInfo(page, id);
      if (!chart) return null;
      return rooms.every((r) => chart.series.some((s) => s.name === r && s.points.length >= points)) ? chart : null;
    };
    const co2 = await waitUntil('two CO2 readings of every room in the chart', 60_000, () => roomsWith(WIDGET.co2Chart, 2),
      async () => JSON.stringify((await chartInfo(page, WIDGET.co2Chart))?.series.map((s) => [s.name, s.points.length])));
    const now = Date.now();
    for (const s of co2.series) {
      for (const [x, y] of s.points) {
        assert.ok(x > now - 2 * 3600_000 && x < now + 60_000, `${s.name}: x ${x} is the reading's epoch ms`);
        assert.ok(y >= 300 && y <= 5000, `${s.name}: ${y} ppm`);
      }
    }
    timings.chartDataCheckedAfterReadyMs = Date.now() - demo!.readyAt;
    timings.chartDataAfterPageLoadMs = Date.now() - started;

    const charts: Array<[string, ChartInfo]> = [[WIDGET.co2Chart, co2]];
    for (const [id, lo, hi] of [[WIDGET.temperatureChart, -10, 50], [WIDGET.humidityChart, 0, 100]] as const) {
      const chart = (await chartInfo(page, id))!;
      assert.deepEqual(chart.series.filter((s) => s.points.length > 0).map((s) => s.name).sort(byName), rooms, `${id}: a series per room`);
      for (const s of chart.series) for (const [, y] of s.points) assert.ok(y >= lo && y <= hi, `${id} ${s.name}: ${y}`);
      charts.push([id, chart]);
    }

    // Every room a colour of its own, told apart by normal and colour-blind eyes alike (CIEDE2000
    // of 9 or more between any two, as deuteranopes and protanopes see them too), each dark
    // enough to show as a line on white, and the same colour for a room on every chart. The key
    // above each chart names every room whole with that colour (the charts have no legend of their
    // own to crowd the plot); each y axis is fixed, with round ticks and the data clear of its ends.
    const colorOf = new Map<string, string>();
    for (const [i, [id, chart]] of charts.entries()) {
      const colors = chart.series.map((s) => s.color);
      assert.equal(new Set(colors).size, colors.length, `${id}: two series share a colour: ${JSON.stringify(chart.series.map((s) => [s.name, s.color]))}`);
      const worst = closestPair(colors);
      assert.ok(worst.deltaE >= 9, `${id}: ${worst.a} and ${worst.b} look alike (${worst.vision}: ΔE2000 ${worst.deltaE.toFixed(1)})`);
      for (const c of colors) assert.ok(contrastOnWhite(hexRgb(c)) >= 2, `${id}: ${c} is too pale for a line on white`);
      for (const s of chart.series) {
        if (!colorOf.has(s.name)) colorOf.set(s.name, s.color);
        assert.equal(s.color, colorOf.get(s.name), `${id}: ${s.name} has another colour than on the CO2 chart`);
      }
      const key = await waitUntil(`the key above ${id} with every room`, 20_000, async () => {
        const entries = await roomKey(page, WIDGET.keys[i]);
        return entries.length === rooms.length ? entries : null;
      }, async () => JSON.stringify(await roomKey(page, WIDGET.keys[i])));
      assert.deepEqual(key.map((e) => e.name).sort(byName), rooms, `${id}: the key names every room once`);
      for (const e of key) {
        assert.equal(e.color, colorOf.get(e.name), `${id}: the key's colour of ${e.name}`);
        assert.equal(e.cut, false, `${id}: the key cuts ${e.name}`);
      }
      const axis = (await yAxis(page, id))!;
      assert.deepEqual([axis.min, axis.max], AXES[i], `${id}: the fixed y axis`);
      const step = axis.ticks[1] - axis.ticks[0];
      assert.ok([1, 2, 5].some((m) => Number.isInteger(Math.log10(step / m)) && Math.abs(step / m - 10 ** Math.round(Math.log10(step / m))) < 1e-9),
        `${id}: a tick every ${step}`);
      for (const t of axis.ticks) assert.ok(Math.abs(t / step - Math.round(t / step)) < 1e-9, `${id}: tick ${t} is not a multiple of ${step} (${axis.ticks.join(', ')})`);
      assert.ok(axis.dataMin > axis.min && axis.dataMax < axis.max, `${id}: data ${axis.dataMin}..${axis.dataMax} touches the axis ${axis.min}..${axis.max}`);
    }
    timings.chartColorsClosestDeltaE2000 = Math.round(closestPair([...colorOf.values()]).deltaE * 10) / 10;

    // Gauges: the CO2 of the first four rooms in alphabetical order, each gauge its room from
    // the first frame on (the page was opened right after npm start was ready), showing a
    // number only once its room has a reading, and never one below the gauge's minimum (with
    // no reading, ui-gauge itself would show 0). Every gauge has its reading in the end.
    const latest = () => page.evaluate(() => (window as unknown as { gaugeSamples: GaugeSample[] }).gaugeSamples.at(-1) ?? null);
    await waitUntil('a CO2 reading on every gauge', 30_000, async () => {
      const last = await latest();
      return last && last.gauges.every((g) => g && g.valueShown && /^\d+$/.test(g.value));
    }, async () => JSON.stringify(await latest()));
    const recorded = await page.evaluate(() => (window as unknown as { gaugeSamples: GaugeSample[] }).gaugeSamples);
    assert.ok(recorded.length > 0, 'the gauges were recorded');
    // Dashboard 2.0 draws a gauge a moment before its last value (and, now and then, the
    // dashboard's style) arrives, and shows 0 meanwhile: a flash of at most FLASH_MS right after
    // the gauge first shows is Dashboard's own page load, anything later or longer is not.
    const FLASH_MS = 300;
    const drawnAt: number[] = [];
    let longestFlashMs = 0;
    for (const sample of recorded) {
      for (const [i, g] of sample.gauges.entries()) {
        if (!g) continue;
        drawnAt[i] ??= sample.at;
        const when = `${sample.at - demo!.readyAt} ms after npm start was ready`;
        assert.equal(g.label, rooms[i], `gauge ${i + 1} shows "${g.label}" ${when}, not its room ${rooms[i]}`);
        if (g.valueShown) {
          assert.match(g.value, /^\d+$/, `gauge ${i + 1} (${rooms[i]}) shows "${g.value}" ${when}`);
          if (Number(g.value) < GAUGE_MIN) {
            longestFlashMs = Math.max(longestFlashMs, sample.at - drawnAt[i]);
            assert.ok(sample.at - drawnAt[i] <= FLASH_MS,
              `gauge ${i + 1} (${rooms[i]}) shows ${g.value} ppm ${when}, below its minimum ${GAUGE_MIN}, ${sample.at - drawnAt[i]} ms after it was drawn`);
          }
        }
      }
    }
    timings.gaugeBelowMinimumAtPageLoadMs = longestFlashMs;
    const first = recorded.find((s) => s.gauges.every((g) => g));
    timings.dashboardOpenedAfterReadyMs = dashboardOpenedAfterReadyMs;
    timings.gaugesFirstDrawnAfterReadyMs = first ? first.at - demo!.readyAt : -1;
    timings.gaugeSamplesWithoutAReading = recorded.filter((s) => s.gauges.some((g) => g && !g.valueShown)).length;
    timings.gaugeSamples = recorded.length;
    for (const [i, room] of rooms.slice(0, 4).entries()) {
      const gauge = page.locator(`#nrdb-ui-widget-${WIDGET.gauges[i]}`);
      const text = await gauge.innerText();
      assert.ok(text.includes(room), `gauge ${i + 1}: ${text}`);
      assert.match(text, /\b\d{3,4}\b[\s\S]*ppm/, `gauge ${room}: ${text}`);
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
    timings.npmStartReadyMs = demo!.startupMs;
  });

  it('(b2) the dashboard shows each room\'s air-quality category in its colour and in words, with a key, and the report', async function () {
    const page = dashboard!;
    const strip = `#nrdb-ui-widget-${demoNodeId('c0a1e0d1f000061c')}`;
    const rooms = devices.map((d) => d.name).sort(byName);
    const rgb = (css: string): Rgb => (css.match(/\d+/g) ?? []).slice(0, 3).map(Number) as Rgb;
    const luminance = (c: Rgb) => { const [r, g, b] = c.map(toLinear); return 0.2126 * r + 0.7152 * g + 0.0722 * b; };
    const contrast = (a: Rgb, b: Rgb) => (Math.max(luminance(a), luminance(b)) + 0.05) / (Math.min(luminance(a), luminance(b)) + 0.05);
    const read = () => page.evaluate((sel) => ({
      tiles: Array.from(document.querySelectorAll(`${sel} .leapcraft-aq-room`)).map((el) => ({
        text: (el as HTMLElement).innerText.trim(), level: el.getAttribute('data-level'), bg: getComputedStyle(el).backgroundColor, fg: getComputedStyle(el).color,
      })),
      key: Array.from(document.querySelectorAll(`${sel} .leapcraft-aq-key > span`)).map((el) => ({
        label: (el as HTMLElement).innerText.trim(), color: getComputedStyle(el.firstElementChild as Element).backgroundColor,
      })),
    }), strip);
    // A tile per room, by name, once each room has a CO2 reading (the first poll).
    const shown = await waitUntil('a tile per room in the category strip', 60_000, async () => {
      const now = await read();
      return now.tiles.length === rooms.length && now.key.length === 4 ? now : null;
    }, async () => JSON.stringify(await read()));
    assert.deepEqual(shown.key.map((k) => k.label), ['Category I (high)', 'Category II (medium)', 'Category III (moderate)', 'Category IV (low)']);
    for (const [i, tile] of shown.tiles.entries()) {
      const [name, label, co2] = tile.text.split('\n').map((t) => t.trim());
      assert.equal(name, rooms[i], 'by room name');
      const key = shown.key[Number(tile.level) - 1];
      assert.equal(label, key.label, `${name}: its category in words`);
      assert.equal(tile.bg, key.color, `${name}: the colour of its category`);
      assert.match(co2, /^\d{3,4} ppm$/);
      assert.ok(contrast(rgb(tile.fg), rgb(tile.bg)) >= 4.5, `${name}: text on ${tile.bg} reads (contrast ${contrast(rgb(tile.fg), rgb(tile.bg)).toFixed(1)})`);
    }
    const hex = (c: Rgb) => `#${c.map((x) => x.toString(16).padStart(2, '0')).join('')}`;
    // The categories' colours told apart by normal and colour-blind eyes, as the charts' are.
    const closest = closestPair(shown.key.map((k) => hex(rgb(k.color))));
    assert.ok(closest.deltaE >= 9, `${closest.a} and ${closest.b} look alike (${closest.vision}: ΔE2000 ${closest.deltaE.toFixed(1)})`);
    timings.categoryColoursClosestDeltaE2000 = Math.round(closest.deltaE * 10) / 10;
    // The report: a row per room, yesterday's or (the demo started today) today's so far.
    const report = await waitUntil('a report row per room', 60_000, async () => {
      const rows = await tableRows(page, demoNodeId('c0a1e0d1f0000620'));
      return rows.length === rooms.length ? rows : null;
    });
    assert.deepEqual(report.map((r) => r[0]), rooms);
    for (const r of report) assert.match(r[1], /^(yesterday|today so far)$/);
    await page.locator(strip).screenshot({ path: path.join(ARTIFACTS, 'dashboard-air-quality.png') });
  });

  it('(c) the dashboard at 360, 768, 1024 and 1440 px: gauges readable, no empty columns, keys whole, no console error', async function () {
    this.timeout(240_000);
    const rooms = devices.map((d) => d.name).sort(byName);
    for (const width of WIDTHS) {
      // A device of that width opening the dashboard.
      const page = await context!.newPage();
      watchConsole(page, `dashboard at ${width} px`);
      await page.addInitScript(() => { (window as unknown as { Cypress?: unknown }).Cypress ??= {}; });
      await page.setViewportSize({ width, height: 900 });
      await page.goto(demo!.dashboardUrl);
      await page.waitForURL(/\/dashboard\/climate/, { timeout: 30_000 });
      const gauges = await waitUntil(`four gauges with a reading at ${width} px`, 30_000, async () => {
        const g = await gaugeGeometry(page, WIDGET.gauges);
        return g.every((x) => x.value && /^\d+$/.test(x.value.text) && x.unit) ? g : null;
      }, async () => JSON.stringify(await gaugeGeometry(page, WIDGET.gauges)));
      await waitUntil(`every key whole at ${width} px`, 30_000, async () => {
        const keys = await Promise.all(WIDGET.keys.map((k) => roomKey(page, k)));
        return keys.every((k) => k.length === rooms.length);
      });
      await page.screenshot({ path: path.join(ARTIFACTS, `dashboard-${width}.png`), fullPage: true });

      // Each gauge: its room, its value and unit, and the scale's ends (where drawn) apart.
      for (const [i, g] of gauges.entries()) {
        assert.equal(g.title?.text, rooms[i], `${width} px: gauge ${i + 1}'s room`);
        for (const limit of g.limits) {
          for (const [what, part] of [['value', g.value!], ['unit', g.unit!]] as const) {
            assert.ok(!overlaps(limit.box, part.box),
              `${width} px: gauge ${i + 1} draws its scale label ${limit.text} over its ${what} "${part.text}" (${JSON.stringify(limit.box)} / ${JSON.stringify(part.box)})`);
          }
        }
        assert.ok(!overlaps(g.value!.box, g.title!.box), `${width} px: gauge ${i + 1}'s value under its title`);
      }
      timings[`gaugeScaleLabelsShownAt${width}px`] = gauges.reduce((n, g) => n + g.limits.length, 0);

      // Every row of groups spans the page's width: no empty columns beside a group.
      const layout = await groupRows(page);
      for (const row of layout.rows) {
        const left = Math.min(...row.map((g) => g.left));
        const right = Math.max(...row.map((g) => g.right));
        assert.ok(left <= layout.left + 1 && right >= layout.right - 1,
          `${width} px: a row of groups (${row.map((g) => g.id).join(', ')}) spans ${Math.round(left)}..${Math.round(right)} of ${Math.round(layout.left)}..${Math.round(layout.right)}`);
      }

      // Every room whole in every key.
      for (const [k, id] of WIDGET.keys.entries()) {
        const cut = (await roomKey(page, id)).filter((e) => e.cut).map((e) => e.name);
        assert.deepEqual(cut, [], `${width} px: key ${k + 1} cuts names`);
      }
      await page.close();
    }
    assert.deepEqual(consoleErrors, [], 'errors in the browser console');
  });

  it('(d) a co2_high alert, raised from the simulator\'s own readings, shows on the dashboard within 2 minutes of npm start', async function () {
    this.timeout(180_000);
    const page = dashboard!;
    const startedMinute = new Date(demo!.readyAt - 60_000).toISOString().slice(0, 16).replace('T', ' ');
    const fresh = await waitUntil('a new co2_high alert in the dashboard\'s list', Math.max(1000, demo!.readyAt + 120_000 - Date.now()), async () => {
      const seen = await page.evaluate(() => (window as unknown as { alertRowsSeen: Record<string, number> }).alertRowsSeen);
      const rows = Object.entries(seen).filter(([row]) => / \| co2 high \| /.test(row) && row.slice(0, 16) >= startedMinute);
      return rows.length > 0 ? rows.sort((a, b) => a[1] - b[1])[0] : null;
    }, async () => JSON.stringify(await page.evaluate(() => (window as unknown as { alertRowsSeen: Record<string, number> }).alertRowsSeen)));
    const [row, shownAt] = fresh;
    timings.firstCo2HighOnDashboardAfterReadyMs = shownAt - demo!.readyAt;
    assert.ok(shownAt - demo!.readyAt <= 120_000, `the first co2_high showed ${Math.round((shownAt - demo!.readyAt) / 1000)} s after npm start was ready: ${row}`);
    assert.match(row, /CO2 above 1000 ppm in /);
    // The simulator has it too: raised from a reading above its threshold.
    const token = ((await (await fetch(`${demo!.simulatorUrl}/auth/client/token`, {
      method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `api_key=${demo!.apiKey}`,
    })).json()) as { token: string }).token;
    const alerts = (await (await fetch(`${demo!.simulatorUrl}/notifications?limit=50`, { headers: { Authorization: `Bearer ${token}` } })).json()) as
      Array<{ type: string; value: number; threshold: number; created_at: string }>;
    const raised = alerts.filter((a) => a.type === 'co2_high' && Date.parse(a.created_at) >= demo!.readyAt - 60_000);
    assert.ok(raised.length > 0 && raised.every((a) => a.value > a.threshold), JSON.stringify(alerts.slice(0, 5)));
    await page.screenshot({ path: path.join(ARTIFACTS, 'dashboard-alerts.png'), fullPage: true });
  });

  it('(e) the editor\'s dialogs: the only account preselected, the account dialog, the device and gateway pickers, labels, tips and help', async function () {
    // These editor features live in the package's editor files: check they are there first,
    // so a missing feature fails here with a clear message rather than as a timeout.
    const configHtml = fs.readFileSync(path.join(ROOT, 'nodes', 'leapcraft-config.html'), 'utf8');
    const devicesHtml = fs.readFileSync(path.join(ROOT, 'nodes', 'leapcraft-devices.html'), 'utf8');
    const topologyHtml = fs.readFileSync(path.join(ROOT, 'nodes', 'leapcraft-topology.html'), 'utf8');
    assert.match(configHtml, /id="leapcraft-config-test"/, 'the Test connection button in nodes/leapcraft-config.html');
    assert.match(configHtml, /id="leapcraft-config-test-result"/, 'its result element');
    assert.match(devicesHtml, /devicePicker\(/, 'the device picker in nodes/leapcraft-devices.html');
    assert.match(topologyHtml, /gatewayPicker\(/, 'the gateway picker in nodes/leapcraft-topology.html');
    assert.ok(fs.existsSync(path.join(ROOT, 'resources', 'leapcraft-editor.js')), 'resources/leapcraft-editor.js');

    const page = editor ?? (await context!.newPage());
    if (!editor) {
      await openEditor(page, demo!.editorUrl);
    }
    await page.setViewportSize({ width: 1440, height: 900 });
    await page.evaluate(() => {
      const RED = (window as any).RED;
      RED.workspaces.show('demo-tab-nodes');
      RED.menu.setSelected('menu-item-sidebar', false); // room for the edit tray
    });
    const tray = page.locator('.red-ui-tray').last();
    const trayTitle = () => page.locator('.red-ui-tray-titlebar').last().innerText();

    // As a user does it: double-click the devices node, then the pencil beside its account.
    await page.locator('[id="demo-devices"] .red-ui-flow-node').dblclick();
    const physicalId = page.locator('#node-input-physicalId');
    await physicalId.waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('#node-input-btn-account-edit').click();
    const testButton = page.locator('#leapcraft-config-test');
    await testButton.waitFor({ state: 'visible', timeout: 15_000 });
    // The dialog names the account by its palette label, not its type.
    assert.match(await trayTitle(), /Edit Leapcraft account node/);
    assert.doesNotMatch(await trayTitle(), /leapcraft-config/);
    // The account every example brings: its base URL and key from Node-RED's environment, which
    // npm start sets; the tip says so. Test connection uses the deployed account's, resolved.
    const baseUrl = page.locator('#node-config-input-baseUrl');
    assert.equal(await baseUrl.inputValue(), '${LEAPCRAFT_BASE_URL}');
    const tip = page.locator('#leapcraft-config-tip-env');
    assert.equal(await tip.isVisible(), true, 'the tip for a base URL from the environment');
    assert.match(await tip.innerText(), /LEAPCRAFT_BASE_URL/);
    assert.equal(await page.locator('#leapcraft-config-tip-simulator').isVisible(), false);
    assert.equal(await page.locator('#leapcraft-config-tip-simulator-here').isVisible(), false);
    assert.deepEqual(await wrappedLabels(page), [], 'labels on one line');
    await testButton.click();
    const result = page.locator('#leapcraft-config-test-result');
    await waitUntil('the Test connection result', 20_000, async () => /Connected/.test(await result.innerText()),
      () => result.innerText());
    assert.equal((await result.innerText()).trim(), `Connected: ${devices.length} devices`);
    assert.equal(await result.locator('.fa-check').count(), 1, 'shown as a success');
    await page.mouse.move(600, 700); // no tooltip in the picture
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-test-connection.png') });

    // One result at a time: a failed Check API goes when Test connection runs, and the other way
    // round; a changed base URL clears both. (A base URL nothing listens on fails both at once.)
    const testRow = page.locator('#leapcraft-config-test-result-row');
    const checkRow = page.locator('#leapcraft-config-check-api-row');
    const checkStatus = page.locator('#leapcraft-config-check-api-status');
    await baseUrl.fill('http://127.0.0.1:9/v1');
    assert.equal(await testRow.isVisible(), false, 'the success went with the base URL it was about');
    await page.locator('#leapcraft-config-tip-simulator-here').waitFor({ state: 'visible' });
    await page.locator('#leapcraft-config-check-api').click();
    await waitUntil('the failed Check API', 30_000, async () => (await checkStatus.locator('.fa-exclamation-triangle').count()) === 1,
      () => checkStatus.innerText());
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-account-check-failed.png') });
    await testButton.click();
    assert.equal(await checkRow.isVisible(), false, 'Test connection clears the Check API line');
    await waitUntil('the failed Test connection', 20_000, async () => (await result.locator('.fa-exclamation-triangle').count()) === 1,
      () => result.innerText());
    await page.locator('#leapcraft-config-check-api').click();
    assert.equal(await testRow.isVisible(), false, 'Check API clears the Test connection line');
    await waitUntil('the failed Check API', 30_000, async () => (await checkStatus.locator('.fa-exclamation-triangle').count()) === 1);
    await baseUrl.fill('${LEAPCRAFT_BASE_URL}');
    assert.equal(await checkRow.isVisible(), false, 'a changed base URL clears the Check API line');
    await testButton.click();
    await waitUntil('the Test connection result', 20_000, async () => /Connected/.test(await result.innerText()), () => result.innerText());
    await page.mouse.move(600, 700);
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-account-results.png') });
    await closeDialog(page, 'config');

    // Back in the devices dialog: the list opens on focus, before any typing, inside the dialog.
    await physicalId.waitFor({ state: 'visible', timeout: 15_000 });
    const menu = page.locator('ul.ui-autocomplete:visible');
    assert.equal(await physicalId.inputValue(), '', 'the demo\'s devices node lists every device');
    await physicalId.click();
    await menu.first().waitFor({ state: 'visible', timeout: 20_000 });
    assert.equal(await menu.locator('li').count(), devices.length, 'every device on focus');
    const inside = async (what: string) => {
      const [m, t] = [await menu.first().boundingBox(), await tray.boundingBox()];
      assert.ok(m && t, what);
      assert.ok(m.x >= t.x && m.y >= t.y && m.x + m.width <= t.x + t.width + 0.5 && m.y + m.height <= t.y + t.height + 0.5,
        `${what}: the list (${JSON.stringify(m)}) sticks out of the dialog (${JSON.stringify(t)})`);
    };
    await inside('device picker');
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-device-picker-focus.png') });

    // Typing part of a room name narrows it to the simulator's matching devices.
    const device = [...devices].sort((a, b) => byName(a.name, b.name)).find((d) => d.name.length >= 5)!;
    await physicalId.pressSequentially(device.name.slice(0, 5), { delay: 50 });
    const suggestion = menu.locator('li', { hasText: device.physical_id });
    const needle = device.name.slice(0, 5).toLowerCase();
    const items = async () => (await menu.locator('li').allInnerTexts()).map((t) => t.trim());
    const labels = await waitUntil('the list narrowed to what is typed', 20_000, async () => {
      const now = await items();
      return now.length > 0 && now.length < devices.length ? now : null;
    }, async () => (await items()).join(' / '));
    assert.ok(labels.some((l) => l.includes(device.name) && l.includes(device.physical_id)), `suggestions: ${labels.join(' / ')}`);
    for (const l of labels) assert.ok(l.toLowerCase().includes(needle), `only matching devices: ${l}`);
    await inside('device picker, narrowed');
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-device-picker.png') });
    await suggestion.first().click();
    assert.equal(await physicalId.inputValue(), device.physical_id, 'picking fills in the physical id');
    // The name shows beside the id, and the list stays shut after the pick.
    const picked = page.locator('.leapcraft-picker-name:visible');
    assert.match(await picked.innerText(), new RegExp(`^${device.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\b`));
    await page.waitForTimeout(400);
    assert.equal(await menu.count(), 0, 'no list after the pick');
    assert.deepEqual(await wrappedLabels(page), [], 'labels on one line');
    await closeDialog(page);

    // The topology node: the gateway picker, the same way.
    await page.locator('[id="demo-topology"] .red-ui-flow-node').dblclick();
    const topologyId = page.locator('#node-input-topologyId');
    await topologyId.waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(300);
    await topologyId.click();
    await menu.first().waitFor({ state: 'visible', timeout: 20_000 });
    const gateways = [...new Set(devices.map((d) => d.topology_id))];
    const gatewayItems = (await menu.locator('li').allInnerTexts()).map((t) => t.trim());
    assert.equal(gatewayItems.length, gateways.length, `one entry per gateway: ${gatewayItems.join(' / ')}`);
    for (const g of gateways) assert.ok(gatewayItems.some((t) => t.includes(g)), `gateway ${g} listed`);
    await inside('gateway picker');
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-gateway-picker.png') });
    const named = menu.locator('li', { hasText: /Gateway/ }).first();
    const namedText = (await named.innerText()).trim();
    await named.click();
    assert.equal(await topologyId.inputValue(), /\(([^)]+)\)/.exec(namedText)![1], 'picking fills in the gateway id');
    assert.equal(await page.locator('.leapcraft-picker-name:visible').innerText(), namedText.replace(/\s*\(.*$/, ''));
    await closeDialog(page);

    // A new node (as dropped from the palette) takes the demo's account, the only one there is;
    // adding another account opens a dialog titled by the palette label, and testing it with no
    // key asks for the key in that dialog.
    const added = await editNewNode(page, 'leapcraft-devices');
    await page.locator('select#node-input-account').waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(200);
    assert.equal(await page.locator('select#node-input-account').inputValue(), ACCOUNT_ID, 'the only account is selected');
    await page.locator('#node-input-btn-account-add').click();
    await testButton.waitFor({ state: 'visible', timeout: 15_000 });
    assert.match(await trayTitle(), /Add new Leapcraft account config node/);
    await page.locator('#node-config-input-baseUrl').fill(demo!.simulatorUrl);
    await testButton.click();
    await waitUntil('the Test connection result without a key', 20_000, async () => (await result.innerText()).trim() !== '' && !/testing/.test(await result.innerText()));
    assert.equal((await result.innerText()).trim(), 'Type the API key above, then test again (once the account is deployed, its stored key is used).');
    assert.deepEqual(await wrappedLabels(page), [], 'labels on one line');
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-new-account.png') });
    await closeDialog(page, 'config');
    await closeDialog(page);
    await page.evaluate((id) => {
      const RED = (window as any).RED;
      RED.nodes.remove(id);
      RED.view.redraw(true);
    }, added);

    // Every Leapcraft dialog keeps its labels on one line and every help fits the sidebar, in
    // English and in German (the Home Assistant node: its dialog's labels, and a picture of it).
    const german = await (await browser!.newContext({ viewport: { width: 1440, height: 900 }, locale: 'de-DE' })).newPage();
    await openEditor(german, `${demo!.editorUrl}?lang=de`);
    for (const [lang, p] of [['en-US', page], ['de', german]] as const) {
      await p.evaluate(() => (window as any).RED.menu.setSelected('menu-item-sidebar', true));
      for (const type of LABEL_TYPES) {
        if (DIALOG_TYPES.includes(type)) assert.deepEqual(await helpOverflow(p, type), [], `${lang} ${type}: help wider than the sidebar`);
        if (type === 'leapcraft-config') {
          await p.evaluate(() => {
            const RED = (window as any).RED;
            let id = '';
            RED.nodes.eachConfig((n: { id: string; type: string }) => { if (n.type === 'leapcraft-config') id = n.id; });
            RED.editor.editConfig('', 'leapcraft-config', id);
          });
          await p.locator('#leapcraft-config-test').waitFor({ state: 'visible', timeout: 15_000 });
        } else {
          await editNewNode(p, type);
          await p.locator('#node-input-name').waitFor({ state: 'visible', timeout: 15_000 });
        }
        await p.waitForTimeout(300);
        assert.deepEqual(await wrappedLabels(p), [], `${lang} ${type}: labels on more than one line`);
        assert.deepEqual(await longTips(p), [], `${lang} ${type}: tips of more than one line`);
        assert.deepEqual(await cutFields(p), [], `${lang} ${type}: fields that cut their text`);
        assert.deepEqual(await repeatedOptions(p), [], `${lang} ${type}: an entry listed twice`);
        if (lang === 'de' && type === 'leapcraft-config') await p.screenshot({ path: path.join(ARTIFACTS, 'editor-account-de.png') });
        if (type === 'leapcraft-notifications' || type === 'leapcraft-telemetry') {
          await p.screenshot({ path: path.join(ARTIFACTS, `editor-${type.replace('leapcraft-', '')}-${lang}.png`) });
        }
        if (type === 'leapcraft-homeassistant') {
          // Its account is optional, and a new node still takes the only one.
          assert.equal(await p.locator('select#node-input-account').inputValue(), ACCOUNT_ID, `${lang}: the only account is selected`);
          // The whole dialog in one picture: a viewport as tall as the tray's content.
          const height = await p.evaluate(() => document.querySelector('#dialog-form')?.scrollHeight ?? 0);
          await p.setViewportSize({ width: 1440, height: Math.max(900, height + 400) });
          await p.waitForTimeout(300);
          await p.screenshot({ path: path.join(ARTIFACTS, `editor-homeassistant-${lang}.png`) });
          await p.setViewportSize({ width: 1440, height: 900 });
        }
        if (type === 'leapcraft-air-quality') {
          const height = await p.evaluate(() => document.querySelector('#dialog-form')?.scrollHeight ?? 0);
          await p.setViewportSize({ width: 1440, height: Math.max(900, height + 400) });
          await p.waitForTimeout(300);
          await p.screenshot({ path: path.join(ARTIFACTS, `editor-air-quality-${lang}.png`) });
          await p.setViewportSize({ width: 1440, height: 900 });
        }
        await closeDialog(p, type === 'leapcraft-config' ? 'config' : 'node');
      }
    }
    await german.close();
  });

  it('(f) the README\'s first flow, word for word: Import → Examples → list-devices into the demo, Deploy, the device list; an error names its device', async function () {
    this.timeout(120_000);
    const page = await context!.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await openEditor(page, demo!.editorUrl);
    // "Import → Examples → node-red-contrib-leapcraft → list-devices (to a new flow); Node-RED says
    // some nodes exist already (the account every example and the demo share): choose Import copy."
    const imported = await importExample(page, 'list-devices', 'Import copy');
    assert.equal(imported.existing, true, 'Node-RED says the account exists');
    assert.deepEqual((await accounts(page)).map((a) => a.id), [ACCOUNT_ID], 'one account, the one there was');
    // "Deploy, then click all devices: the debug sidebar shows the device list."
    await deploy(page);
    const list = await injectAndRead(page, imported.tab, 'all devices', new RegExp(`array\\[${devices.length}\\]`));
    assert.match(list, /msg\.payload : array/);
    await page.screenshot({ path: path.join(ARTIFACTS, 'readme-first-flow.png') });
    // "unknown device": the Catch node's debug shows what failed for which device, on its first line in full.
    const error = await injectAndRead(page, imported.tab, 'unknown device', /no-such-device/);
    const firstLine = error.split('\n').find((l) => l.includes('no-such-device'))!;
    assert.match(firstLine, /^"GET \/devices\/no-such-device: HTTP 404: .+"$/, error);
    assert.doesNotMatch(firstLine, /\.\.\."$|…"$/, 'the message is cut');
    await page.screenshot({ path: path.join(ARTIFACTS, 'readme-first-flow-error.png') });
    await page.close();
  });

  it('(g) a second example works as imported (View nodes..., Import selected), and every example imports beside the demo sharing only the account', async function () {
    this.timeout(120_000);
    const imported = examples();
    assert.ok(imported.length >= 8, `examples to import: ${imported.map((e) => e.file).join(', ')}`);
    // Statically: every example brings the demo's account, and no other id of the demo or of another example.
    const demoIds = new Set(demoFlow({}).map((n) => n.id));
    assert.ok(demoIds.has(ACCOUNT_ID));
    const seen = new Map<string, string>();
    for (const e of imported) {
      assert.ok(e.nodes.some((n) => n.id === ACCOUNT_ID && n.type === 'leapcraft-config'), `${e.file}: the shared account`);
      for (const n of e.nodes.filter((x) => x.id !== ACCOUNT_ID)) {
        assert.ok(!demoIds.has(n.id), `${e.file}: ${n.id} (${n.type}) is also a node of the demo`);
        assert.ok(!seen.has(n.id), `${e.file}: ${n.id} (${n.type}) is also in ${seen.get(n.id)}`);
        seen.set(n.id, e.file);
      }
    }

    const page = await context!.newPage();
    await page.setViewportSize({ width: 1440, height: 900 });
    await openEditor(page, demo!.editorUrl);
    // The other answer to "some nodes exist": View nodes..., where the account is left unchecked.
    const topology = await importExample(page, 'topology-overview', 'View nodes...');
    assert.equal(topology.existing, true);
    assert.deepEqual(topology.notImported, [ACCOUNT_ID], 'the dialog keeps the account there is');
    assert.deepEqual((await accounts(page)).map((a) => a.id), [ACCOUNT_ID], 'still one account');
    await deploy(page);
    const gateways = new Set(devices.map((d) => d.topology_id)).size;
    await injectAndRead(page, topology.tab, 'all gateways', new RegExp(`array\\[${gateways}\\]`));
    // The README's example works still beside it.
    const first = await page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const RED = (window as any).RED;
      let tab = '';
      RED.nodes.eachWorkspace((w: { id: string }) => { if (RED.nodes.filterNodes({ z: w.id, type: 'inject' }).some((n: { name: string }) => n.name === 'unknown device')) tab = w.id; });
      return tab;
    });
    await injectAndRead(page, first, 'all devices', new RegExp(`array\\[${devices.length}\\]`));
    await page.screenshot({ path: path.join(ARTIFACTS, 'second-example.png') });

    // Every example, one after the other, as Import does it (ids kept): the account is the one
    // node Node-RED finds there already; leaving it out (as View nodes... proposes) imports the rest.
    const count = () => page.evaluate(() => {
      // eslint-disable-next-line @typescript-eslint/no-explicit-any
      const RED = (window as any).RED;
      let n = 0;
      RED.nodes.eachNode(() => { n++; });
      RED.nodes.eachConfig(() => { n++; });
      return n;
    });
    for (const e of imported.filter((x) => !['list-devices.json', 'topology-overview.json'].includes(x.file))) {
      const before = await count();
      const outcome = await page.evaluate(([nodes, account]) => {
        // eslint-disable-next-line @typescript-eslint/no-explicit-any
        const RED = (window as any).RED;
        try {
          RED.view.importNodes(nodes, { generateIds: false, addFlow: true });
          return { conflicted: [] as string[] };
        } catch (err) {
          // eslint-disable-next-line @typescript-eslint/no-explicit-any
          const conflicted = Object.keys((err as any).importConfig?.conflicted ?? {});
          const importMap = Object.fromEntries((nodes as Array<{ id: string }>).map((n) => [n.id, n.id === account ? 'skip' : 'import']));
          RED.view.importNodes((nodes as Array<{ id: string }>).filter((n) => n.id !== account), { generateIds: false, addFlow: true, importMap });
          return { conflicted };
        }
      }, [e.nodes, ACCOUNT_ID] as const);
      assert.deepEqual(outcome.conflicted, [ACCOUNT_ID], `${e.file}: what Node-RED finds there already`);
      assert.equal(await count(), before + e.nodes.length - 1, `${e.file}: every node but the account added`);
    }
    assert.deepEqual((await accounts(page)).map((a) => a.id), [ACCOUNT_ID], 'one account after every example');
    await page.close();
  });

  it('(h) a device picker on an account of 10,000 sensors: the time to the list and to a filtered list', async function () {
    this.timeout(240_000);
    const big = new LeapcraftSimulator({ deviceCount: 10_000, gateways: 100 });
    await big.start();
    try {
      // Deployed beside the demo ("modified nodes"), as a user adds a second account.
      const at = await deployPickerAccount(`http://127.0.0.1:${demo!.port}`, big.baseUrl, 'demo-key', 'demo-tab-nodes');
      const page = await context!.newPage();
      // Typing part of a name narrows the list: every suggestion matches, and the device itself is among them.
      const wanted = big.devices().find((d) => /#12$/.test(String(d.name)))!;
      const timing = await timePicker(page, demo!.editorUrl, at, [String(wanted.name)]);
      assert.ok(timing.listShown > 0, 'a list on focus');
      const [filtered] = timing.filtered;
      assert.ok(filtered!.items.some((l) => l.includes(wanted.physical_id)), `the device itself is among: ${filtered!.items.slice(0, 5).join(' / ')}`);
      timings.pickerListMs10k = timing.listMs;
      timings.pickerFilteredMs10k = filtered!.ms;
      console.log(`      measured: device picker on 10,000 sensors (100 gateways): list on focus after ${timing.listMs} ms (${timing.listShown} shown, read from the API), `
        + `filtered to ${filtered!.shown} for "${wanted.name}" ${filtered!.ms} ms after typing`);
      await page.screenshot({ path: path.join(ARTIFACTS, 'editor-device-picker-10k.png') });
      await page.close();
    } finally {
      await big.stop();
    }
  });

  it('(i) last: a tab of the user\'s own, with a subflow and a config node with credentials, survives npm start twice', async function () {
    this.timeout(300_000);
    const tab = 'a0c0ffee00000001';
    const broker = 'a0c0ffee00000006';
    const mine = [
      { id: tab, type: 'tab', label: 'My tab', disabled: false, info: 'made in the demo editor' },
      {
        id: 'a0c0ffee0000000a', type: 'subflow', name: 'My subflow', info: '', category: '', env: [], color: '#DDAA99',
        in: [{ x: 40, y: 40, wires: [{ id: 'a0c0ffee0000000b' }] }], out: [{ x: 300, y: 40, wires: [{ id: 'a0c0ffee0000000b', port: 0 }] }],
      },
      { id: 'a0c0ffee0000000b', type: 'change', z: 'a0c0ffee0000000a', name: 'mark', rules: [{ t: 'set', p: 'mine', pt: 'msg', to: 'yes', tot: 'str' }], x: 160, y: 40, wires: [[]] },
      { id: 'a0c0ffee00000002', type: 'inject', z: tab, name: 'my devices', props: [{ p: 'payload' }], repeat: '', crontab: '', once: false, onceDelay: 0.1, topic: '', payload: '', payloadType: 'date', x: 120, y: 80, wires: [['a0c0ffee00000003']] },
      { id: 'a0c0ffee00000003', type: 'subflow:a0c0ffee0000000a', z: tab, name: '', x: 290, y: 80, wires: [['a0c0ffee00000004']] },
      { id: 'a0c0ffee00000004', type: 'leapcraft-devices', z: tab, name: 'my devices node', account: ACCOUNT_ID, physicalId: '', x: 480, y: 80, wires: [['a0c0ffee00000005']] },
      { id: 'a0c0ffee00000005', type: 'debug', z: tab, name: 'my debug', active: true, tosidebar: true, console: false, tostatus: false, complete: 'payload', targetType: 'msg', statusVal: '', statusType: 'auto', x: 680, y: 80, wires: [] },
      { id: broker, type: 'mqtt-broker', name: 'my broker', broker: '127.0.0.1', port: '1', clientid: '', autoConnect: false, usetls: false, protocolVersion: '4', keepalive: '60', cleansession: true, credentials: { user: 'me', password: 'my-secret' } },
      { id: 'a0c0ffee00000007', type: 'mqtt out', z: tab, name: 'my mqtt', topic: 'mine', qos: '', retain: '', broker, x: 480, y: 160, wires: [] },
    ];
    const open = async (): Promise<Page> => {
      const page = await context!.newPage();
      await page.setViewportSize({ width: 1440, height: 900 });
      await openEditor(page, demo!.editorUrl);
      return page;
    };
    // Made in the demo's editor and deployed, as a user does.
    let page = await open();
    await page.evaluate((nodes) => (window as any).RED.view.importNodes(nodes, { generateIds: false, addFlow: false, touchImport: true }), mine);
    await deploy(page);
    await page.close();

    for (const round of [1, 2]) {
      await demo!.stop();
      demo = await startDemo({ demoDir });
      page = await open();
      const held = await page.evaluate(([t, sub, b]) => {
        const RED = (window as any).RED;
        const labels: string[] = [];
        RED.nodes.eachWorkspace((w: { label: string }) => { labels.push(w.label); });
        const leapcraftAccounts: string[] = [];
        RED.nodes.eachConfig((n: { type: string; id: string }) => { if (n.type === 'leapcraft-config') leapcraftAccounts.push(n.id); });
        return {
          labels,
          onTab: RED.nodes.filterNodes({ z: t }).map((n: { name: string }) => n.name).sort(),
          subflow: RED.nodes.subflow(sub)?.name ?? null,
          broker: RED.nodes.node(b)?.name ?? null,
          leapcraftAccounts,
        };
      }, [tab, 'a0c0ffee0000000a', broker]);
      assert.deepEqual(held.labels.filter((l) => ['My tab', 'Leapcraft nodes', 'Leapcraft dashboard'].includes(l)).sort(),
        ['Leapcraft dashboard', 'Leapcraft nodes', 'My tab'], `after npm start #${round + 1}: ${held.labels.join(', ')}`);
      assert.deepEqual(held.onTab, ['', 'my debug', 'my devices', 'my devices node', 'my mqtt'], `after npm start #${round + 1}: the nodes of my tab`);
      assert.equal(held.subflow, 'My subflow');
      assert.equal(held.broker, 'my broker');
      // The demo's account once; any other (test (h) added one beside the demo) is the user's, and stays.
      assert.equal(held.leapcraftAccounts.filter((id) => id === ACCOUNT_ID).length, 1, `the demo's account, once: ${held.leapcraftAccounts.join(', ')}`);
      // The broker's credentials, as Node-RED keeps them (the password is never sent back).
      const creds = (await (await fetch(`${demo!.editorUrl}credentials/mqtt-broker/${broker}`)).json()) as { user?: string; has_password?: boolean };
      assert.deepEqual(creds, { user: 'me', has_password: true }, `after npm start #${round + 1}: the broker's credentials`);
      // The user's flow runs on the account the demo deploys afresh.
      await injectAndRead(page, tab, 'my devices', new RegExp(`array\\[${devices.length}\\]`));
      await page.screenshot({ path: path.join(ARTIFACTS, `user-tab-after-restart-${round}.png`) });
      await page.close();
    }
  });
});
