/**
 * leapcraft-homeassistant across restarts of a real Node-RED with a file-backed context store:
 * what the bridge announced outlives the process, so a device that left the account while
 * Node-RED was down is removed after the restart.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { haDeviceKey } from '../../lib';
import { LeapcraftSimulator } from '../../simulator';
import type { DeviceListItem } from '../../simulator';
import { readJsonLines, RealNodeRed } from '../support/real-nodered';
import { waitFor } from '../support/wait';

describe('leapcraft-homeassistant across restarts of a real Node-RED with a file-backed context store', function () {
  this.timeout(90_000);
  let sim: LeapcraftSimulator;
  let airbird: DeviceListItem;

  beforeEach(async () => {
    sim = new LeapcraftSimulator({ deviceCount: 6 });
    await sim.start();
    airbird = sim.devices().find((d) => d.type === 'airbird')!;
  });
  afterEach(async () => {
    await sim.stop();
  });

  let red: RealNodeRed | undefined;
  afterEach(async () => { await red?.dispose(); red = undefined; });

  it('a device that left the account while Node-RED was down is removed after the restart (needs npm run build)', async () => {
    const leaver = sim.devices()[5];
    red = new RealNodeRed({
      settingsSource: `contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { flushInterval: 1 } } },`,
    });
    const outFile = path.join(red.userDir, 'mqtt.jsonl');
    const flows = [
      { id: 'tab1', type: 'tab', label: 'home assistant' },
      { id: 'acct1', type: 'leapcraft-config', name: 'sim', baseUrl: sim.baseUrl, concurrency: 8, timeout: 30, credentials: { apiKey: sim.apiKey } },
      {
        id: 'tel1', type: 'leapcraft-telemetry', z: 'tab1', x: 120, y: 80, account: 'acct1', devices: `${airbird.physical_id}, ${leaver.physical_id}`,
        telemetryType: 'latest', resolution: 'daily', from: '-7d', to: 'now', interval: 2, output: 'device', changesOnly: false, blockOverrides: false, wires: [['ha1']],
      },
      {
        id: 'ha1', type: 'leapcraft-homeassistant', z: 'tab1', x: 320, y: 80, account: 'acct1', discoveryPrefix: 'homeassistant', baseTopic: 'leapcraft',
        birthTopic: 'homeassistant/status', interval: 60, qos: '1', announceDelay: 0, discovery: 'device', area: 'gateway', areaField: '',
        removeAfter: 1, removeAfterUnit: 's', store: 'file', wires: [['chg1']],
      },
      // What the mqtt out node would publish: topic and payload, one JSON line each.
      { id: 'chg1', type: 'change', z: 'tab1', x: 520, y: 80, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"topic": topic, "payload": payload}', tot: 'jsonata' }], wires: [['file1']] },
      { id: 'file1', type: 'file', z: 'tab1', x: 720, y: 80, filename: outFile, filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]] },
    ];
    const published = () => readJsonLines(outFile) as Array<{ topic: string; payload: string }>;
    const topic = `homeassistant/device/leapcraft_${haDeviceKey(leaver.physical_id)}/config`;
    await red.start();
    await red.deploy(flows);
    await waitFor(() => published().some((m) => m.topic === topic && m.payload !== ''), 15_000, 'the leaver announced');
    // The record is stored a second after it changed; the file store flushes every second.
    const dir = path.join(red.userDir, 'context');
    const stored = () => fs.existsSync(dir) && (fs.readdirSync(dir, { recursive: true }) as string[])
      .map((f) => path.join(dir, f)).some((f) => fs.statSync(f).isFile() && fs.readFileSync(f, 'utf8').includes(leaver.physical_id));
    await waitFor(stored, 10_000, 'the record with the leaver in the file store');
    await red.stop();
    sim.set({ deviceCount: 5 });
    const before = published().length;
    await red.start();
    await waitFor(() => published().slice(before).some((m) => m.topic === topic && m.payload === ''), 20_000, 'the removal after the restart');
    const after = published().slice(before);
    assert.ok(!after.some((m) => m.topic.includes(haDeviceKey(airbird.physical_id)) && m.payload === ''), 'the device that stays is left alone');
    console.log(`      after the restart: ${after.filter((m) => m.payload === '').map((m) => m.topic).join(', ')} emptied`);
  });
});
