/**
 * Which key an editor look-up may send where (nodes/config/key-policy.ts), decided without
 * Express or Node-RED. The routes that serve it are tested in admin-routes.test.ts.
 */
import assert from 'node:assert/strict';
import { decideTarget, DeployedAccount, LookupError, parseLookupBody } from '../../../nodes/config/key-policy';

const DEFAULT_URL = 'https://api.leapcraft.com/v1';
const deployed = (over: Partial<DeployedAccount> = {}): DeployedAccount => ({
  running: true, keyUnresolved: false, baseUrl: 'http://127.0.0.1:8787/v1', apiKey: 'stored-key', timeoutS: 12, ...over,
});

function refusal(fn: () => unknown): LookupError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof Error);
    return err as LookupError;
  }
  assert.fail('expected a refusal');
}

describe('editor look-up key policy', () => {
  it('the stored key goes to the deployed base URL, served by the running account', () => {
    const d = decideTarget(parseLookupBody({ id: 'acc', apiKey: '__PWRD__' }), deployed(), DEFAULT_URL);
    assert.equal(d.apiKey, 'stored-key');
    assert.equal(d.baseUrl, 'http://127.0.0.1:8787/v1');
    assert.equal(d.custom, false);
    assert.equal(d.asDeployed, true);
    assert.equal(d.timeoutS, 12);
  });

  it('never sends the stored key to another base URL', () => {
    const err = refusal(() => decideTarget(parseLookupBody({ id: 'acc', baseUrl: 'https://evil.example/v1' }), deployed(), DEFAULT_URL));
    assert.equal((err as LookupError).reason, 'storedKeyElsewhere');
  });

  it('a typed key is custom (write permission) even when it equals the stored one', () => {
    const d = decideTarget(parseLookupBody({ id: 'acc', apiKey: 'stored-key' }), deployed(), DEFAULT_URL);
    assert.equal(d.custom, true);
    const other = decideTarget(parseLookupBody({ apiKey: 'typed', baseUrl: 'https://api.example.com/v1' }), undefined, DEFAULT_URL);
    assert.deepEqual([other.custom, other.asDeployed, other.baseUrl], [true, false, 'https://api.example.com/v1']);
  });

  it('refuses ${ENV} keys that only a running account resolves, and missing keys', () => {
    assert.equal(refusal(() => decideTarget(parseLookupBody({ apiKey: '${KEY}' }), undefined, DEFAULT_URL)).reason, 'envKey');
    assert.equal(refusal(() => decideTarget(parseLookupBody({ id: 'acc' }), deployed({ running: false, keyUnresolved: true, apiKey: '${KEY}' }), DEFAULT_URL)).reason, 'envKey');
    assert.equal(refusal(() => decideTarget(parseLookupBody({ id: 'acc' }), deployed({ apiKey: undefined }), DEFAULT_URL)).reason, 'noKey');
    assert.equal(refusal(() => decideTarget(parseLookupBody({}), undefined, DEFAULT_URL)).reason, 'noKey');
  });

  it('a stored key of a stopped account is used by a short-lived client, not the running one', () => {
    const d = decideTarget(parseLookupBody({ id: 'acc' }), deployed({ running: false, keyUnresolved: true }), DEFAULT_URL);
    assert.equal(d.asDeployed, false);
    assert.equal(d.apiKey, 'stored-key');
  });

  it('the cache key depends on account, URL and key, and does not contain the key', () => {
    const a = decideTarget(parseLookupBody({ apiKey: 'key-one', baseUrl: DEFAULT_URL }), undefined, DEFAULT_URL);
    const b = decideTarget(parseLookupBody({ apiKey: 'key-two', baseUrl: DEFAULT_URL }), undefined, DEFAULT_URL);
    assert.notEqual(a.cacheKey, b.cacheKey);
    assert.ok(!a.cacheKey.includes('key-one'));
  });
});
