import { createHash } from 'node:crypto';

/**
 * Which dataset an image belongs to: a hash of its id, so an image never changes sides between
 * exports (a relabelled image replaces its own entry instead of leaking into the other dataset).
 */
export function splitFor(imageId: string, testShare: number): 'TRAIN' | 'TEST' {
  if (!(testShare >= 0 && testShare <= 1)) throw new RangeError(`testShare must be between 0 and 1, got ${testShare}`);
  // 48 bits of the digest as a uniform number in [0, 1).
  const position = createHash('sha256').update(imageId, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48;
  return position < testShare ? 'TEST' : 'TRAIN';
}
