#!/usr/bin/env node
'use strict';
// npm start's prestart. The TypeScript is compiled at install (`prepare`); a start compiles again only when a source
// or a tsconfig is newer than dist/src/main.js, so a start with nothing changed costs a directory walk, not a build.
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

const target = path.join(root, 'dist/src/main.js');
const builtAt = fs.existsSync(target) ? fs.statSync(target).mtimeMs : 0;
const changed = INPUTS.map((p) => path.join(root, p)).filter((p) => fs.existsSync(p) && newestMtime(p) > builtAt);
if (changed.length === 0) process.exit(0);
console.log(
  builtAt ? `changed since the last build (${changed.map((p) => path.relative(root, p)).join(', ')}): building` : 'no build yet: building',
);
const result = spawnSync('npm', ['run', '-s', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(result.status ?? 1);
