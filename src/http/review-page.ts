import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Config } from '../config/config';
import { type FastifyInstance } from 'fastify';
import { PROJECT_ROOT } from '../common/paths';

// The built-in reviewer page: static files, same-origin only, so it works with no internet. Its script
// is the folder's ES modules, served as they are (index.html loads main.js, which imports the rest).
const PAGE_DIR = path.join(PROJECT_ROOT, 'src/reviews/page');

/** URL → file in PAGE_DIR and its content type: the page, its stylesheet and every module (*.js). */
export function reviewPageFiles(): Record<string, { file: string; type: string }> {
  const files: Record<string, { file: string; type: string }> = {
    '/review': { file: 'index.html', type: 'text/html; charset=utf-8' },
    '/review/review.css': { file: 'review.css', type: 'text/css; charset=utf-8' },
  };
  for (const file of fs
    .readdirSync(PAGE_DIR)
    .filter((f) => f.endsWith('.js'))
    .sort()) {
    files[`/review/${file}`] = { file, type: 'text/javascript; charset=utf-8' };
  }
  return files;
}

/** The page's policy; `imageOrigins` are where presigned image links point when images live in S3. */
export const reviewPageCsp = (imageOrigins: string[] = []) =>
  [
    "default-src 'self'",
    ["img-src 'self' data: blob:", ...imageOrigins].join(' '),
    "connect-src 'self'",
    "style-src 'self'",
    "script-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');

export const REVIEW_PAGE_CSP = reviewPageCsp();

/** Origins of presigned GET links for the configured store: none for the local store. */
export function imageOrigins(store: Config['objectStore']): string[] {
  if (store.kind !== 's3') return [];
  if (store.endpoint) return [new URL(store.endpoint).origin];
  return [`https://${store.bucket}.s3.${store.region}.amazonaws.com`, `https://s3.${store.region}.amazonaws.com`];
}

export function registerReviewPage(app: FastifyInstance, options: { imageOrigins?: string[] } = {}): void {
  const csp = reviewPageCsp(options.imageOrigins);
  for (const [url, { file, type }] of Object.entries(reviewPageFiles())) {
    const body = fs.readFileSync(path.join(PAGE_DIR, file));
    const etag = `"${crypto.createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    app.get(url, async (request, reply) => {
      reply
        .header('cache-control', 'no-cache')
        .header('etag', etag)
        .header('content-security-policy', csp)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('x-frame-options', 'DENY');
      if (request.headers['if-none-match'] === etag) return reply.code(304).send();
      return reply.type(type).send(body);
    });
  }
  app.get('/review/', async (_request, reply) => reply.redirect('/review'));
}
