import { type Prisma, type PrismaClient } from '../generated/prisma/client';
import { type Criticality, DefectStatus, type DeviceStatus, type Severity } from '../generated/prisma/enums';
import { rank } from '../repairs/severity';
import { atLeast, deviceWhere, type ExportFilter } from './export-filter';

// Exports read the database in keyset pages by id: each page is one bounded query, so a fleet of any
// size streams in constant memory. Pages are read as the download goes (no long transaction, which the
// embedded database's single connection could not afford); ids only grow, so no row is repeated or skipped.

export const EXPORT_PAGE_SIZE = 1000;

const DEVICE_COLUMNS = {
  id: true,
  externalId: true,
  name: true,
  type: true,
  status: true,
  criticality: true,
  latitude: true,
  longitude: true,
} as const;

export interface DeviceColumns {
  id: string;
  externalId: string;
  name: string;
  type: string;
  status: DeviceStatus;
  criticality: Criticality;
  latitude: number | null;
  longitude: number | null;
}

export interface OpenDefect {
  id: string;
  type: string;
  severity: Severity;
  confirmed: boolean;
  confidence: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
}

/** A device with its OPEN defects, the most severe (then the latest seen) first. */
export interface DeviceRow extends DeviceColumns {
  openDefects: OpenDefect[];
}

/** Pages of `read(after)` until one comes back short; `after` is the last id of the page before. */
async function* keysetPages<T extends { id: string }>(read: (after: string | undefined) => Promise<T[]>, pageSize: number) {
  let after: string | undefined;
  for (;;) {
    const rows = await read(after);
    if (rows.length) yield rows;
    if (rows.length < pageSize) return;
    after = rows[rows.length - 1].id;
  }
}

const afterId = <W>(where: W, after: string | undefined) => (after ? { AND: [where, { id: { gt: after } }] } : where);

const hasDeviceFilter = (f: ExportFilter) => !!(f.deviceType || f.deviceStatus?.length || f.bbox);

/** One page of devices as JSON text, each with its open defects, built by the database (see devicePages). */
const devicePageJson = (prisma: PrismaClient, ids: string[]) => prisma.$queryRaw<{ page: string | null }[]>`
  SELECT json_agg(json_build_object(
    'id', d.id, 'externalId', d.external_id, 'name', d.name, 'type', d.type, 'status', d.status,
    'criticality', d.criticality, 'latitude', d.latitude, 'longitude', d.longitude,
    'openDefects', (
      SELECT coalesce(json_agg(json_build_object(
        'id', x.id, 'type', x.type, 'severity', x.severity, 'confirmed', x.confirmed, 'confidence', x.confidence,
        'firstSeenAt', x.first_seen_at, 'lastSeenAt', x.last_seen_at)), '[]')
      FROM defects x WHERE x.device_id = d.id AND x.status = ${DefectStatus.OPEN}::"DefectStatus")
  ) ORDER BY d.id)::text AS page
  FROM devices d WHERE d.id = ANY(${ids}::uuid[])`;

type DeviceJson = Omit<DeviceRow, 'openDefects'> & {
  openDefects: (Omit<OpenDefect, 'firstSeenAt' | 'lastSeenAt'> & { firstSeenAt: string; lastSeenAt: string })[];
};

/**
 * The devices a filter selects, with their open defects. Prisma pages through the ids (the filter is
 * written once, as a Prisma where); the database then builds each page's rows as one JSON text, so the
 * server parses one string per page instead of materialising Prisma objects for every row and defect:
 * exporting 100,000 devices grew the server's memory by about a third as much (issue 17's closing note).
 */
export async function* devicePages(prisma: PrismaClient, filter: ExportFilter, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<DeviceRow[]> {
  const where = deviceWhere(filter, true);
  const pages = keysetPages(
    (after) => prisma.device.findMany({ where: afterId(where, after), orderBy: { id: 'asc' }, take: pageSize, select: { id: true } }),
    pageSize,
  );
  for await (const ids of pages) {
    const [{ page }] = await devicePageJson(
      prisma,
      ids.map((d) => d.id),
    );
    const devices = JSON.parse(page ?? '[]') as DeviceJson[];
    yield devices.map((d) => ({
      ...d,
      openDefects: d.openDefects
        .map((x) => ({ ...x, firstSeenAt: new Date(x.firstSeenAt), lastSeenAt: new Date(x.lastSeenAt) }))
        .sort((a, b) => rank(b.severity) - rank(a.severity) || b.lastSeenAt.getTime() - a.lastSeenAt.getTime() || (a.id < b.id ? -1 : 1)),
    }));
  }
}

export interface DefectRow {
  id: string;
  type: string;
  status: DefectStatus;
  severity: Severity;
  confirmed: boolean;
  confidence: number;
  firstSeenAt: Date;
  lastSeenAt: Date;
  observationCount: number;
  firstArea: number;
  lastArea: number;
  reopenCount: number;
  fixedAt: Date | null;
  resolvedAt: Date | null;
  resolvedBy: string | null;
  resolution: string | null;
  device: DeviceColumns;
  /** The work order that plans it now, if any. */
  activeWorkOrderId: string | null;
}

export async function* defectPages(prisma: PrismaClient, filter: ExportFilter, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<DefectRow[]> {
  const and: Prisma.DefectWhereInput[] = [];
  if (filter.defectStatus?.length) and.push({ status: { in: filter.defectStatus } });
  if (filter.minSeverity) and.push({ severity: { in: atLeast(filter.minSeverity) } });
  if (hasDeviceFilter(filter)) and.push({ device: { is: deviceWhere(filter, false) } });
  const where: Prisma.DefectWhereInput = { AND: and };
  const pages = keysetPages(
    (after) =>
      prisma.defect.findMany({
        where: afterId(where, after),
        orderBy: { id: 'asc' },
        take: pageSize,
        omit: { boxX: true, boxY: true, boxWidth: true, boxHeight: true, createdAt: true, updatedAt: true },
        include: { device: { select: DEVICE_COLUMNS } },
      }),
    pageSize,
  );
  for await (const defects of pages) {
    const planned = await prisma.workOrderDefect.findMany({
      where: { defectId: { in: defects.map((d) => d.id) }, active: true },
      select: { defectId: true, workOrderId: true },
    });
    const orderOf = new Map(planned.map((p) => [p.defectId, p.workOrderId]));
    yield defects.map(({ deviceId: _, ...d }) => ({ ...d, activeWorkOrderId: orderOf.get(d.id) ?? null }));
  }
}

export interface WorkOrderRow {
  id: string;
  status: string;
  priority: string;
  dueAt: Date | null;
  assignee: string | null;
  notes: string | null;
  automatic: boolean;
  flagged: boolean;
  flagReason: string | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
  completedAt: Date | null;
  device: DeviceColumns;
  defects: { defectId: string; finding: string | null; defect: { type: string; severity: Severity } }[];
}

export async function* workOrderPages(
  prisma: PrismaClient,
  filter: ExportFilter,
  pageSize = EXPORT_PAGE_SIZE,
): AsyncGenerator<WorkOrderRow[]> {
  const and: Prisma.WorkOrderWhereInput[] = [];
  if (filter.workOrderStatus?.length) and.push({ status: { in: filter.workOrderStatus } });
  if (hasDeviceFilter(filter)) and.push({ device: { is: deviceWhere(filter, false) } });
  const where: Prisma.WorkOrderWhereInput = { AND: and };
  yield* keysetPages(
    (after) =>
      prisma.workOrder.findMany({
        where: afterId(where, after),
        orderBy: { id: 'asc' },
        take: pageSize,
        omit: { idempotencyKey: true, deviceId: true },
        include: {
          device: { select: DEVICE_COLUMNS },
          defects: {
            select: { defectId: true, finding: true, defect: { select: { type: true, severity: true } } },
            orderBy: { defectId: 'asc' },
          },
        },
      }),
    pageSize,
  );
}
