import sharp from 'sharp';
import { type AnomalyRegion } from './types';

// Dark blue → cyan → yellow → red: cold is normal, hot is anomalous.
const STOPS: [number, number, number, number][] = [
  [0, 10, 20, 90],
  [0.35, 20, 150, 200],
  [0.6, 240, 220, 40],
  [0.8, 245, 120, 20],
  [1, 200, 20, 20],
];

function colour(t: number): [number, number, number] {
  const v = Math.min(1, Math.max(0, t));
  for (let i = 1; i < STOPS.length; i++) {
    const [t1, r1, g1, b1] = STOPS[i];
    const [t0, r0, g0, b0] = STOPS[i - 1];
    if (v <= t1) {
      const f = (v - t0) / (t1 - t0);
      return [r0 + f * (r1 - r0), g0 + f * (g1 - g0), b0 + f * (b1 - b0)];
    }
  }
  return [STOPS[4][1], STOPS[4][2], STOPS[4][3]];
}

/**
 * The anomaly map as a colour PNG with the photo's aspect ratio (longest side `side`): a value
 * at the patch threshold is yellow, `spread` below it dark blue.
 */
export async function heatmapPng(
  map: Float32Array,
  grid: { cols: number; rows: number },
  threshold: number,
  spread: number,
  size: { width: number; height: number },
  side = 256,
): Promise<Buffer> {
  const { cols, rows } = grid;
  const rgb = Buffer.alloc(cols * rows * 3);
  for (let i = 0; i < map.length; i++) {
    const [r, g, b] = colour(0.6 + (0.4 * (map[i] - threshold)) / Math.max(spread, 1e-6));
    rgb[3 * i] = r;
    rgb[3 * i + 1] = g;
    rgb[3 * i + 2] = b;
  }
  const scale = side / Math.max(size.width, size.height, 1);
  const width = Math.max(1, Math.round(size.width * scale));
  const height = Math.max(1, Math.round(size.height * scale));
  return sharp(rgb, { raw: { width: cols, height: rows, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'cubic' })
    .png({ compressionLevel: 6 })
    .toBuffer();
}

/** Connected (4-neighbour) groups of patches at or above the threshold, strongest first. */
export function regionsOf(map: Float32Array, grid: { cols: number; rows: number }, threshold: number, limit = 20): AnomalyRegion[] {
  const { cols, rows } = grid;
  const seen = new Uint8Array(map.length);
  const regions: AnomalyRegion[] = [];
  for (let start = 0; start < map.length; start++) {
    if (seen[start] || map[start] < threshold) continue;
    const stack = [start];
    seen[start] = 1;
    let [minX, minY, maxX, maxY, count, best] = [cols, rows, -1, -1, 0, -Infinity];
    while (stack.length) {
      const i = stack.pop()!;
      const x = i % cols;
      const y = (i - x) / cols;
      count++;
      best = Math.max(best, map[i]);
      minX = Math.min(minX, x);
      maxX = Math.max(maxX, x);
      minY = Math.min(minY, y);
      maxY = Math.max(maxY, y);
      for (const [nx, ny] of [
        [x - 1, y],
        [x + 1, y],
        [x, y - 1],
        [x, y + 1],
      ]) {
        if (nx < 0 || ny < 0 || nx >= cols || ny >= rows) continue;
        const j = ny * cols + nx;
        if (!seen[j] && map[j] >= threshold) {
          seen[j] = 1;
          stack.push(j);
        }
      }
    }
    regions.push({
      box: { x: minX / cols, y: minY / rows, width: (maxX - minX + 1) / cols, height: (maxY - minY + 1) / rows },
      areaShare: count / map.length,
      score: best,
    });
  }
  return regions.sort((a, b) => b.score - a.score).slice(0, limit);
}
