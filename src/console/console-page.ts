import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type FastifyInstance, type FastifyReply } from 'fastify';
import { type Logger } from 'pino';
import { PROJECT_ROOT } from '../common/paths';

// The operator console: a single page built by Vite (`npm run build`) into dist/console and served here,
// same-origin only, so it works with no internet. Without a build the server still starts and says so.
export const CONSOLE_DIR = path.join(PROJECT_ROOT, 'dist/console');

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** The console's policy; `imageOrigins` are where presigned image links point when images live in S3. */
export const consolePageCsp = (imageOrigins: string[] = []) =>
  [
    "default-src 'self'",
    ["img-src 'self' data: blob:", ...imageOrigins].join(' '),
    "connect-src 'self'",
    "style-src 'self'",
    "script-src 'self'",
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

export const CONSOLE_PAGE_CSP = consolePageCsp();

const MISSING_PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>vigil console not built</title></head>
<body><h1>The console is not built</h1><p>dist/console is missing: run <code>npm run build</code> and restart vigil.</p></body></html>`;

/** URL → file under dir, for every file of the build: the page at /console, the rest at /console/<path>. */
export function consoleFiles(dir = CONSOLE_DIR): Record<string, { file: string; type: string }> {
  const files: Record<string, { file: string; type: string }> = {};
  const walk = (rel: string) => {
    for (const entry of fs.readdirSync(path.join(dir, rel), { withFileTypes: true })) {
      const file = path.posix.join(rel, entry.name);
      if (entry.isDirectory()) walk(file);
      else if (TYPES[path.extname(entry.name)]) files[`/console/${file}`] = { file, type: TYPES[path.extname(entry.name)] };
    }
  };
  walk('');
  const index = files['/console/index.html'];
  if (index) files['/console'] = index;
  return files;
}

function secure(reply: FastifyReply, csp: string): FastifyReply {
  return reply
    .header('cache-control', 'no-cache')
    .header('content-security-policy', csp)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY');
}

export function registerConsolePage(app: FastifyInstance, log: Logger, options: { imageOrigins?: string[]; dir?: string } = {}): void {
  const csp = consolePageCsp(options.imageOrigins);
  const dir = options.dir ?? CONSOLE_DIR;
  app.get('/console/', async (_request, reply) => reply.redirect('/console'));
  if (!fs.existsSync(path.join(dir, 'index.html'))) {
    log.error({ dir }, 'the operator console is not built (no dist/console/index.html): run npm run build; /console answers 503');
    app.get('/console', async (_request, reply) => secure(reply, csp).code(503).type('text/html; charset=utf-8').send(MISSING_PAGE));
    return;
  }
  for (const [url, { file, type }] of Object.entries(consoleFiles(dir))) {
    const body = fs.readFileSync(path.join(dir, file));
    const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    app.get(url, async (request, reply) => {
      secure(reply, csp).header('etag', etag);
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
}
