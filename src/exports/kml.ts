import { type DeviceRow } from './export-rows';
import { hasPosition, MARKER_COLORS, type MarkerSeverity, summarize } from './device-summary';

// OGC KML 2.2: one Placemark per device, styled by its worst open severity (a shared <Style> per
// severity, referenced by styleUrl). A device without a position is a Placemark without a Point.

const ICON = 'https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png';

// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters XML 1.0 cannot carry.
const NOT_XML = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** Text safe inside an element or an attribute; characters XML cannot hold at all are dropped. */
export const escapeXml = (text: string) => text.replace(NOT_XML, '').replace(/[&<>"']/g, (c) => ENTITIES[c]);

/** KML colours are aabbggrr. */
const kmlColor = (hex: string) => `ff${hex.slice(5, 7)}${hex.slice(3, 5)}${hex.slice(1, 3)}`;

function styles(): string {
  return Object.entries(MARKER_COLORS)
    .map(
      ([severity, hex]) =>
        `<Style id="severity-${severity}"><IconStyle><color>${kmlColor(hex)}</color><scale>${severity === 'NONE' ? 0.8 : 1.1}</scale>` +
        `<Icon><href>${ICON}</href></Icon></IconStyle></Style>`,
    )
    .join('\n');
}

function description(s: ReturnType<typeof summarize>): string {
  const head = `${s.type}, status ${s.status}, criticality ${s.criticality}.`;
  if (!s.openDefectCount) return `${head} No open defects.`;
  const lines = s.openDefects.map((d) => `- ${d.type} ${d.severity}, first seen ${d.firstSeenAt}, last seen ${d.lastSeenAt}`);
  return [`${head} ${s.openDefectCount} open defect(s), worst ${s.worstSeverity}:`, ...lines].join('\n');
}

function placemark(d: DeviceRow): string {
  const s = summarize(d);
  const data: [string, string | number | null][] = [
    ['id', s.id],
    ['externalId', s.externalId],
    ['type', s.type],
    ['status', s.status],
    ['criticality', s.criticality],
    ['openDefectCount', s.openDefectCount],
    ['worstSeverity', s.worstSeverity],
    ['openDefects', JSON.stringify(s.openDefects)],
  ];
  const extended = data.map(([name, value]) => `<Data name="${name}"><value>${escapeXml(String(value ?? ''))}</value></Data>`).join('');
  const point = hasPosition(d) ? `<Point><coordinates>${d.longitude},${d.latitude}</coordinates></Point>` : '';
  return (
    `<Placemark id="${s.id}"><name>${escapeXml(s.name)}</name><description>${escapeXml(description(s))}</description>` +
    `<styleUrl>#severity-${s.marker satisfies MarkerSeverity}</styleUrl><ExtendedData>${extended}</ExtendedData>${point}</Placemark>`
  );
}

/** The KML document, one chunk per page. */
export async function* kmlChunks(pages: AsyncIterable<DeviceRow[]>): AsyncGenerator<string> {
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2">\n<Document>\n<name>vigil devices</name>\n${styles()}\n`;
  for await (const page of pages) {
    if (page.length) yield `${page.map(placemark).join('\n')}\n`;
  }
  yield '</Document>\n</kml>\n';
}
