#!/usr/bin/env node
'use strict';
// `prisma generate` needs no schema engine, but Prisma 7's CLI fetches one unless this names an
// executable; these machines cannot reach the download host. Point it at node itself.
const { spawnSync } = require('node:child_process');

const env = {
  ...process.env,
  PRISMA_SCHEMA_ENGINE_BINARY: process.env.PRISMA_SCHEMA_ENGINE_BINARY || process.execPath,
  PRISMA_HIDE_UPDATE_MESSAGE: '1',
};
const cli = require.resolve('prisma/build/index.js');
const result = spawnSync(process.execPath, [cli, 'generate'], { stdio: 'inherit', env });
process.exit(result.status ?? 1);
