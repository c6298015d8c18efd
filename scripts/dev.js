#!/usr/bin/env node
'use strict';
// npm run dev: `tsc --watch` recompiles what changed, and the server runs under `node --watch`, which restarts it when
// a file it loaded is rewritten. The server starts once the first compile is done. NODE_ENV is development unless set.
// The console's web bundle (vite) is built by `npm run build` only: run it after editing src/console/web.
const { spawn, spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const tsc = require.resolve('typescript/bin/tsc');
const children = [];

function stopAll(code) {
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  process.exitCode = code;
}

// The full build (with the console's bundle) only when something changed since the last one, as npm start does.
const prebuild = spawnSync(process.execPath, [path.join(__dirname, 'build-if-stale.js')], { cwd: root, stdio: 'inherit' });
if (prebuild.status !== 0) process.exit(prebuild.status ?? 1);
// The build info lets a later `npm run dev` skip what has not changed since.
const watchArgs = [
  '-p',
  'tsconfig.build.json',
  '--watch',
  '--preserveWatchOutput',
  '--incremental',
  '--tsBuildInfoFile',
  'dist/.dev.tsbuildinfo',
];
const compiler = spawn(process.execPath, [tsc, ...watchArgs], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
});
children.push(compiler);
let server = null;
compiler.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  // tsc prints "Found N errors. Watching for file changes." after each compile.
  if (server || !/Watching for file changes/.test(chunk.toString())) return;
  server = spawn(process.execPath, ['--watch', '--enable-source-maps', 'dist/src/main.js'], {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: process.env.NODE_ENV || 'development' },
  });
  children.push(server);
  server.on('exit', (code) => stopAll(code ?? 0));
});
compiler.on('exit', (code) => stopAll(code ?? 1));
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => stopAll(0));
// npm does not always pass a SIGTERM on: when it is gone, stop rather than leave a compiler and a server behind.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && stopAll(0), 1000).unref();
