// usage: node scratch/mv.js old1 new1 [old2 new2 ...]  (files or directories, repo-relative)
// Moves with git mv and rewrites relative import specifiers in src, test, bench, scripts.
const fs = require('fs'), path = require('path'), cp = require('child_process');
const root = path.resolve(__dirname, '..');
process.chdir(root);
const args = process.argv.slice(2);
const pairs = []; for (let i = 0; i < args.length; i += 2) pairs.push([args[i], args[i + 1]]);
const walk = (d) => fs.readdirSync(d, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? (e.name === 'node_modules' || e.name === 'generated' ? [] : walk(path.join(d, e.name))) : [path.join(d, e.name)]);
const files = ['src', 'test', 'bench', 'scripts'].filter(fs.existsSync).flatMap(walk).filter((f) => /\.(ts|js|mjs|cjs|tsx)$/.test(f));
// file moves map
const map = new Map();
for (const [o, n] of pairs) {
  if (fs.statSync(o).isDirectory()) for (const f of walk(o)) map.set(path.normalize(f), path.join(n, path.relative(o, f)));
  else map.set(path.normalize(o), path.normalize(n));
}
const exts = ['', '.ts', '.tsx', '.js', '.d.ts', '/index.ts', '/index.js'];
const resolveSpec = (fromFile, spec) => {
  const base = path.normalize(path.join(path.dirname(fromFile), spec));
  for (const e of exts) { const c = base + e; if (fs.existsSync(c) && fs.statSync(c).isFile()) return { file: c, ext: e }; }
  return null;
};
const edits = new Map();
for (const f of files) {
  const src = fs.readFileSync(f, 'utf8');
  const newF = map.get(path.normalize(f)) ?? f;
  let changed = false;
  const out = src.replace(/((?:from|import|require|mock|requireActual|resolve)\s*\(?\s*)(['"])(\.{1,2}\/[^'"]*)\2/g, (m, pre, q, spec) => {
    const r = resolveSpec(f, spec);
    if (!r) return m;
    const target = map.get(path.normalize(r.file)) ?? r.file;
    if (target === r.file && newF === f) return m;
    let t = target;
    if (r.ext.startsWith('/index') && /\/index\.(ts|js)$/.test(t)) t = t.replace(/\/index\.(ts|js)$/, ''); else if (r.ext) t = t.replace(/\.(d\.ts|ts|tsx|js)$/, '');
    let rel = path.relative(path.dirname(newF), t);
    if (!rel.startsWith('.')) rel = './' + rel;
    if (rel === spec) return m;
    changed = true;
    return pre + q + rel + q;
  });
  if (changed) edits.set(f, out);
}
for (const [f, s] of edits) fs.writeFileSync(f, s);
for (const [o, n] of pairs) { fs.mkdirSync(path.dirname(n), { recursive: true }); cp.execSync(`git mv ${o} ${n}`); }
console.log(`moved ${pairs.length}, rewrote imports in ${edits.size} files`);
