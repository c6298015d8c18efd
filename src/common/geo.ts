// Great-circle distance without PostGIS, so the same query runs on PGlite and on PostgreSQL.

export const EARTH_RADIUS_KM = 6371.0088;

export interface BoundingBox {
  minLatitude: number;
  maxLatitude: number;
  /** Null when the box would wrap the antimeridian or reach a pole: no longitude prefilter then. */
  minLongitude: number | null;
  maxLongitude: number | null;
}

export function boundingBox(latitude: number, longitude: number, radiusKm: number): BoundingBox {
  const dLat = (radiusKm / EARTH_RADIUS_KM) * (180 / Math.PI);
  const minLatitude = Math.max(-90, latitude - dLat);
  const maxLatitude = Math.min(90, latitude + dLat);
  const cos = Math.cos((Math.max(Math.abs(minLatitude), Math.abs(maxLatitude)) * Math.PI) / 180);
  const dLon = cos > 1e-6 ? dLat / cos : 360;
  const minLongitude = longitude - dLon;
  const maxLongitude = longitude + dLon;
  const wraps = minLongitude < -180 || maxLongitude > 180;
  return { minLatitude, maxLatitude, minLongitude: wraps ? null : minLongitude, maxLongitude: wraps ? null : maxLongitude };
}

export function haversineKm(lat1: number, lon1: number, lat2: number, lon2: number): number {
  const rad = Math.PI / 180;
  const a =
    Math.sin(((lat2 - lat1) * rad) / 2) ** 2 + Math.cos(lat1 * rad) * Math.cos(lat2 * rad) * Math.sin(((lon2 - lon1) * rad) / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(a)));
}

/** SQL for the haversine distance in km from ($lat, $lon) to columns latitude/longitude of alias t. */
export function sqlHaversineKm(latParam: string, lonParam: string): string {
  return `2 * ${EARTH_RADIUS_KM} * asin(least(1, sqrt(power(sin(radians(t.latitude - ${latParam}) / 2), 2) + cos(radians(${latParam})) * cos(radians(t.latitude)) * power(sin(radians(t.longitude - ${lonParam}) / 2), 2))))`;
}
