import { unitHash } from '../common/unit-hash';

/**
 * Which dataset an image belongs to: a hash of its id, so an image never changes sides between
 * exports (a relabelled image replaces its own entry instead of leaking into the other dataset).
 */
export function splitFor(imageId: string, testShare: number): 'TRAIN' | 'TEST' {
  if (!(testShare >= 0 && testShare <= 1)) throw new RangeError(`testShare must be between 0 and 1, got ${testShare}`);
  return unitHash(imageId) < testShare ? 'TEST' : 'TRAIN';
}
