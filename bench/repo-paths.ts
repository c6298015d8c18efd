import path from 'node:path';
import { PROJECT_ROOT } from '../src/common/paths';

/**
 * A path as bench result files record it: relative to the repository root, with `/` separators
 * (`../shared/datasets/magnetic-tile`, `bench/results/loop-x.png`), never the absolute path of the
 * machine that ran the bench. A relative `p` is taken from the current directory, as on the command line.
 */
export function repoRelative(p: string): string {
  return path.relative(PROJECT_ROOT, path.resolve(p)).split(path.sep).join('/') || '.';
}
