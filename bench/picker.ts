/**
 * Measurement 7, the editor: the device picker of leapcraft-devices on an account of the
 * building-scale size. The `npm start` demo (a real Node-RED with its editor) in its own process
 * group, an account on a simulator of that size (its own process) deployed beside the demo,
 * Debian's Chromium driven by playwright-core: the time from focusing the empty device field to
 * the list (the account's device list read from the API through the admin route, summarised),
 * then from typing to the narrowed list, for a room name (many matches), one device's name and
 * part of one device's physical id.
 */
import fs from 'node:fs';
import { chromium } from 'playwright-core';
import { startDemo } from '../test/support/demo';
import { deployPickerAccount, timePicker, type PickerTiming } from '../test/support/picker';
import { withScope } from './processes';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

export interface PickerOptions {
  devices: number;
  gateways: number;
  latencyMs: number;
}

export interface PickerResults extends PickerTiming {
  devices: number;
  gateways: number;
  latencyMs: number;
  chromium: string;
}

type Log = (line: string) => void;

/** What a user types: a room name (many devices), a whole device name, part of a physical id; none contains another. */
function typedTexts(devices: Array<{ name: string; physical_id: string }>): string[] {
  const last = devices[devices.length - 1]!;
  const middle = devices[devices.length >> 1]!;
  const room = devices[0]!.name.replace(/\s*#\d+$/, '');
  const texts = [room, last.name, middle.physical_id.slice(0, 8)];
  return texts.filter((t, i) => texts.every((u, j) => i === j || !u.toLowerCase().includes(t.toLowerCase())));
}

export async function measurePicker(o: PickerOptions, log: Log): Promise<PickerResults> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install chromium (.ci/run does), or set CHROMIUM_PATH`);
  return withScope(async (scope) => {
    const sim = await scope.simulator({ deviceCount: o.devices, gateways: o.gateways, latencyMs: o.latencyMs });
    const devices = await sim.child.call<Array<{ name: string; physical_id: string }>>('devices');
    const demo = await startDemo();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const at = await deployPickerAccount(`http://127.0.0.1:${demo.port}`, sim.baseUrl, sim.apiKey, 'demo-tab-nodes');
      const page = await (await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'en-US' })).newPage();
      const timing = await timePicker(page, demo.editorUrl, at, typedTexts(devices));
      log(`  editor, device picker on ${o.devices} devices: list after ${timing.listMs} ms (${timing.listShown} shown); `
        + timing.filtered.map((f) => `"${f.typed}" → ${f.shown} in ${f.ms} ms`).join(', '));
      return { ...timing, devices: o.devices, gateways: o.gateways, latencyMs: o.latencyMs, chromium: browser.version() };
    } finally {
      await browser.close();
      await demo.stop();
    }
  });
}
