#!/usr/bin/env node
'use strict';
// The size limits of ARCHITECTURE.md: no file in src over 400 lines, no function over 80 lines
// (generated code aside). Prints what is over and exits 1; otherwise prints one line.
const fs = require('node:fs');
const path = require('node:path');
const ts = require('typescript');

const FILE_LIMIT = 400;
const FUNCTION_LIMIT = 80;
const root = path.resolve(__dirname, '..');

function sources(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'generated' ? [] : sources(full);
    return /\.(ts|js)$/.test(entry.name) && !entry.name.endsWith('.d.ts') ? [full] : [];
  });
}

const isFunction = (node) =>
  ts.isFunctionDeclaration(node) ||
  ts.isMethodDeclaration(node) ||
  ts.isArrowFunction(node) ||
  ts.isFunctionExpression(node) ||
  ts.isConstructorDeclaration(node) ||
  ts.isGetAccessorDeclaration(node) ||
  ts.isSetAccessorDeclaration(node);

function nameOf(node, file) {
  if (node.name) return node.name.getText(file);
  const parent = node.parent;
  if (parent && (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)))
    return parent.name.getText(file);
  return ts.isConstructorDeclaration(node) ? 'constructor' : '(anonymous function)';
}

const problems = [];
let functions = 0;
const files = sources(path.join(root, 'src'));
for (const full of files) {
  const rel = path.relative(root, full);
  const text = fs.readFileSync(full, 'utf8');
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
  if (lines > FILE_LIMIT) problems.push(`${rel}: ${lines} lines (at most ${FILE_LIMIT})`);
  const file = ts.createSourceFile(full, text, ts.ScriptTarget.Latest, true, full.endsWith('.js') ? ts.ScriptKind.JS : ts.ScriptKind.TS);
  const visit = (node) => {
    if (isFunction(node) && node.body) {
      functions++;
      const first = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
      const last = file.getLineAndCharacterOfPosition(node.body.getEnd()).line + 1;
      if (last - first + 1 > FUNCTION_LIMIT)
        problems.push(`${rel}:${first}: ${nameOf(node, file)} spans ${last - first + 1} lines (at most ${FUNCTION_LIMIT})`);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
}
if (problems.length > 0) {
  console.error(`sizes: ${problems.length} over the limits of ARCHITECTURE.md:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(
  `sizes: ${files.length} files and ${functions} functions in src within ${FILE_LIMIT} lines per file and ${FUNCTION_LIMIT} per function`,
);
