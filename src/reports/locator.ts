// A map position drawn without map tiles (reports are made offline): a square frame in metres around the
// points, a graticule of round latitudes and longitudes, and a scale bar. PDF and HTML draw the same frame.

export interface GeoPoint {
  latitude: number;
  longitude: number;
}

export interface LocatorFrame {
  /** A point's place in the frame: 0..1 from the left and from the top. */
  place(p: GeoPoint): { x: number; y: number };
  /** Graticule lines inside the frame, with their place (0..1) and label. */
  latitudes: { y: number; label: string }[];
  longitudes: { x: number; label: string }[];
  /** A round distance in metres and its share of the frame's width. */
  scale: { metres: number; share: number };
}

const M_PER_DEG_LAT = 111_320;
const STEPS = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10];
// One device alone is shown with about a kilometre around it.
const MIN_SPAN_M = 1000;

function niceMetres(max: number): number {
  const base = 10 ** Math.floor(Math.log10(max));
  return [5, 2, 1].map((f) => f * base).find((v) => v <= max) ?? base;
}

function lines(from: number, to: number, max: number): number[] {
  const step = STEPS.find((s) => (to - from) / s <= max) ?? STEPS[STEPS.length - 1];
  const out = [];
  for (let v = Math.ceil(from / step) * step; v <= to; v += step) out.push(Number(v.toFixed(6)));
  return out;
}

const digitsOf = (values: number[]) => (values.length > 1 ? Math.max(0, Math.ceil(-Math.log10(values[1] - values[0]))) : 3);

/** The frame around the points that have a position; null when none has. */
export function locatorFrame(points: GeoPoint[]): LocatorFrame | null {
  if (!points.length) return null;
  const lats = points.map((p) => p.latitude);
  const lons = points.map((p) => p.longitude);
  const midLat = (Math.min(...lats) + Math.max(...lats)) / 2;
  const midLon = (Math.min(...lons) + Math.max(...lons)) / 2;
  const mPerDegLon = M_PER_DEG_LAT * Math.max(0.05, Math.cos((midLat * Math.PI) / 180));
  const spreadM = Math.max((Math.max(...lats) - Math.min(...lats)) * M_PER_DEG_LAT, (Math.max(...lons) - Math.min(...lons)) * mPerDegLon);
  const spanM = Math.max(MIN_SPAN_M, spreadM * 1.3);
  const half = { lat: spanM / 2 / M_PER_DEG_LAT, lon: spanM / 2 / mPerDegLon };
  const south = midLat - half.lat;
  const west = midLon - half.lon;
  const place = (p: GeoPoint) => ({ x: (p.longitude - west) / (2 * half.lon), y: 1 - (p.latitude - south) / (2 * half.lat) });
  const latLines = lines(south, midLat + half.lat, 4);
  const lonLines = lines(west, midLon + half.lon, 4);
  const latDigits = digitsOf(latLines);
  const lonDigits = digitsOf(lonLines);
  const metres = niceMetres(spanM / 3);
  return {
    place,
    latitudes: latLines.map((lat) => ({ y: place({ latitude: lat, longitude: midLon }).y, label: `${lat.toFixed(latDigits)}°` })),
    longitudes: lonLines.map((lon) => ({ x: place({ latitude: midLat, longitude: lon }).x, label: `${lon.toFixed(lonDigits)}°` })),
    scale: { metres, share: metres / spanM },
  };
}

export const metresText = (m: number) => (m >= 1000 ? `${m / 1000} km` : `${m} m`);
