#!/usr/bin/env node
'use strict';
// npm start's prestart. The TypeScript is compiled at install (`prepare`); a start compiles again only when a source
// or a tsconfig is newer than dist/src/main.js, so a start with nothing changed costs a directory walk, not a build.
// The same goes for the embedded database's template, which the build writes.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const INPUTS = ['src', 'tsconfig.json', 'tsconfig.build.json'];

// A directory's own mtime counts too: it changes when a file in it is added, removed or renamed.
function newestMtime(p) {
  const stat = fs.statSync(p);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return fs.readdirSync(p).reduce((max, name) => Math.max(max, newestMtime(path.join(p, name))), stat.mtimeMs);
}

const mtime = (p) => (fs.existsSync(p) ? fs.statSync(p).mtimeMs : 0);

const target = path.join(root, 'dist/src/main.js');
const builtAt = mtime(target);
const changed = INPUTS.map((p) => path.join(root, p)).filter((p) => fs.existsSync(p) && newestMtime(p) > builtAt);
if (changed.length > 0) {
  console.log(
    builtAt
      ? `changed since the last build (${changed.map((p) => path.relative(root, p)).join(', ')}): building`
      : 'no build yet: building',
  );
  const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

// The migrated template a new embedded database is copied from (src/db/pglite-template.ts): made again when a
// migration or the template code is newer. The server checks it too and falls back to running the migrations.
const templateAt = mtime(path.join(root, 'dist/pglite-template/manifest.json'));
const templateInputs = [path.join(root, 'prisma/migrations'), path.join(root, 'dist/src/db/pglite-template.js')];
if (templateInputs.some((p) => fs.existsSync(p) && newestMtime(p) > templateAt)) {
  const result = spawnSync(process.execPath, [path.join(root, 'dist/src/db/pglite-template.js')], { cwd: root, stdio: 'inherit' });
  process.exit(result.status ?? 1);
}
