import { type Device, type Prisma, type PrismaClient } from '../generated/prisma/client';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { badInput, conflict, DomainError, ErrorCode, notFound } from '../common/errors';
import { boundingBox, sqlHaversineKm } from '../common/geo';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, paginate } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { rowsByIds } from '../common/pagination/batch';
import { columnEquals, enumIn, projectModel } from '../common/pagination/json-model';
import { jsonRowsByIds, paginateJson } from '../common/pagination/json-page';
import { type TreeRead } from '../common/pagination/tree';
import { jsonModelOf } from '../common/pagination/json-models';
import { type FieldProblem, findNul, NUL_MESSAGE, validateInput } from '../common/validation';
import { isRecordNotFound, isUniqueViolation } from '../db/prisma-errors';
import { DeviceFilter, DeviceInput, DeviceOrder, DeviceOrderField, type UpdateDeviceInput } from './device.input';
import { DeviceStatus } from './device.type';
import { type ImportDevicesResult, type ImportRowError } from './import-devices.type';

export const MAX_IMPORT_ROWS = 5000;

const DEVICE_JSON = jsonModelOf('devices')!;

const ORDER_KEYS: Record<DeviceOrderField, { column: string; kind: 'string' | 'date' }> = {
  [DeviceOrderField.NAME]: { column: 'name', kind: 'string' },
  [DeviceOrderField.EXTERNAL_ID]: { column: 'external_id', kind: 'string' },
  [DeviceOrderField.CREATED_AT]: { column: 'created_at', kind: 'date' },
  [DeviceOrderField.UPDATED_AT]: { column: 'updated_at', kind: 'date' },
};

function ordering(order?: DeviceOrder | null): Ordering {
  const field = order?.field ?? DeviceOrderField.NAME;
  const direction = order?.direction ?? 'asc';
  return [{ field, ...ORDER_KEYS[field], direction }, byId(direction)];
}

function checkLocation(latitude: number | null | undefined, longitude: number | null | undefined) {
  if ((latitude == null) !== (longitude == null)) {
    throw badInput(latitude == null ? 'latitude' : 'longitude', 'latitude and longitude must be given together');
  }
}

/** What is wrong with one importDevices row; a NUL first, as no other check can be trusted with one. */
async function rowProblems(row: DeviceInput): Promise<FieldProblem[]> {
  const nul = findNul(row, '');
  if (nul) return [{ field: nul, message: `${nul} ${NUL_MESSAGE}` }];
  const problems = await validateInput(DeviceInput, row);
  if ((row.latitude == null) !== (row.longitude == null)) {
    problems.push({ field: row.latitude == null ? 'latitude' : 'longitude', message: 'latitude and longitude must be given together' });
  }
  return problems;
}

// Fields a device always has: updateDevice may change them, never clear them.
const REQUIRED_FIELDS = ['externalId', 'name', 'type', 'status', 'criticality'] as const;

/** A device's status moved from `previous` to `status`. */
export interface DeviceStatusChange {
  previous: DeviceStatus;
  status: DeviceStatus;
  type: string;
}

export class DeviceService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
    /** DEVICE_STATUS_CHANGED is published here. */
    private readonly events: EventBus,
    /** Runs after a device's status is recomputed because its anomalies changed: the repair tracker links them to defects. */
    private readonly hooks: { afterRefresh?: (deviceId: string, completingInspectionId?: string) => Promise<void> } = {},
  ) {}

  /**
   * With `children` (lists below the device, src/common/pagination/tree.ts) the device and those lists are read in
   * one statement, the device with the `fields` its query reads.
   */
  async get(id: string, fields?: readonly string[], children?: readonly TreeRead[]): Promise<Device> {
    const device = children?.length
      ? (
          await paginateJson<Device>({
            prisma: this.prisma,
            model: DEVICE_JSON,
            page: { first: 1 },
            ordering: ordering(),
            limits: this.limits,
            filters: [columnEquals('id', id, 'uuid')],
            count: async () => 1,
            fields,
            children,
          })
        ).nodes[0]
      : await this.prisma.device.findUnique({ where: { id } });
    if (!device) throw notFound('Device', id);
    return device;
  }

  /** `fields`: only those (and the id) are read (src/graphql/projection.ts); whole rows without. */
  byIds(ids: readonly string[], fields?: readonly string[]): Promise<(Device | null)[]> {
    const model = projectModel(DEVICE_JSON, fields, ['id']);
    return rowsByIds(ids, (in_) => jsonRowsByIds<Device>(this.prisma, model, in_));
  }

  /** `fields`: what the query reads of each row (src/graphql/projection.ts); on the JSON path the rows hold only those. */
  async list(
    filter: DeviceFilter | null | undefined,
    order: DeviceOrder | null | undefined,
    page: PageArgs,
    fields?: readonly string[],
    /** Lists below the devices to read in the same statement (src/common/pagination/tree.ts). */
    children?: readonly TreeRead[],
  ): Promise<Connection<Device>> {
    // Without a text search or a distance the page is read as one JSON text (src/common/pagination/json-page.ts).
    if (!filter?.search && !filter?.near) {
      return paginateJson({
        prisma: this.prisma,
        model: DEVICE_JSON,
        page,
        ordering: ordering(order),
        limits: this.limits,
        filters: [enumIn('status', 'DeviceStatus', filter?.status), columnEquals('type', filter?.type || undefined, 'text')],
        count: async () => this.prisma.device.count({ where: await this.where(filter ?? {}) }),
        fields,
        children,
      });
    }
    return paginate({
      page,
      ordering: ordering(order),
      limits: this.limits,
      where: await this.where(filter ?? {}),
      find: (q) => this.prisma.device.findMany(q),
      count: (where) => this.prisma.device.count({ where }),
    });
  }

  private async where(filter: DeviceFilter): Promise<Prisma.DeviceWhereInput> {
    const where: Prisma.DeviceWhereInput[] = [];
    if (filter.status?.length) where.push({ status: { in: filter.status } });
    if (filter.type) where.push({ type: filter.type });
    if (filter.search) {
      // Prisma passes contains through to ILIKE as is: a % or _ typed by a user is a literal.
      const text = filter.search.replace(/[\\%_]/g, (c) => `\\${c}`);
      where.push({
        OR: [{ name: { contains: text, mode: 'insensitive' } }, { externalId: { contains: text, mode: 'insensitive' } }],
      });
    }
    if (filter.near) where.push({ id: { in: await this.idsNear(filter.near) } });
    return { AND: where };
  }

  /** Devices within radiusKm: a bounding box on the (latitude, longitude) index, then the exact distance. */
  async idsNear(near: { latitude: number; longitude: number; radiusKm: number }): Promise<string[]> {
    return (await this.within(near, { activeOnly: false, limit: null })).map((r) => r.id);
  }

  /** The nearest devices still in service within radiusKm, nearest first (ties by id). */
  nearestActive(
    near: { latitude: number; longitude: number; radiusKm: number },
    limit: number,
  ): Promise<{ id: string; distanceKm: number }[]> {
    return this.within(near, { activeOnly: true, limit });
  }

  private async within(
    near: { latitude: number; longitude: number; radiusKm: number },
    opts: { activeOnly: boolean; limit: number | null },
  ): Promise<{ id: string; distanceKm: number }[]> {
    const box = boundingBox(near.latitude, near.longitude, near.radiusKm);
    const params: unknown[] = [near.latitude, near.longitude, near.radiusKm, box.minLatitude, box.maxLatitude];
    const filters = ['t.latitude BETWEEN $4 AND $5'];
    if (box.minLongitude !== null) {
      params.push(box.minLongitude, box.maxLongitude);
      filters.push(`t.longitude BETWEEN $${params.length - 1} AND $${params.length}`);
    }
    if (opts.activeOnly) filters.push(`t.status <> 'DECOMMISSIONED'`);
    let limit = '';
    if (opts.limit !== null) {
      params.push(opts.limit);
      limit = `ORDER BY distance_km, id LIMIT $${params.length}::int`;
    }
    return this.prisma.$queryRawUnsafe<{ id: string; distanceKm: number }[]>(
      `SELECT id, distance_km AS "distanceKm" FROM (
         SELECT t.id::text AS id, ${sqlHaversineKm('$1::float8', '$2::float8')} AS distance_km
         FROM devices t WHERE ${filters.join(' AND ')}
       ) near WHERE distance_km <= $3::float8 ${limit}`,
      ...params,
    );
  }

  async create(input: DeviceInput): Promise<Device> {
    checkLocation(input.latitude, input.longitude);
    try {
      return await this.prisma.device.create({ data: { ...input, criticality: input.criticality ?? undefined } });
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('externalId', `a device with externalId "${input.externalId}" already exists`);
      throw err;
    }
  }

  async update(id: string, input: UpdateDeviceInput): Promise<Device> {
    const current = await this.get(id);
    if (current.status === DeviceStatus.DECOMMISSIONED) {
      throw conflict('id', `device ${id} is decommissioned and can no longer be changed`);
    }
    if (input.status === DeviceStatus.DECOMMISSIONED) {
      throw badInput('status', 'use decommissionDevice to take a device out of service');
    }
    const latitude = input.latitude === undefined ? current.latitude : input.latitude;
    const longitude = input.longitude === undefined ? current.longitude : input.longitude;
    checkLocation(latitude, longitude);
    for (const field of REQUIRED_FIELDS) {
      if ((input as Record<string, unknown>)[field] === null)
        throw badInput(field, 'cannot be null; leave it out to keep the current value');
    }
    const data = Object.fromEntries(Object.entries(input).filter(([, v]) => v !== undefined));
    try {
      const updated = await this.prisma.device.update({ where: { id }, data });
      if (updated.status !== current.status) await this.announceChange(updated, current.status);
      return updated;
    } catch (err) {
      if (isUniqueViolation(err)) throw conflict('externalId', `a device with externalId "${input.externalId}" already exists`);
      if (isRecordNotFound(err)) throw notFound('Device', id);
      throw err;
    }
  }

  /** Takes a device out of service; doing it again changes nothing. */
  async decommission(id: string): Promise<Device> {
    const device = await this.get(id);
    if (device.status === DeviceStatus.DECOMMISSIONED) return device;
    // Only the call that changes the status announces it, however many race.
    const changed = await this.prisma.device.updateMany({
      where: { id, status: { not: DeviceStatus.DECOMMISSIONED } },
      data: { status: DeviceStatus.DECOMMISSIONED },
    });
    const decommissioned = await this.get(id);
    if (changed.count) await this.announceChange(decommissioned, device.status);
    return decommissioned;
  }

  private announceChange(device: Device, previous: DeviceStatus): Promise<void> {
    return this.events.publish('DEVICE_STATUS_CHANGED', {
      deviceId: device.id,
      status: device.status,
      previousStatus: previous,
      deviceType: device.type,
    });
  }

  /** Upserts by externalId, row by row: a bad row is reported and the others are still saved. Every row is checked before any is saved. */
  async importMany(rows: DeviceInput[]): Promise<ImportDevicesResult> {
    if (rows.length > MAX_IMPORT_ROWS) {
      throw badInput('devices', `at most ${MAX_IMPORT_ROWS} devices per call; split the import`);
    }
    const result: ImportDevicesResult = { created: 0, updated: 0, failed: 0, errors: [] };
    const fail = (index: number, row: DeviceInput, e: Omit<ImportRowError, 'index' | 'externalId'>) => {
      result.failed++;
      result.errors.push({ index, externalId: typeof row?.externalId === 'string' ? row.externalId : null, ...e });
    };
    const valid: [number, DeviceInput][] = [];
    const seen = new Map<string, number>();
    for (const [index, row] of rows.entries()) {
      const problems = await rowProblems(row);
      const earlier = seen.get(row.externalId);
      if (earlier !== undefined) problems.push({ field: 'externalId', message: `repeats row ${earlier} of this import` });
      if (problems.length > 0) {
        fail(index, row, { field: problems[0].field, code: ErrorCode.BAD_USER_INPUT, message: problems.map((p) => p.message).join('; ') });
        continue;
      }
      seen.set(row.externalId, index);
      valid.push([index, row]);
    }
    for (const [index, row] of valid) {
      try {
        const outcome = await this.upsert(row);
        result[outcome]++;
      } catch (err) {
        const e = err instanceof DomainError ? err : null;
        if (!e) throw err;
        fail(index, row, { field: String(e.details.field ?? 'externalId'), code: e.code, message: e.message });
      }
    }
    result.errors.sort((a, b) => a.index - b.index);
    return result;
  }

  private async upsert(row: DeviceInput): Promise<'created' | 'updated'> {
    const data = {
      name: row.name,
      type: row.type,
      latitude: row.latitude ?? null,
      longitude: row.longitude ?? null,
      criticality: row.criticality ?? undefined,
    };
    const existing = await this.prisma.device.findUnique({ where: { externalId: row.externalId } });
    if (existing?.status === DeviceStatus.DECOMMISSIONED) {
      throw conflict('externalId', `device "${row.externalId}" is decommissioned and can no longer be changed`);
    }
    if (existing) {
      await this.prisma.device.update({ where: { id: existing.id }, data });
      return 'updated';
    }
    try {
      await this.prisma.device.create({ data: { externalId: row.externalId, ...data } });
      return 'created';
    } catch (err) {
      // A concurrent import created it between our read and our write: update it instead.
      if (!isUniqueViolation(err)) throw err;
      await this.prisma.device.update({ where: { externalId: row.externalId }, data });
      return 'updated';
    }
  }

  /** OK unless an anomaly is still open; decommissioned devices keep their status. Returns the change, if any; announces nothing. */
  async recomputeStatus(deviceId: string): Promise<DeviceStatusChange | null> {
    const device = await this.prisma.device.findUnique({ where: { id: deviceId } });
    if (!device || device.status === DeviceStatus.DECOMMISSIONED) return null;
    const open = await this.prisma.anomaly.count({ where: { deviceId, status: { in: ['SUSPECTED', 'CONFIRMED'] } } });
    const status = open > 0 ? DeviceStatus.NEEDS_ATTENTION : DeviceStatus.OK;
    if (status === device.status) return null;
    const changed = await this.prisma.device.updateMany({ where: { id: deviceId, status: device.status }, data: { status } });
    return changed.count ? { previous: device.status, status, type: device.type } : null;
  }

  /**
   * What a finished run or a settled review calls: announceStatus, then the repair tracker's turn (which announces what it
   * changes). `completingInspectionId`: the inspection a run is finishing, about to be COMPLETED, which verifies fixes already.
   */
  async refreshStatus(deviceId: string, completingInspectionId?: string): Promise<DeviceStatusChange | null> {
    const change = await this.announceStatus(deviceId);
    await this.hooks.afterRefresh?.(deviceId, completingInspectionId);
    return change;
  }

  /** recomputeStatus, and DEVICE_STATUS_CHANGED when the status changed. */
  async announceStatus(deviceId: string): Promise<DeviceStatusChange | null> {
    const change = await this.recomputeStatus(deviceId);
    if (change)
      await this.events.publish('DEVICE_STATUS_CHANGED', {
        deviceId,
        status: change.status,
        previousStatus: change.previous,
        deviceType: change.type,
      });
    return change;
  }
}
