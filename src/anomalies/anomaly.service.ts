import { type Anomaly, type Prisma, type PrismaClient } from '../generated/prisma/client';
import { badInput } from '../common/errors';
import { connectionsFor } from '../common/pagination/batch';
import { type Connection } from '../common/pagination/connection.type';
import { byId, type Ordering, type PageLimits, type PageRequest, listOrdering } from '../common/pagination/keyset';
import { columnAtLeast, columnEquals, enumIn } from '../common/pagination/json-model';
import { paginateJson } from '../common/pagination/json-page';
import { jsonModelOf } from '../common/pagination/json-models';
import { columnIn, nestedCounts, type NestedList, type NestedRelation, nestedPages } from '../common/pagination/nested';
import { type PageArgs } from '../common/pagination/page.args';
import { AnomalyOrderField, type AnomalyOrder } from './anomaly.input';
import { AnomalyStatus } from './anomaly.type';

export const ANOMALY_ORDER: Ordering = listOrdering('Anomaly', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);

const ANOMALY_JSON = jsonModelOf('anomalies')!;

/** Open means someone still has to act on it. */
export const OPEN_STATUSES: AnomalyStatus[] = [AnomalyStatus.SUSPECTED, AnomalyStatus.CONFIRMED];

const PARENTS = {
  device: { table: 'anomalies', parentColumn: 'device_id' },
  inspection: { table: 'anomalies', parentColumn: 'inspection_id' },
  image: { table: 'anomalies', parentColumn: 'image_id' },
  defect: { table: 'anomalies', parentColumn: 'defect_id' },
} satisfies Record<string, NestedRelation>;
export type AnomalyParent = keyof typeof PARENTS;

export interface AnomalyQuery {
  deviceId?: string;
  status?: AnomalyStatus[];
  type?: string;
  minConfidence?: number;
  since?: Date;
}

function ordering(order?: AnomalyOrder | null): Ordering {
  if (!order) return ANOMALY_ORDER;
  const direction = order.direction;
  const key =
    order.field === AnomalyOrderField.CONFIDENCE
      ? { field: 'confidence', column: 'confidence', kind: 'number' as const, direction }
      : { field: 'createdAt', column: 'created_at', kind: 'date' as const, direction };
  return [key, byId(direction)];
}

const statusFilter = (statuses?: readonly AnomalyStatus[]) => columnIn('status', statuses);

/** Each parent's anomalies, newest first, optionally only some statuses. */
export const anomaliesOfParents = (parent: AnomalyParent, statuses?: readonly AnomalyStatus[]): NestedList => ({
  relation: PARENTS[parent],
  ordering: ANOMALY_ORDER,
  filter: statusFilter(statuses),
});

export class AnomalyService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
  ) {}

  /** `fields`: what the query reads of each row (src/graphql/projection.ts); the rows hold only those. */
  list(
    filter: AnomalyQuery,
    order: AnomalyOrder | null | undefined,
    page: PageArgs,
    fields?: readonly string[],
  ): Promise<Connection<Anomaly>> {
    const where: Prisma.AnomalyWhereInput = {
      deviceId: filter.deviceId,
      status: filter.status?.length ? { in: filter.status } : undefined,
      type: filter.type,
      confidence: filter.minConfidence != null ? { gte: filter.minConfidence } : undefined,
      createdAt: filter.since ? { gte: filter.since } : undefined,
    };
    // The page is read as one JSON text (the same conditions as `where`, which counts): Prisma's mapping of every row was most of a list's cost.
    return paginateJson({
      prisma: this.prisma,
      model: ANOMALY_JSON,
      page,
      ordering: ordering(order),
      limits: this.limits,
      filters: [
        columnEquals('device_id', filter.deviceId, 'uuid'),
        enumIn('status', 'AnomalyStatus', filter.status),
        columnEquals('type', filter.type, 'text'),
        columnAtLeast('confidence', filter.minConfidence, 'float8'),
        columnAtLeast('created_at', filter.since?.toISOString(), 'timestamptz'),
      ],
      count: () => this.prisma.anomaly.count({ where }),
      fields,
    });
  }

  get(id: string): Promise<Anomaly | null> {
    return this.prisma.anomaly.findUnique({ where: { id } });
  }

  /** Each parent's page of anomalies, newest first, optionally only some statuses. */
  async pagesOf(
    parent: AnomalyParent,
    parentIds: readonly string[],
    req: PageRequest,
    statuses: AnomalyStatus[] | undefined,
    count: (id: string) => Promise<number>,
    fields?: readonly string[],
  ) {
    const list = anomaliesOfParents(parent, statuses);
    const rows = await nestedPages<Anomaly>(this.prisma, list.relation, list.ordering, req, parentIds, list.filter, fields);
    return connectionsFor(rows, req, ANOMALY_ORDER, count);
  }

  countsOf(parent: AnomalyParent, parentIds: readonly string[], statuses?: AnomalyStatus[]): Promise<Map<string, number>> {
    return nestedCounts(this.prisma, PARENTS[parent], parentIds, statusFilter(statuses));
  }

  /**
   * Anomalies found or changed at or after `since`, oldest change first: what a resuming subscriber missed.
   * More than `limit` is refused rather than cut short, so a resume never silently skips any.
   */
  async changedSince(since: Date, filter: AnomalyReplayFilter, limit: number): Promise<Anomaly[]> {
    const rows = await this.prisma.anomaly.findMany({
      where: {
        updatedAt: { gte: since },
        deviceId: filter.deviceIds?.length ? { in: filter.deviceIds } : undefined,
        type: filter.types?.length ? { in: filter.types } : undefined,
        confidence: filter.minConfidence ? { gte: filter.minConfidence } : undefined,
      },
      orderBy: [{ updatedAt: 'asc' }, { id: 'asc' }],
      take: limit + 1,
    });
    if (rows.length > limit)
      throw badInput(
        'since',
        `more than ${limit} anomalies changed since ${since.toISOString()}: read them with the anomalies query, then subscribe with a later since`,
      );
    return rows;
  }
}

export interface AnomalyReplayFilter {
  deviceIds?: string[];
  types?: string[];
  minConfidence?: number;
}
