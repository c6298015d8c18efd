// Browser-local console settings. The tile URL lives in this browser's localStorage (set by an ADMIN in Settings): the page's
// CSP allows images from its own origin only, so a tile server must be reachable under vigil's origin (e.g. a reverse proxy
// path such as /tiles/{z}/{x}/{y}.png), which keeps the promise that no request leaves the origin.
const TILE_KEY = 'vigil.console.tileUrl';

export function tileUrl(): string | null {
  return localStorage.getItem(TILE_KEY);
}

/** Saves the template, or clears it when empty; returns why it was refused, or null. */
export function setTileUrl(value: string): string | null {
  const v = value.trim();
  if (!v) {
    localStorage.removeItem(TILE_KEY);
    return null;
  }
  if (!/\{z\}/.test(v) || !/\{x\}/.test(v) || !/\{y\}/.test(v)) return 'The template needs {z}, {x} and {y}.';
  const url = new URL(v.replace(/\{[a-z]\}/g, '0'), location.origin);
  if (url.origin !== location.origin)
    return `Tiles must come from this origin (${location.origin}); put the tile server behind the same host.`;
  localStorage.setItem(TILE_KEY, v);
  return null;
}
