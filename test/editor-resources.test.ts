/**
 * The shared editor script resources/leapcraft-editor.js: its validators give the runtime's
 * answers (lib/api/validation.ts), every node's editor loads it and keeps its literal
 * registerType (the Flow Library scorecard reads it), every i18n key the editor uses exists
 * in both catalogs, and the package ships the script.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import vm from 'node:vm';
import {
  integerInRange, limitOrAll, optionalId, parseDateTime, requireId, validateBaseUrl,
} from '../lib';
import { parseIdList } from '../nodes/common/ids';

// eslint-disable-next-line @typescript-eslint/no-require-imports
const acorn = require('acorn') as { parse(source: string, options: { ecmaVersion: number }): unknown };

const ROOT = path.join(__dirname, '..');
const SCRIPT_FILE = path.join(ROOT, 'resources', 'leapcraft-editor.js');
const SCRIPT_TAG = '<script src="resources/node-red-contrib-leapcraft/leapcraft-editor.js"></script>';
const LANGS = ['en-US', 'de'];
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[]; 'node-red': { nodes: Record<string, string> } };
const TYPES = Object.keys(pkg['node-red'].nodes);

type Check = (v: unknown) => boolean;
interface Editor {
  MODULE: string;
  isId: Check; isOptionalId: Check; firstInvalidId(v: unknown): string | null; splitIds(v: unknown): string[];
  isInterval: Check; isLimit: Check; isIntegerInRange(v: unknown, min: number, max: number): boolean;
  parseDateTime(v: unknown, now?: number): number; isDateTime(v: unknown, now?: number): boolean;
  checkBaseUrl(v: unknown): true | string; isLoopbackHost(h: string): boolean;
  i18n(type: string): (key: string, params?: object) => string;
  common(key: string, params?: object): string;
  errorText(err: object): string;
  devicePicker(options: object): unknown;
}

const SOURCE = fs.readFileSync(SCRIPT_FILE, 'utf8');

/** The script as a browser runs it: a window, the editor's RED (optional), no Node globals. */
function loadEditor(extra: Record<string, unknown> = {}): { editor: Editor; context: vm.Context } {
  const window: Record<string, unknown> = {};
  const context = vm.createContext({ window, URL, console, ...extra });
  vm.runInContext(SOURCE, context, { filename: SCRIPT_FILE });
  return { editor: window.LeapcraftEditor as Editor, context };
}

function accepts(fn: () => unknown): boolean {
  try {
    fn();
    return true;
  } catch {
    return false;
  }
}

// ---- sample inputs -----------------------------------------------------------------------

const IDS: unknown[] = [
  'D2:C1:AA:FF:3E:09', 'testsim00004', ' testsim00004 ', '0123245cf74c60d7ee', 'Büro-Sensor €', 'a/b', '../auth/client/token',
  '%2e%2e', 'a b', '', ' ', '\t', '.', '..', ' .. ', '...', 'x'.repeat(256), 'x'.repeat(257), ` ${'x'.repeat(256)} `,
  'a\nb', 'a\u0000b', 'a\u007fb', 'a\u0085b', 'a\u009fb', 'a\u00a0b', '\u00a0id\u00a0', '\u2028', 'a,b', 42, 0, -1, 3.5,
];
const ID_LISTS: unknown[] = [
  '', ' ', ',', ' , , ', 'a', 'a,b', 'a, b ,c', 'D2:C1:AA:FF:3E:09, testsim00004', 'a,,b', 'a,..', '.,b', `a,${'x'.repeat(257)}`,
  'a\u0000,b', 'a,b\n', 'a\nb,c', ' . ', 'a, .. , b',
];
const INTEGERS: unknown[] = [
  '0', '1', '60', ' 60 ', '+60', '-0', '-1', '-2', '604800', '604801', '1e3', '1.5', '1.0', '0x10', '', ' ', 'abc', '60s', '07',
  '9007199254740991', '9007199254740993', '99999999999999999999', '- 1', '+-1', 0, 1, 60, -1, -2, 1.5, 604800, 604801, NaN, Infinity, -0,
];
const DATE_TIMES: unknown[] = [
  'now', 'NOW', ' now ', '-15m', '-24h', '-7d', '-2w', '-30s', '-1.5h', '- 7 d', '-7D', '+7d', '7d', '-7y', '-100000w',
  '2021-05-26T00:00:00.000', '2021-05-27T11:42:58.721', '2026-03-29T15:24:05Z', '2026-03-29T15:24:05z', '2026-03-29T17:24:05+02:00',
  '2026-03-29T17:24:05+0200', '2026-03-29T17:24:05-05:30', '2026-03-29T17:24:05+19:00', '2026-03-29T17:24:05+18:00', '2026-03-29',
  '2026-03-29 15:24', '2026-03-29T15:24', '2026-03-29T15', '2026-02-28T23:59:59.999999999', '2024-02-29', '2026-02-29', '2026-02-30T00:00:00',
  '2026-13-01', '2026-00-10', '2026-01-01T24:00:00', '2026-01-01T23:60:00', '2026-01-01T23:59:60', '1970-01-01T00:00:00Z',
  '1969-12-31T23:59:59Z', '1970-01-01T00:30:00+01:00', '9999-12-31T23:59:59.999Z', '9999-12-31T23:59:59-01:00', '10000-01-01',
  '12/03/2026', 'yesterday', '', ' ', '2026-03-29T15:24:05.1234567890Z', ' 2026-03-29 ', '2026-3-29',
];
const BASE_URLS: string[] = [
  'https://api.leapcraft.com/v1', 'https://api.leapcraft.com/v1/', ' https://api.leapcraft.com/v1 ', 'HTTPS://API.LEAPCRAFT.COM/v1',
  'http://127.0.0.1:8787/v1', 'http://localhost:8787/v1', 'http://LOCALHOST/v1', 'http://[::1]:8787/v1', 'http://127.1.2.3/v1',
  'http://127.0.0.1.example.com/v1', 'http://localhost.example.com/v1', 'http://example.com', 'http://10.0.0.5/v1', 'http://0.0.0.0/v1',
  'http://2130706433/v1', 'http://0x7f.0.0.1/v1', 'ftp://example.com', 'file:///etc/passwd', 'ws://localhost', 'javascript:alert(1)',
  'https://user:pw@api.leapcraft.com/v1', 'https://user@api.leapcraft.com/v1', 'https://api.leapcraft.com/v1?x=1', 'https://api.leapcraft.com/v1#f',
  'https://api.leapcraft.com/v1?', 'https://api.leapcraft.com/v1#', 'api.leapcraft.com/v1', '', ' ', 'https://', 'https:///x', 'http://[::1', 'https://exa mple.com',
];

describe('editor script resources/leapcraft-editor.js', () => {
  it('is plain ES5-style browser JavaScript defining window.LeapcraftEditor once (idempotent)', () => {
    assert.match(SOURCE, /^window\.LeapcraftEditor = window\.LeapcraftEditor \|\| /m);
    // ES5 syntax (acorn, which the Flow Library scorecard also uses, in ES5 mode).
    assert.doesNotThrow(() => acorn.parse(SOURCE, { ecmaVersion: 5 }));
    assert.doesNotMatch(SOURCE, /\brequire\(|\bprocess\./);
    const { editor, context } = loadEditor();
    assert.equal(editor.MODULE, 'node-red-contrib-leapcraft');
    // Loaded again (every node's html references it): the first definition stays.
    vm.runInContext(SOURCE, context);
    assert.equal((context.window as Record<string, unknown>).LeapcraftEditor, editor);
  });

  describe('validators: the runtime\'s answers (lib/api/validation.ts)', () => {
    const { editor } = loadEditor();

    it('ids (requireId, optionalId)', () => {
      for (const v of IDS) {
        assert.equal(editor.isId(v), accepts(() => requireId(v, 'id')), `isId(${JSON.stringify(v)})`);
        assert.equal(editor.isOptionalId(v), accepts(() => optionalId(v, 'id')), `isOptionalId(${JSON.stringify(v)})`);
      }
      assert.equal(editor.isOptionalId(undefined), true);
      assert.equal(editor.isOptionalId(null), true);
    });

    it('comma-separated id lists (parseIdList)', () => {
      for (const v of [...ID_LISTS, ...IDS.filter((x) => typeof x === 'string')]) {
        assert.equal(editor.firstInvalidId(v) === null, accepts(() => parseIdList(v, 'devices')), `list ${JSON.stringify(v)}`);
        if (accepts(() => parseIdList(v, 'devices'))) {
          assert.deepEqual([...new Set(editor.splitIds(v))], parseIdList(v, 'devices'));
        }
      }
      assert.equal(editor.firstInvalidId('a, .. , b'), '..');
    });

    it('intervals (integer 0..604800), integer ranges and limits (-1 or >= 1)', () => {
      for (const v of INTEGERS) {
        const shown = typeof v === 'string' ? JSON.stringify(v) : String(v);
        assert.equal(editor.isInterval(v), accepts(() => integerInRange(v, 'interval', 0, 604800)), `interval ${shown}`);
        assert.equal(editor.isIntegerInRange(v, 1, 50), accepts(() => integerInRange(v, 'limit', 1, 50)), `1..50 ${shown}`);
        assert.equal(editor.isLimit(v), accepts(() => limitOrAll(v, 'limit')), `limit ${shown}`);
      }
    });

    it('date-times: ISO 8601 with or without zone (zone-less = UTC), now, -15m/-24h/-7d/-2w', () => {
      const now = Date.UTC(2026, 2, 29, 12, 0, 0);
      for (const v of DATE_TIMES) {
        let expected = NaN;
        try {
          expected = parseDateTime(v, 'from', now).getTime();
        } catch {
          // refused
        }
        const got = editor.parseDateTime(v, now);
        assert.ok(Object.is(got, expected) || got === expected, `${JSON.stringify(v)}: editor ${got}, runtime ${expected}`);
        assert.equal(editor.isDateTime(v, now), !Number.isNaN(expected));
      }
      assert.equal(editor.parseDateTime('2021-05-26T00:00:00.000', now), Date.UTC(2021, 4, 26));
    });

    it('base URLs: https, or plain http to loopback only; no credentials, query or fragment', () => {
      for (const v of BASE_URLS) {
        let runtime: true | string = true;
        try {
          validateBaseUrl(v);
        } catch (err) {
          runtime = (err as Error).message;
        }
        const got = editor.checkBaseUrl(v);
        assert.equal(got === true, runtime === true, `${JSON.stringify(v)}: editor ${got}, runtime ${runtime}`);
        // The editor's reason names the runtime's.
        if (got === 'insecureBaseUrl') assert.match(String(runtime), /plain http/);
        if (got === 'baseUrlParts') assert.match(String(runtime), /user name or password|query or fragment/);
        if (got === 'baseUrl') assert.match(String(runtime), /not a URL|not supported|must not be empty/);
      }
    });
  });

  describe('texts', () => {
    it('falls back to the key without an editor; uses the node type\'s and the common catalog with one', () => {
      assert.equal(loadEditor().editor.i18n('leapcraft-devices')('leapcraft-devices.label.name'), 'leapcraft-devices.label.name');
      const calls: string[] = [];
      const RED = {
        _: (key: string) => { calls.push(key); return key.endsWith('editor.picker.refresh') ? 'Reload' : key; },
        nodes: { getType: (type: string) => ({ _: (key: string) => `${type}|${key}` }) },
      };
      const { editor } = loadEditor({ RED });
      assert.equal(editor.i18n('leapcraft-devices')('leapcraft-devices.label.name'), 'leapcraft-devices|leapcraft-devices.label.name');
      assert.equal(editor.common('editor.picker.refresh'), 'Reload');
      assert.deepEqual(calls, ['node-red-contrib-leapcraft/leapcraft-config:common.editor.picker.refresh']);
      assert.equal(editor.common('editor.nothing'), 'common.editor.nothing');
    });

    it('explains failed look-ups by reason, code, permission and transport', () => {
      // The editor's RED._ over the real catalog: a missing key comes back as the key.
      const texts = catalog('en-US', 'leapcraft-config');
      const RED = {
        _: (key: string, params?: Record<string, unknown>) => {
          const text = lookupKey(texts, key.slice(key.indexOf(':') + 1));
          return typeof text === 'string' ? text.replace(/__(\w+)__/g, (_m, p: string) => String(params?.[p])) : key;
        },
      };
      const { editor } = loadEditor({ RED });
      assert.match(editor.errorText({ status: 400, code: 'LEAPCRAFT_INVALID_INPUT', reason: 'noKey', message: 'x' }), /^No API key available for this account: deploy the account first/);
      assert.equal(editor.errorText({ status: 401, code: 'LEAPCRAFT_AUTH', message: 'refused' }), 'authentication failed: refused');
      assert.equal(editor.errorText({ status: 500, code: 'LEAPCRAFT_ERROR', message: 'internal error' }), 'error: internal error');
      assert.match(editor.errorText({ status: 401, message: 'error' }), /^Not permitted/);
      assert.equal(editor.errorText({ status: 0, message: 'timeout' }), 'Node-RED did not answer the look-up.');
      assert.equal(editor.errorText({ status: 404, message: 'error' }), 'The look-up failed (HTTP 404).');
      assert.equal(editor.common('editor.testConnection.nothing'), 'common.editor.testConnection.nothing');
    });
  });
});

// ---- the node editors ------------------------------------------------------------------------

const JS_BLOCK = /<script\s+type=["']text\/javascript["'][^>]*>([\s\S]*?)<\/script>/g;

function htmlOf(type: string): string {
  return fs.readFileSync(path.join(ROOT, 'nodes', `${type}.html`), 'utf8');
}

interface EditorDef {
  defaults: Record<string, { value?: unknown; validate?: (this: unknown, v: unknown, opt?: unknown) => unknown }>;
  label?: (this: unknown) => string;
}

/** Runs a node's editor scripts with the shared script loaded first and a minimal RED. */
function editorDefs(type: string): Map<string, EditorDef> {
  const defs = new Map<string, EditorDef>();
  const RED = {
    _: (key: string) => key,
    nodes: {
      registerType: (t: string, def: EditorDef) => { defs.set(t, def); },
      getType: (t: string) => (defs.has(t) ? { ...defs.get(t), _: (key: string, params?: Record<string, unknown>) => (params ? `${key} ${JSON.stringify(params)}` : key) } : null),
    },
  };
  const window: Record<string, unknown> = { RED };
  const context = vm.createContext({ window, RED, URL, console });
  vm.runInContext(SOURCE, context);
  for (const m of htmlOf(type).matchAll(JS_BLOCK)) vm.runInContext(m[1], context, { filename: `${type}.html` });
  return defs;
}

describe('node editors (nodes/*.html)', () => {
  for (const type of TYPES) {
    describe(type, () => {
      const html = htmlOf(type);

      it('loads the shared script (relative URL) before its own script', () => {
        const tag = html.indexOf(SCRIPT_TAG);
        assert.ok(tag !== -1, 'no <script src> of the shared editor script');
        assert.ok(tag < html.search(/<script\s+type=["']text\/javascript["']/), 'the shared script comes after the node\'s script');
        assert.doesNotMatch(html, /src=["']\/resources\//, 'an absolute URL breaks with httpAdminRoot');
      });

      it('keeps its literal registerType inside <script type="text/javascript"> (Flow Library scorecard)', () => {
        // The scorecard's own pattern (node-red-dev checknodes.js).
        const blocks = [...html.matchAll(/<script.+?type=['"]text\/javascript['"].*?>([\S\s]*?)<\/script>/ig)].map((m) => m[1]);
        assert.ok(blocks.some((b) => b.includes(`RED.nodes.registerType('${type}', {`)), 'literal registerType not found');
      });

      it('no longer carries its own copies of the shared helpers', () => {
        for (const copy of [/function t\(/, /CONTROL_CHARS\s*=/, /MAX_ID_LENGTH\s*=/, /ISO_DATE_TIME\s*=/, /LOOPBACK_HOST\s*=/, /\^\\s\*\[-\+\]\?\\d\+/]) {
          assert.doesNotMatch(html, copy);
        }
      });

      it('registers with validators that run on the shared script', () => {
        const def = editorDefs(type).get(type);
        assert.ok(def, 'not registered');
        for (const [prop, spec] of Object.entries(def.defaults)) {
          if (typeof spec.validate !== 'function') continue;
          const node: Record<string, unknown> = {};
          for (const [k, s] of Object.entries(def.defaults)) node[k] = s.value;
          assert.equal(spec.validate.call(node, spec.value), true, `${prop}: its default is refused`);
        }
      });
    });
  }

  it('each validator gives the runtime\'s answer for its setting', () => {
    const check = (type: string, prop: string, value: unknown, node: Record<string, unknown> = {}) => {
      const def = editorDefs(type).get(type)!;
      const result = def.defaults[prop].validate!.call(node, value);
      return result === true;
    };
    for (const v of ['', 'D2:C1:AA:FF:3E:09', '..', 'a\u0000', 'x'.repeat(257)]) {
      assert.equal(check('leapcraft-devices', 'physicalId', v), accepts(() => optionalId(v, 'id')));
      assert.equal(check('leapcraft-notifications', 'physicalId', v), accepts(() => optionalId(v, 'id')));
      assert.equal(check('leapcraft-topology', 'topologyId', v), accepts(() => optionalId(v, 'id')));
    }
    for (const v of ['', 'a, b', 'a, ..', `a, ${'x'.repeat(257)}`]) {
      assert.equal(check('leapcraft-telemetry', 'devices', v), accepts(() => parseIdList(v, 'devices')));
    }
    for (const v of ['0', '60', '604801', '-1', '1.5']) {
      assert.equal(check('leapcraft-telemetry', 'interval', v), accepts(() => integerInRange(v, 'interval', 0, 604800)));
      assert.equal(check('leapcraft-notifications', 'interval', v), accepts(() => integerInRange(v, 'interval', 0, 604800)));
    }
    for (const v of ['-1', '0', '1', '10', 'x']) assert.equal(check('leapcraft-things', 'limit', v), accepts(() => limitOrAll(v, 'limit')));
    for (const v of BASE_URLS) assert.equal(check('leapcraft-config', 'baseUrl', v), accepts(() => validateBaseUrl(v)), v);
    const averages = { telemetryType: 'averages', to: 'now' };
    for (const v of ['-7d', '2026-02-30', 'yesterday', '2021-05-26T00:00:00.000']) {
      assert.equal(check('leapcraft-telemetry', 'from', v, averages), accepts(() => parseDateTime(v, 'from')));
    }
    assert.equal(check('leapcraft-telemetry', 'from', '', averages), false, 'required for averages');
    assert.equal(check('leapcraft-telemetry', 'from', '', { telemetryType: 'latest' }), true);
    assert.equal(check('leapcraft-telemetry', 'from', '-1d', { telemetryType: 'averages', to: '-7d' }), false, 'from after to');
    // The messages name the offending id.
    const def = editorDefs('leapcraft-telemetry').get('leapcraft-telemetry')!;
    assert.equal(def.defaults.devices.validate!.call({}, 'a, ..'), 'leapcraft-telemetry.validation.devices {"id":".."}');
    const _ = (key: string, params?: object) => `${key} ${JSON.stringify(params)}`;
    assert.equal(def.label!.call({ devices: 'a, b, c', _ }), 'leapcraft-telemetry.labelDevices {"count":3}');
    assert.equal(def.label!.call({ devices: ' D2:C1:AA:FF:3E:09 ', _ }), 'D2:C1:AA:FF:3E:09');
  });
});

// ---- i18n ------------------------------------------------------------------------------------

function catalog(lang: string, type: string): Record<string, unknown> {
  return JSON.parse(fs.readFileSync(path.join(ROOT, 'locales', lang, `${type}.json`), 'utf8')) as Record<string, unknown>;
}

function lookupKey(tree: Record<string, unknown>, key: string): unknown {
  let node: unknown = tree;
  for (const part of key.split('.')) node = node && typeof node === 'object' ? (node as Record<string, unknown>)[part] : undefined;
  return node;
}

function leafKeys(tree: unknown, prefix = ''): string[] {
  if (!tree || typeof tree !== 'object') return [prefix];
  return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => leafKeys(v, prefix ? `${prefix}.${k}` : k));
}

const ERROR_CODES = ['LEAPCRAFT_AUTH', 'LEAPCRAFT_NOT_FOUND', 'LEAPCRAFT_RATE_LIMITED', 'LEAPCRAFT_BAD_REQUEST', 'LEAPCRAFT_UNAVAILABLE',
  'LEAPCRAFT_TIMEOUT', 'LEAPCRAFT_INVALID_INPUT', 'LEAPCRAFT_BAD_RESPONSE', 'LEAPCRAFT_ABORTED', 'unknown'];

/** The keys built at run time from a prefix, which no literal in the sources shows. */
const DYNAMIC_KEYS: Record<string, string[]> = {
  'leapcraft-config': ['leapcraft-config.validation.baseUrl', 'leapcraft-config.validation.insecureBaseUrl', 'leapcraft-config.validation.baseUrlParts',
    ...['noKey', 'envKey', 'storedKeyElsewhere'].map((r) => `common.editor.reason.${r}`), ...ERROR_CODES.map((c) => `common.error.${c}`)],
  'leapcraft-telemetry': ['device', 'array', 'metric'].map((m) => `leapcraft-telemetry.outputLabel.${m}`),
};

describe('i18n of the editors', () => {
  /** Keys an editor uses, by the catalog (node type) they belong to. */
  function usedKeys(): Map<string, Set<string>> {
    const used = new Map<string, Set<string>>(TYPES.map((t) => [t, new Set(DYNAMIC_KEYS[t] ?? [])]));
    for (const type of TYPES) {
      const html = htmlOf(type);
      for (const m of html.matchAll(/data-i18n="([^"]+)"/g)) {
        for (const part of m[1].split(';')) used.get(type)!.add(part.replace(/^\[[^\]]+\]/, ''));
      }
      for (const m of html.matchAll(/\b(?:t|this\._)\(\s*"([^"]+)"\s*[,)]/g)) used.get(type)!.add(m[1]);
    }
    for (const m of SOURCE.matchAll(/\bcommon\(\s*"([^"]+)"\s*[,)]/g)) used.get('leapcraft-config')!.add(`common.${m[1]}`);
    return used;
  }

  it('the scan finds the new texts', () => {
    const used = usedKeys();
    for (const key of ['leapcraft-config.testConnection.button', 'leapcraft-config.testConnection.ok', 'common.editor.picker.refresh', 'common.editor.picker.noAccount']) {
      assert.ok(used.get('leapcraft-config')!.has(key), key);
    }
  });

  for (const lang of LANGS) {
    it(`every key the editors use exists in ${lang}`, () => {
      const missing: string[] = [];
      for (const [type, keys] of usedKeys()) {
        const tree = catalog(lang, type);
        for (const key of keys) if (typeof lookupKey(tree, key) !== 'string') missing.push(`${type}: ${key}`);
      }
      assert.deepEqual(missing, []);
    });
  }

  it('en-US and de have the same keys in every catalog', () => {
    for (const type of TYPES) {
      assert.deepEqual(leafKeys(catalog('de', type)).sort(), leafKeys(catalog('en-US', type)).sort(), type);
    }
  });

  it('the help mentions the test button and the device pickers, in both languages', () => {
    const help = (lang: string, type: string) => fs.readFileSync(path.join(ROOT, 'locales', lang, `${type}.html`), 'utf8');
    assert.match(help('en-US', 'leapcraft-config'), /<h4>Test connection<\/h4>/);
    assert.match(help('de', 'leapcraft-config'), /<h4>Verbindung testen<\/h4>/);
    for (const lang of LANGS) {
      for (const type of ['leapcraft-devices', 'leapcraft-telemetry', 'leapcraft-notifications']) {
        assert.match(help(lang, type), /fa-refresh/, `${lang} ${type}`);
      }
    }
  });
});

describe('packaging of the editor script', () => {
  it('package.json "files" ships resources/, and npm pack includes the script', async function () {
    this.timeout(60_000);
    assert.ok(pkg.files.includes('resources'));
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
    const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ files: Array<{ path: string }> }>;
    assert.ok(info[0].files.some((f) => f.path === 'resources/leapcraft-editor.js'));
  });
});
