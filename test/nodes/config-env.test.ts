/**
 * The account every example brings: its base URL and key as ${LEAPCRAFT_BASE_URL} and
 * ${LEAPCRAFT_API_KEY}, which Node-RED replaces from its environment when the flow starts. Set,
 * the account works as any other; not set, the account says which variable is missing (an error
 * for the base URL, a warning for the key) and nothing is sent.
 */
import assert from 'node:assert/strict';
import sinon from 'sinon';
import { LeapcraftSimulator } from '../../simulator';
import { catchNode, helper, nextMessages, TestNode } from '../support/nodered';
import configNode = require('../../nodes/leapcraft-config');
import devicesNode = require('../../nodes/leapcraft-devices');

const NODES = [configNode, devicesNode, catchNode];
const flow = [
  { id: 'tab', type: 'tab', label: 'test' },
  { id: 'acct', type: 'leapcraft-config', name: 'Leapcraft account', baseUrl: '${LEAPCRAFT_BASE_URL}', concurrency: 8, timeout: 30, budget: '' },
  { id: 'dev', type: 'leapcraft-devices', z: 'tab', x: 100, y: 100, account: 'acct', physicalId: '', wires: [['out']] },
  { id: 'out', type: 'helper', z: 'tab', x: 300, y: 100 },
  { id: 'catch', type: 'catch', z: 'tab', x: 100, y: 200, scope: null, uncaught: false, wires: [['caught']] },
  { id: 'caught', type: 'helper', z: 'tab', x: 300, y: 200 },
];
const creds = { acct: { apiKey: '${LEAPCRAFT_API_KEY}' } };

describe('leapcraft-config with ${LEAPCRAFT_BASE_URL} and ${LEAPCRAFT_API_KEY}', function () {
  let sim: LeapcraftSimulator;

  beforeEach(async () => {
    sim = new LeapcraftSimulator();
    await sim.start();
  });
  afterEach(async () => {
    await helper.unload();
    await sim.stop();
    sinon.restore();
  });

  function environment(env: Record<string, string | undefined>): void {
    sinon.stub(process, 'env').value({ ...process.env, LEAPCRAFT_BASE_URL: undefined, LEAPCRAFT_API_KEY: undefined, ...env });
  }

  it('reads both from the environment: the device list comes back', async () => {
    environment({ LEAPCRAFT_BASE_URL: sim.baseUrl, LEAPCRAFT_API_KEY: sim.apiKey });
    await helper.load(NODES, flow, creds);
    const out = nextMessages(helper.getNode('out') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await out;
    assert.deepEqual(msg.payload, sim.devices());
  });

  it('names a variable that is not set: LEAPCRAFT_BASE_URL in an error, nothing sent', async () => {
    environment({ LEAPCRAFT_API_KEY: sim.apiKey });
    await helper.load(NODES, flow, creds);
    const acct = helper.getNode('acct') as TestNode;
    const logged = (acct.error as unknown as sinon.SinonSpy).getCalls().map((c) => String(c.args[0]));
    assert.equal(logged.length, 1, logged.join('\n'));
    // The test helper's RED._ answers with the key: the catalogs' texts are checked below.
    assert.match(logged[0], /leapcraft-config\.errors\.envUnset/);
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await caught;
    assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_INVALID_INPUT');
    assert.match((msg.error as { message: string }).message, /envUnset/);
    assert.equal(sim.stats.total, 0);
  });

  it('names a variable that is not set: LEAPCRAFT_API_KEY in a warning, and no key is sent', async () => {
    environment({ LEAPCRAFT_BASE_URL: sim.baseUrl });
    await helper.load(NODES, flow, creds);
    const acct = helper.getNode('acct') as TestNode;
    const warned = (acct.warn as unknown as sinon.SinonSpy).getCalls().map((c) => String(c.args[0]));
    assert.equal(warned.length, 1, warned.join('\n'));
    assert.match(warned[0], /leapcraft-config\.errors\.envUnset/);
    const caught = nextMessages(helper.getNode('caught') as TestNode);
    (helper.getNode('dev') as TestNode).receive({} as never);
    const [msg] = await caught;
    assert.equal((msg.error as { code: string }).code, 'LEAPCRAFT_AUTH');
    assert.equal(sim.stats.total, 0, 'not even a token exchange with the literal ${LEAPCRAFT_API_KEY}');
  });

  it('says so in both languages, naming the setting and the variable', function () {
    for (const lang of ['en-US', 'de']) {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const text = (require(`../../locales/${lang}/leapcraft-config.json`) as { 'leapcraft-config': { errors: { envUnset: string } } })['leapcraft-config'].errors.envUnset;
      assert.match(text, /__setting__.*\$\{__name__\}.*__name__/, lang);
    }
  });
});
