import { type DeviceRow } from './export-rows';
import { hasPosition, MARKER_COLORS, summarize } from './device-summary';

// RFC 7946: a FeatureCollection of Points in WGS 84, [longitude, latitude]. A device without a position is
// still a Feature, with `geometry: null`, so the export lists the whole fleet the filter selects.

function feature(d: DeviceRow): string {
  const { marker, ...properties } = summarize(d);
  return JSON.stringify({
    type: 'Feature',
    id: properties.id,
    geometry: hasPosition(d) ? { type: 'Point', coordinates: [d.longitude, d.latitude] } : null,
    // marker-color: the simplestyle-spec property most GeoJSON viewers draw.
    properties: { ...properties, 'marker-color': MARKER_COLORS[marker] },
  });
}

/** The FeatureCollection, one chunk per page. */
export async function* geojsonChunks(pages: AsyncIterable<DeviceRow[]>): AsyncGenerator<string> {
  yield '{"type":"FeatureCollection","features":[\n';
  let first = true;
  for await (const page of pages) {
    if (!page.length) continue;
    yield (first ? '' : ',\n') + page.map(feature).join(',\n');
    first = false;
  }
  yield '\n]}\n';
}
