import { boundingBox, haversineKm } from '../../src/common/geo';

describe('geo', () => {
  it('measures great-circle distance (Amsterdam–Utrecht ≈ 35 km)', () => {
    expect(haversineKm(52.3702, 4.8952, 52.0907, 5.1214)).toBeCloseTo(34.7, 0);
  });

  it('makes a bounding box that contains the whole circle', () => {
    const box = boundingBox(52, 5, 10);
    for (let bearing = 0; bearing < 360; bearing += 15) {
      const rad = (bearing * Math.PI) / 180;
      const lat = 52 + (9.99 / 111.195) * Math.cos(rad);
      const lon = 5 + ((9.99 / 111.195) * Math.sin(rad)) / Math.cos((lat * Math.PI) / 180);
      expect(haversineKm(52, 5, lat, lon)).toBeLessThan(10);
      expect(lat).toBeGreaterThanOrEqual(box.minLatitude);
      expect(lat).toBeLessThanOrEqual(box.maxLatitude);
      expect(lon).toBeGreaterThanOrEqual(box.minLongitude!);
      expect(lon).toBeLessThanOrEqual(box.maxLongitude!);
    }
  });

  it('drops the longitude prefilter across the antimeridian and at the poles', () => {
    expect(boundingBox(0, 179.99, 10).minLongitude).toBeNull();
    expect(boundingBox(89.99, 0, 10).minLongitude).toBeNull();
  });
});
