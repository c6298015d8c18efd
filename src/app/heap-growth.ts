import v8 from 'node:v8';

/**
 * Lets V8's old generation grow to (1 + percent/100) times what its last full collection kept before it
 * collects again (V8's flag --heap-growing-percent, read at each collection, so it takes effect when set
 * at start). Without it V8 lets a busy server's heap grow up to fourfold: under 32 connections of reads
 * the live heap stayed near 60-150 MB while the old generation grew to 180-240 MB of garbage, and the
 * process to about 410 MB. At 100 it peaked at 270-285 MB for about 5% fewer requests per second
 * (bench:api, Node 22). 0 leaves V8's own rule.
 */
export function limitHeapGrowth(percent: number): void {
  if (percent > 0) v8.setFlagsFromString(`--heap-growing-percent=${Math.round(percent)}`);
}
