import { type Severity } from '../generated/prisma/enums';
import { toGlobalId } from '../common/global-id';
import { toRepairId } from '../repairs/repair-ids';
import { type DeviceRow } from './export-rows';

/** NONE: no open defect. */
export type MarkerSeverity = Severity | 'NONE';

/** One colour per worst open severity, shared by the GeoJSON marker-color and the KML icon styles. */
export const MARKER_COLORS: Record<MarkerSeverity, string> = {
  NONE: '#2e7d32',
  LOW: '#fbc02d',
  MEDIUM: '#f57c00',
  HIGH: '#d32f2f',
  CRITICAL: '#6a1b9a',
};

/** What both device exports say about a device, with GraphQL global ids. */
export function summarize(d: DeviceRow) {
  const worst: MarkerSeverity = d.openDefects.length ? d.openDefects[0].severity : 'NONE';
  return {
    id: toGlobalId('Device', d.id),
    externalId: d.externalId,
    name: d.name,
    type: d.type,
    status: d.status,
    criticality: d.criticality,
    openDefectCount: d.openDefects.length,
    worstSeverity: worst === 'NONE' ? null : worst,
    marker: worst,
    openDefects: d.openDefects.map((x) => ({
      id: toRepairId('Defect', x.id),
      type: x.type,
      severity: x.severity,
      confirmed: x.confirmed,
      confidence: x.confidence,
      firstSeenAt: x.firstSeenAt.toISOString(),
      lastSeenAt: x.lastSeenAt.toISOString(),
    })),
  };
}

export const hasPosition = (d: DeviceRow): d is DeviceRow & { latitude: number; longitude: number } =>
  d.latitude != null && d.longitude != null;
