/** A tile of a frame, in the frame's pixel coordinates (of the normalised image). */
export interface TileRect {
  index: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

/** Start offsets along one axis: a step of size - overlap, the last tile flush with the edge. */
function offsets(length: number, size: number, overlap: number): number[] {
  if (length <= size) return [0];
  const step = size - overlap;
  const starts: number[] = [];
  for (let at = 0; at + size < length; at += step) starts.push(at);
  starts.push(length - size);
  return [...new Set(starts)];
}

/**
 * Overlapping tiles covering a frame, row by row; none when the frame fits in one tile.
 * The overlap means an object cut by one tile's edge is whole in its neighbour.
 */
export function tileGrid(width: number, height: number, size: number, overlap: number): TileRect[] {
  if (overlap < 0 || overlap >= size) throw new Error(`tile overlap must be in [0, ${size})`);
  if (width <= size && height <= size) return [];
  const tiles: TileRect[] = [];
  for (const y of offsets(height, size, overlap)) {
    for (const x of offsets(width, size, overlap)) {
      tiles.push({ index: tiles.length, x, y, width: Math.min(size, width), height: Math.min(size, height) });
    }
  }
  return tiles;
}
