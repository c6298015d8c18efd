#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');

const entry = path.join(__dirname, '..', 'dist', 'src', 'app', 'cli.js');
if (!fs.existsSync(entry)) {
  process.stderr.write('vigil: not built yet; run `npm install` (or `npm run build`) in the checkout first\n');
  process.exit(1);
}
require(entry).run();
