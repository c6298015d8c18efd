import { type Inspection, type Prisma, type PrismaClient } from '../generated/prisma/client';
import { badInput, conflict, notFound } from '../common/errors';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, type PageRequest, listOrdering } from '../common/pagination/keyset';
import { columnAtLeast, columnAtMost, columnEquals, enumIn } from '../common/pagination/json-model';
import { paginateJson } from '../common/pagination/json-page';
import { type TreeRead } from '../common/pagination/tree';
import { jsonModelOf } from '../common/pagination/json-models';
import { nestedCounts, type NestedList, type NestedRelation, nestedPages } from '../common/pagination/nested';
import { type PageArgs } from '../common/pagination/page.args';
import { DeviceStatus } from '../devices/device.type';
import { connectionsFor, rowsByIds } from '../common/pagination/batch';
import { createOnce } from '../db/prisma-errors';

/** Chronological, as in GitHub's API: `last: 1` is the latest inspection. */
export const INSPECTION_ORDER: Ordering = listOrdering('Inspection', [
  { field: 'capturedAt', column: 'captured_at', kind: 'date', direction: 'asc' },
  byId('asc'),
]);
const INSPECTION_JSON = jsonModelOf('inspections')!;
const OF_DEVICE: NestedRelation = { table: 'inspections', parentColumn: 'device_id' };
/** Each device's inspections. */
export const INSPECTIONS_OF_DEVICE: NestedList = { relation: OF_DEVICE, ordering: INSPECTION_ORDER };
const FUTURE_TOLERANCE_MS = 24 * 3600 * 1000;
const EARLIEST = new Date('1990-01-01T00:00:00Z');

export interface InspectionQuery {
  deviceId?: string;
  status?: Inspection['status'][];
  capturedAfter?: Date;
  capturedBefore?: Date;
}

export class InspectionService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
  ) {}

  async get(id: string): Promise<Inspection> {
    const row = await this.prisma.inspection.findUnique({ where: { id } });
    if (!row) throw notFound('Inspection', id);
    return row;
  }

  byIds(ids: readonly string[]): Promise<(Inspection | null)[]> {
    return rowsByIds(ids, (in_) => this.prisma.inspection.findMany({ where: { id: { in: in_ } } }));
  }

  /** `fields`: what the query reads of each row (src/graphql/projection.ts); the rows hold only those. */
  list(
    filter: InspectionQuery,
    page: PageArgs,
    fields?: readonly string[],
    children?: readonly TreeRead[],
  ): Promise<Connection<Inspection>> {
    if (filter.capturedAfter && filter.capturedBefore && filter.capturedAfter > filter.capturedBefore) {
      throw badInput('capturedBefore', 'must not be earlier than capturedAfter');
    }
    const where: Prisma.InspectionWhereInput = {
      deviceId: filter.deviceId,
      status: filter.status?.length ? { in: filter.status } : undefined,
      capturedAt: { gte: filter.capturedAfter, lte: filter.capturedBefore },
    };
    // The page is read as one JSON text (src/common/pagination/json-page.ts) with the same conditions as `where`, which counts.
    return paginateJson({
      prisma: this.prisma,
      model: INSPECTION_JSON,
      page,
      ordering: INSPECTION_ORDER,
      limits: this.limits,
      filters: [
        columnEquals('device_id', filter.deviceId, 'uuid'),
        enumIn('status', 'InspectionStatus', filter.status),
        columnAtLeast('captured_at', filter.capturedAfter?.toISOString(), 'timestamptz'),
        columnAtMost('captured_at', filter.capturedBefore?.toISOString(), 'timestamptz'),
      ],
      count: () => this.prisma.inspection.count({ where }),
      fields,
      children,
    });
  }

  /** Each device's page of inspections, newest first: two statements for any number of devices. */
  async pagesOfDevices(
    deviceIds: readonly string[],
    req: PageRequest,
    count: (deviceId: string) => Promise<number>,
    fields?: readonly string[],
  ) {
    const rows = await nestedPages<Inspection>(this.prisma, OF_DEVICE, INSPECTION_ORDER, req, deviceIds, undefined, fields);
    return connectionsFor(rows, req, INSPECTION_ORDER, count);
  }

  countsOfDevices(deviceIds: readonly string[]): Promise<Map<string, number>> {
    return nestedCounts(this.prisma, OF_DEVICE, deviceIds);
  }

  async create(input: {
    deviceId: string;
    source: Inspection['source'];
    capturedAt: Date;
    requestedBy: string;
    notes?: string | null;
    idempotencyKey?: string | null;
  }): Promise<Inspection> {
    if (input.capturedAt.getTime() > Date.now() + FUTURE_TOLERANCE_MS) {
      throw badInput('capturedAt', 'is in the future; check the camera clock');
    }
    if (input.capturedAt < EARLIEST) throw badInput('capturedAt', `must not be before ${EARLIEST.toISOString()}`);
    const device = await this.prisma.device.findUnique({ where: { id: input.deviceId } });
    if (!device) throw notFound('Device', input.deviceId);
    if (device.status === DeviceStatus.DECOMMISSIONED) {
      throw conflict('deviceId', `device ${input.deviceId} is decommissioned; it takes no new inspections`);
    }
    const key = input.idempotencyKey;
    return createOnce(
      key,
      () => this.prisma.inspection.findUnique({ where: { deviceId_idempotencyKey: { deviceId: input.deviceId, idempotencyKey: key! } } }),
      () => this.prisma.inspection.create({ data: input }),
    );
  }
}
