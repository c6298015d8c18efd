// The four reads of bench:compare, each written for vigil, PostGraphile 5 (amber: primary key `rowId`) and
// PostGraphile 4 (primary key `id`). Orders follow vigil's: devices by name, inspections by capture time,
// anomalies newest first.

export type ServerName = 'vigil' | 'PG5' | 'PG4';

export interface CompareQuery {
  name: string;
  text: Record<ServerName, string>;
  /** Sent with the query; `$id` comes from a rotation over seeded devices when the query needs one. */
  needsDeviceId?: boolean;
}

const pk = (s: ServerName) => (s === 'PG5' ? 'rowId' : 'id');
const box = (s: ServerName) => (s === 'vigil' ? 'box { x y width height }' : 'boxX boxY boxWidth boxHeight');

const latestInspections = (s: ServerName) => {
  if (s === 'vigil') {
    return `{ devices(first: 50) { nodes { id externalId name status inspections(last: 1) { nodes { id capturedAt status anomalies(first: 10) { nodes { id type confidence status ${box(s)} } } } } } } }`;
  }
  return `{ allDevices(first: 50, orderBy: [NAME_ASC, PRIMARY_KEY_ASC]) { nodes { ${pk(s)} externalId name status inspectionsByDeviceId(first: 1, orderBy: [CAPTURED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${pk(s)} capturedAt status anomaliesByInspectionId(first: 10, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${pk(s)} type confidence status ${box(s)} } } } } } } }`;
};

const suspected = (s: ServerName) => {
  if (s === 'vigil') {
    return `{ anomalies(filter: { status: [SUSPECTED] }, first: 100) { nodes { id type confidence status createdAt ${box(s)} } } }`;
  }
  return `{ allAnomalies(condition: { status: SUSPECTED }, first: 100, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${pk(s)} type confidence status createdAt ${box(s)} } } }`;
};

const devicePage = (s: ServerName) => {
  const inspectionFields = (images: string, anomalies: string) =>
    `${pk(s)} capturedAt status source ${images} { nodes { ${pk(s)} contentType bytes status createdAt } } ${anomalies} { nodes { ${pk(s)} type confidence status ${box(s)} } }`;
  if (s === 'vigil') {
    return `query ($id: ID!) { device(id: $id) { id externalId name type status criticality latitude longitude inspections(last: 5) { nodes { ${inspectionFields('images(first: 10)', 'anomalies(first: 10)')} } } } defects(filter: { deviceId: $id }, first: 20) { nodes { id type status confidence } } }`;
  }
  const root = s === 'PG5' ? 'deviceByRowId(rowId: $id)' : 'deviceById(id: $id)';
  return `query ($id: UUID!) { ${root} { ${pk(s)} externalId name type status criticality latitude longitude inspectionsByDeviceId(first: 5, orderBy: [CAPTURED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${inspectionFields('imagesByInspectionId(first: 10, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC])', 'anomaliesByInspectionId(first: 10, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC])')} } } } allDefects(condition: { deviceId: $id }, first: 20, orderBy: [CREATED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${pk(s)} type status confidence } } }`;
};

const inspectionFeed = (s: ServerName) => {
  const images = s === 'vigil' ? 'images(first: 5)' : 'imagesByInspectionId(first: 5, orderBy: [CREATED_AT_ASC, PRIMARY_KEY_ASC])';
  const fields = `capturedAt status source ${s === 'vigil' ? 'device' : 'deviceByDeviceId'} { ${pk(s)} externalId name type } ${images} { nodes { ${pk(s)} status contentType bytes } }`;
  if (s === 'vigil') return `{ inspections(last: 50) { nodes { id ${fields} } } }`;
  return `{ allInspections(first: 50, orderBy: [CAPTURED_AT_DESC, PRIMARY_KEY_DESC]) { nodes { ${pk(s)} ${fields} } } }`;
};

const forEach = (q: (s: ServerName) => string): Record<ServerName, string> => ({ vigil: q('vigil'), PG5: q('PG5'), PG4: q('PG4') });

export const QUERIES: CompareQuery[] = [
  { name: 'a: devices(first: 50) → latest inspection → anomalies(first: 10)', text: forEach(latestInspections) },
  { name: 'b: anomalies(status SUSPECTED, first: 100)', text: forEach(suspected) },
  { name: 'c: device page (5 inspections → images, anomalies; defects)', text: forEach(devicePage), needsDeviceId: true },
  { name: 'd: latest 50 inspections → device, images(first: 5)', text: forEach(inspectionFeed) },
];

/** How many rows a result holds at each depth of `nodes` lists: equal across servers when they answer the same read. */
export function rowCounts(data: unknown): number[] {
  const counts: number[] = [];
  const walk = (value: unknown, depth: number) => {
    if (Array.isArray(value)) {
      for (const v of value) walk(v, depth);
    } else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (key === 'nodes' && Array.isArray(v)) {
          counts[depth] = (counts[depth] ?? 0) + v.length;
          walk(v, depth + 1);
        } else {
          walk(v, depth);
        }
      }
    }
  };
  walk(data, 0);
  return Array.from(counts, (c) => c ?? 0);
}
