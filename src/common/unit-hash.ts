import { createHash } from 'node:crypto';

/** A number in [0, 1) fixed by the text: the same input always draws the same, spread uniformly. */
export function unitHash(text: string): number {
  return createHash('sha256').update(text, 'utf8').digest().readUIntBE(0, 6) / 2 ** 48;
}
