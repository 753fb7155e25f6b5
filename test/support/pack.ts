/**
 * `npm pack` of the working tree, once per mocha run: the packaging tests (Node-RED 4.1, Node-RED 5,
 * Flow Library scorecard) share one tarball instead of packing (and rebuilding, via prepack) each.
 * The tarball lives in its own temp dir, removed when the test process exits; callers must not delete it.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const ROOT = path.resolve(__dirname, '..', '..');

let packed: Promise<string> | undefined;

/** Absolute path of the package tarball, as `npm publish` would upload it. */
export function packOnce(): Promise<string> {
  if (!packed) {
    packed = (async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'leapcraft-tgz-'));
      process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
      const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: ROOT, maxBuffer: 32 * 1024 * 1024 });
      // prepack (clean + build) prints before the JSON.
      const info = JSON.parse(stdout.slice(stdout.indexOf('['))) as Array<{ filename: string }>;
      const tarball = path.join(dir, path.basename(info[0].filename));
      if (!fs.existsSync(tarball)) throw new Error(`npm pack wrote no ${tarball}: ${stdout}`);
      return tarball;
    })();
  }
  return packed;
}

/** Extracts the tarball into `dest`; returns the package directory (`dest/package`). */
export async function extract(tarball: string, dest: string): Promise<string> {
  await run('tar', ['-xzf', tarball, '-C', dest]);
  return path.join(dest, 'package');
}
