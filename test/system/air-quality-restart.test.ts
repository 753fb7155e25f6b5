/**
 * leapcraft-air-quality in a real Node-RED 4.1 (the working tree's build) with a file-backed
 * context store: a redeploy and a restart in the middle of a dwell keep it, so the category
 * changes once, when the dwell is over, and never starts afresh; the status in the runtime's
 * own words. Readings come in over HTTP with their own times (the dwell counts those).
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { readJsonLines, RealNodeRed } from '../support/real-nodered';
import { waitFor } from '../support/wait';

type Annotation = { category: string; since: string; timestamp: string };
type Change = { annotation: Annotation; previous: { category: string } | null; changed: string[] };

describe('leapcraft-air-quality across a redeploy and a restart of a real Node-RED (file-backed context store)', function () {
  this.timeout(120_000);
  let red: RealNodeRed;
  afterEach(async () => { await red?.dispose(); });

  it('keeps a dwell under way: the category changes once, when the dwell is over', async () => {
    red = new RealNodeRed({
      settingsSource: `contextStorage: { default: { module: 'memory' }, file: { module: 'localfilesystem', config: { flushInterval: 1 } } },`,
    });
    const file = (name: string) => path.join(red.userDir, `${name}.jsonl`);
    const fileNode = (id: string, name: string, y: number) => ({
      id, type: 'file', z: 'tab1', x: 700, y, filename: file(name), filenameType: 'str', appendNewline: true, createDir: true, overwriteFile: 'false', encoding: 'none', wires: [[]],
    });
    const flows = [
      { id: 'tab1', type: 'tab', label: 'air quality' },
      { id: 'in1', type: 'http in', z: 'tab1', x: 100, y: 80, url: '/aq-reading', method: 'post', upload: false, swaggerDoc: '', wires: [['aq1', 'ok1']] },
      { id: 'ok1', type: 'http response', z: 'tab1', x: 300, y: 40, statusCode: '204', headers: {}, wires: [] },
      {
        id: 'aq1', type: 'leapcraft-air-quality', z: 'tab1', x: 300, y: 80, name: '', profile: 'en16798', outdoorCo2: 420, limit: 1000, thresholds: '800, 1000, 1400',
        labels: 'good, fair, poor, bad', margin: 50, dwell: 2, demandLow: 700, demandHigh: 1100, onAt: 1000, offAt: 800, minOn: 5, minOff: 5, gap: 30,
        reportAt: '00:00', timeZone: 'UTC', days: '1,2,3,4,5', occupiedFrom: '08:00', occupiedTo: '18:00', store: 'file',
        wires: [['annotated1'], ['change1'], []],
      },
      fileNode('annotated1', 'annotated', 40),
      { id: 'change1', type: 'change', z: 'tab1', x: 500, y: 120, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: '{"annotation": payload, "previous": previous, "changed": changed}', tot: 'jsonata' }], wires: [['changes1']] },
      fileNode('changes1', 'changes', 120),
      { id: 'status1', type: 'status', z: 'tab1', x: 300, y: 200, scope: ['aq1'], wires: [['statusTo1']] },
      { id: 'statusTo1', type: 'change', z: 'tab1', x: 500, y: 200, rules: [{ t: 'set', p: 'payload', pt: 'msg', to: 'status', tot: 'msg' }], wires: [['statuses1']] },
      fileNode('statuses1', 'status', 200),
    ];
    const T = Date.now() - 20 * 60_000;
    let sent = 0;
    async function reading(seconds: number, co2: number): Promise<void> {
      const res = await fetch(`${red.url}/aq-reading`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ physical_id: 'room-1', timestamp: new Date(T + seconds * 1000).toISOString(), data: { co2 } }),
      });
      assert.equal(res.status, 204, red.log);
      sent++;
      await waitFor(() => readJsonLines(file('annotated')).length >= sent, 10_000, `reading ${sent} annotated`);
    }
    const changes = () => readJsonLines(file('changes')) as Change[];
    const categories = () => (readJsonLines(file('annotated')) as Annotation[]).map((a) => a.category);

    /** Deploys and waits until the flows run (the admin API answers before they start). */
    async function deploy(): Promise<void> {
      const started = () => (red.log.match(/Started flows/g) ?? []).length;
      const before = started();
      await red.deploy(flows);
      await waitFor(() => started() > before, 15_000, 'the flows to start');
    }

    await red.start();
    await deploy();
    await reading(0, 900); // the first reading: category I at once
    await reading(60, 1400); // past III's boundary by the margin: the 2-minute dwell starts

    await deploy(); // a full redeploy restarts every node
    await reading(120, 1400); // 60 s into the dwell: still I

    await red.stop();
    await red.start();
    await reading(150, 1400); // 90 s into the dwell: still I
    await reading(180, 1400); // 120 s: III
    await waitFor(() => changes().length >= 2, 10_000, 'the change to III');
    await waitFor(() => (readJsonLines(file('status')) as Array<{ text?: string }>).some((s) => s.text?.includes('III')), 10_000, 'the status');

    assert.deepEqual(categories(), ['I', 'I', 'I', 'I', 'III']);
    assert.deepEqual(changes().map((c) => [c.annotation.category, c.previous?.category ?? null, c.changed]), [
      ['I', null, ['category', 'demandOn']],
      ['III', 'I', ['category']],
    ], 'a lost dwell would show as a second first reading (previous null) or an early change');
    assert.equal(changes()[1].annotation.since, new Date(T + 180_000).toISOString());
    const status = (readJsonLines(file('status')) as Array<{ fill: string; text: string }>).at(-1)!;
    console.log(`      change msg (written by the flow): ${JSON.stringify(changes()[1])}`);
    console.log(`      measured: categories ${categories().join(' ')}; changes ${changes().length}; status "${status.text}" (${status.fill})`);
    assert.deepEqual([status.fill, status.text], ['yellow', '1 device · 1 in III']);
    assert.doesNotMatch(red.log, /\[error\]/);
  });
});
