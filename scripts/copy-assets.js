#!/usr/bin/env node
// Node-RED loads a node's editor html, message catalogs, help and icons from beside its
// .js file, so the build puts them next to the compiled nodes in dist/nodes/.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'dist', 'nodes');
fs.mkdirSync(out, { recursive: true });

for (const file of fs.readdirSync(path.join(root, 'nodes'))) {
  if (file.endsWith('.html')) fs.copyFileSync(path.join(root, 'nodes', file), path.join(out, file));
}
for (const dir of ['locales', 'icons']) {
  const from = path.join(root, dir);
  if (fs.existsSync(from)) fs.cpSync(from, path.join(out, dir), { recursive: true });
}
// The package's bins (package.json "bin"): executable, as npm links them.
for (const cli of [path.join(root, 'dist', 'simulator', 'cli.js'), path.join(root, 'dist', 'lib', 'doctor', 'cli.js')]) {
  if (fs.existsSync(cli)) fs.chmodSync(cli, 0o755);
}
