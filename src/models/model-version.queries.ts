import { type ModelDeployment, type ModelVersion, type PrismaClient } from '../generated/prisma/client';
import { byId, type Ordering, type PageLimits, paginate, listOrdering } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';
import { type Connection } from '../common/pagination/connection.type';
import { type ModelProfile, type ModelStatus } from '../generated/prisma/enums';

export const VERSION_ORDER: Ordering = listOrdering('ModelVersion', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);

export interface ModelVersionFilter {
  deviceType?: string | null;
  profile?: ModelProfile | null;
  status?: ModelStatus | null;
  datasetId?: string | null;
}

/** Reading model versions: GraphQL and the CLI. */
export class ModelVersionQueries {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
  ) {}

  byIds(ids: readonly string[]): Promise<ModelVersion[]> {
    return this.prisma.modelVersion.findMany({ where: { id: { in: [...ids] } } });
  }

  list(filter: ModelVersionFilter, page: PageArgs): Promise<Connection<ModelVersion>> {
    const where = {
      ...(filter.deviceType ? { deviceType: filter.deviceType } : {}),
      ...(filter.profile ? { profile: filter.profile } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.datasetId ? { datasetId: filter.datasetId } : {}),
    };
    return paginate({
      page,
      ordering: VERSION_ORDER,
      limits: this.limits,
      where,
      find: (q) => this.prisma.modelVersion.findMany(q),
      count: (w) => this.prisma.modelVersion.count({ where: w }),
    });
  }

  deployment(id: string): Promise<ModelDeployment | null> {
    return this.prisma.modelDeployment.findUnique({ where: { id } });
  }
}
