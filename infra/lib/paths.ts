import fs from 'node:fs';
import path from 'node:path';

/** The infra folder (the one with cdk.json), whether this runs from source (tests) or compiled under infra/build. */
export const INFRA_DIR = (() => {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'cdk.json'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`no cdk.json above ${__dirname}`);
  }
})();

export const REPO_ROOT = path.dirname(INFRA_DIR);

/**
 * The docker build context of an image built from the repository: everything excluded but what both Dockerfiles
 * copy (plus `extra`), so unrelated files neither slow synth nor change an image's hash.
 */
export function imageContext(extra: string[] = []): string[] {
  const copied = [
    'package.json',
    'package-lock.json',
    'prisma.config.ts',
    'tsconfig.json',
    'tsconfig.image.json',
    'scripts',
    'prisma',
    'src',
    'workflows',
  ];
  return ['*', ...[...extra, ...copied].map((f) => `!${f}`), 'src/generated'];
}
