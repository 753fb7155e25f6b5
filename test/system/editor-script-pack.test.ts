/** The package ships the shared editor script and the generated rules (npm pack --dry-run). */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const ROOT = path.join(__dirname, '..', '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };

describe('packaging of the editor script', () => {
  it('package.json "files" ships resources/, and npm pack includes the script', async function () {
    this.timeout(60_000);
    assert.ok(pkg.files.includes('resources'));
    const { stdout } = await promisify(execFile)('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
    const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ files: Array<{ path: string }> }>;
    assert.ok(info[0].files.some((f) => f.path === 'resources/leapcraft-editor.js'));
    // Generated and git-ignored, yet shipped: package.json "files" names resources/, and prepack builds.
    assert.ok(info[0].files.some((f) => f.path === 'resources/leapcraft-rules.js'), 'the generated rules are not packed');
  });
});
