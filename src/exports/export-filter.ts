import { type Prisma } from '../generated/prisma/client';
import { DefectStatus, DeviceStatus, Severity, WorkOrderStatus } from '../generated/prisma/enums';
import { badInput } from '../common/errors';
import { SEVERITY_ORDER, rank } from '../repairs/severity';

export enum ExportKind {
  DEVICES_GEOJSON = 'DEVICES_GEOJSON',
  DEVICES_KML = 'DEVICES_KML',
  DEFECTS_CSV = 'DEFECTS_CSV',
  WORK_ORDERS_CSV = 'WORK_ORDERS_CSV',
}

export interface BoundingBox {
  west: number;
  south: number;
  east: number;
  north: number;
}

/** What an export holds; every field given must match. It travels inside the signed link. */
export interface ExportFilter {
  deviceType?: string | null;
  deviceStatus?: DeviceStatus[] | null;
  bbox?: BoundingBox | null;
  minSeverity?: Severity | null;
  defectStatus?: DefectStatus[] | null;
  workOrderStatus?: WorkOrderStatus[] | null;
}

const TYPE_SLUG = /^[a-z0-9][a-z0-9_-]*$/;

// Which filter fields each kind understands; any other given field is refused rather than ignored.
const APPLIES: Record<ExportKind, (keyof ExportFilter)[]> = {
  DEVICES_GEOJSON: ['deviceType', 'deviceStatus', 'bbox', 'minSeverity'],
  DEVICES_KML: ['deviceType', 'deviceStatus', 'bbox', 'minSeverity'],
  DEFECTS_CSV: ['deviceType', 'deviceStatus', 'bbox', 'minSeverity', 'defectStatus'],
  WORK_ORDERS_CSV: ['deviceType', 'deviceStatus', 'bbox', 'workOrderStatus'],
};

function checkList<T extends string>(field: string, given: readonly T[] | null | undefined, allowed: readonly T[]): T[] | undefined {
  if (given == null) return undefined;
  if (!Array.isArray(given) || given.length === 0) throw badInput(field, 'give at least one value, or leave it out');
  const bad = given.find((v) => !allowed.includes(v));
  if (bad !== undefined) throw badInput(field, `"${String(bad)}" is not one of ${allowed.join(', ')}`);
  return [...new Set(given)];
}

function checkBbox(bbox: BoundingBox): BoundingBox {
  const range = (field: keyof BoundingBox, limit: number) => {
    const v = bbox[field];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < -limit || v > limit) {
      throw badInput(`filter.bbox.${field}`, `must be a number from ${-limit} to ${limit}`);
    }
    return v;
  };
  const box = { west: range('west', 180), south: range('south', 90), east: range('east', 180), north: range('north', 90) };
  if (box.south > box.north) throw badInput('filter.bbox', 'south must not be north of north');
  return box;
}

/** The filter with only what the kind understands, checked; the reasons are BAD_USER_INPUT errors. */
export function checkFilter(kind: ExportKind, filter: ExportFilter): ExportFilter {
  if (!Object.values(ExportKind).includes(kind)) throw badInput('kind', `must be one of ${Object.values(ExportKind).join(', ')}`);
  for (const [field, value] of Object.entries(filter)) {
    if (value != null && !APPLIES[kind].includes(field as keyof ExportFilter)) {
      throw badInput(`filter.${field}`, `does not apply to ${kind}; it takes ${APPLIES[kind].join(', ')}`);
    }
  }
  const checked: ExportFilter = {};
  if (filter.deviceType != null) {
    if (typeof filter.deviceType !== 'string' || filter.deviceType.length > 100 || !TYPE_SLUG.test(filter.deviceType)) {
      throw badInput('filter.deviceType', 'must be a device type such as insulator (lowercase, at most 100 characters)');
    }
    checked.deviceType = filter.deviceType;
  }
  checked.deviceStatus = checkList('filter.deviceStatus', filter.deviceStatus, Object.values(DeviceStatus));
  checked.defectStatus = checkList('filter.defectStatus', filter.defectStatus, Object.values(DefectStatus));
  checked.workOrderStatus = checkList('filter.workOrderStatus', filter.workOrderStatus, Object.values(WorkOrderStatus));
  if (filter.minSeverity != null) checked.minSeverity = checkList('filter.minSeverity', [filter.minSeverity], SEVERITY_ORDER)![0];
  if (filter.bbox != null) checked.bbox = checkBbox(filter.bbox);
  return Object.fromEntries(Object.entries(checked).filter(([, v]) => v !== undefined));
}

export const atLeast = (severity: Severity): Severity[] => SEVERITY_ORDER.filter((s) => rank(s) >= rank(severity));

/** The devices a filter selects; a west east of east crosses the antimeridian. */
export function deviceWhere(filter: ExportFilter, withOpenDefectFilter: boolean): Prisma.DeviceWhereInput {
  const and: Prisma.DeviceWhereInput[] = [];
  if (filter.deviceType) and.push({ type: filter.deviceType });
  if (filter.deviceStatus?.length) and.push({ status: { in: filter.deviceStatus } });
  const box = filter.bbox;
  if (box) {
    and.push({ latitude: { gte: box.south, lte: box.north } });
    and.push(
      box.west <= box.east
        ? { longitude: { gte: box.west, lte: box.east } }
        : { OR: [{ longitude: { gte: box.west } }, { longitude: { lte: box.east } }] },
    );
  }
  if (withOpenDefectFilter && filter.minSeverity) {
    and.push({ defects: { some: { status: DefectStatus.OPEN, severity: { in: atLeast(filter.minSeverity) } } } });
  }
  return { AND: and };
}
