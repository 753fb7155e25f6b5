/**
 * The package's own name, version and home page: the client's User-Agent and the Home
 * Assistant bridge's `origin` say which release is talking.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const PACKAGE_NAME = 'node-red-contrib-leapcraft';

export interface PackageInfo {
  name: string;
  version: string;
  homepage?: string;
}

function read(): PackageInfo {
  // lib/ runs from the source tree in tests and from dist/lib once built.
  for (const dir of [path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Partial<PackageInfo>;
      if (pkg.name === PACKAGE_NAME && typeof pkg.version === 'string') {
        return { name: PACKAGE_NAME, version: pkg.version, ...(typeof pkg.homepage === 'string' ? { homepage: pkg.homepage } : {}) };
      }
    } catch {
      // not here: try the next location
    }
  }
  return { name: PACKAGE_NAME, version: '0' };
}

export const packageInfo: PackageInfo = read();
