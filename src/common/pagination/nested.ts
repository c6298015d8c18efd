import { type PrismaClient } from '../../generated/prisma/client';
import { type Ordering, type PageRequest, scanOrdering, sqlOrderBy, sqlRange } from './keyset';

/** A child table paged per parent, e.g. inspections per device. Names come from code, never from input. */
export interface NestedRelation {
  table: string;
  parentColumn: string;
}

/** Extra SQL conditions on alias `t`; `build` appends its parameters and returns the clause. */
export type SqlFilter = (params: unknown[]) => string[];

function parentList(parentIds: readonly string[], params: unknown[]): string {
  return parentIds
    .map((id, i) => {
      params.push(id);
      return `($${params.length}::uuid, ${i})`;
    })
    .join(', ');
}

/**
 * One statement for the ids of every parent's page: a LATERAL join runs the indexed, limited
 * range scan once per parent, so the cost follows the page size, not the children's count.
 * Returns each parent's ids (up to take + 1) in scan order.
 */
export async function nestedPageIds(
  prisma: PrismaClient,
  relation: NestedRelation,
  ordering: Ordering,
  req: PageRequest,
  parentIds: readonly string[],
  filter?: SqlFilter,
): Promise<Map<string, string[]>> {
  const params: unknown[] = [];
  const values = parentList(parentIds, params);
  const scan = scanOrdering(ordering, req.backward);
  const where = [`t."${relation.parentColumn}" = p.parent_id`, ...sqlRange(ordering, req, params), ...(filter?.(params) ?? [])];
  const sortColumns = scan.map((k) => `t."${k.column}"`);
  const outerOrder = scan.map((k) => `c."${k.column}" ${k.direction.toUpperCase()}`).join(', ');
  params.push(req.take + 1);
  const sql = `SELECT p.parent_id::text AS "parentId", c.id::text AS "id"
FROM (VALUES ${values}) AS p(parent_id, ord)
CROSS JOIN LATERAL (
  SELECT ${[...new Set(['t."id"', ...sortColumns])].join(', ')} FROM "${relation.table}" t
  WHERE ${where.join(' AND ')}
  ORDER BY ${sqlOrderBy(scan)} LIMIT $${params.length}
) c
ORDER BY p.ord, ${outerOrder}`;
  const rows = await prisma.$queryRawUnsafe<{ parentId: string; id: string }[]>(sql, ...params);
  const byParent = new Map<string, string[]>(parentIds.map((id) => [id, []]));
  for (const r of rows) byParent.get(r.parentId)?.push(r.id);
  return byParent;
}

/** Children per parent matching the filter, in one GROUP BY. */
export async function nestedCounts(
  prisma: PrismaClient,
  relation: NestedRelation,
  parentIds: readonly string[],
  filter?: SqlFilter,
): Promise<Map<string, number>> {
  const params: unknown[] = [];
  const list = parentIds.map((id) => (params.push(id), `$${params.length}::uuid`)).join(', ');
  const where = [`t."${relation.parentColumn}" IN (${list})`, ...(filter?.(params) ?? [])];
  const rows = await prisma.$queryRawUnsafe<{ parentId: string; n: number }[]>(
    `SELECT t."${relation.parentColumn}"::text AS "parentId", count(*)::int AS n FROM "${relation.table}" t WHERE ${where.join(' AND ')} GROUP BY 1`,
    ...params,
  );
  const counts = new Map<string, number>(parentIds.map((id) => [id, 0]));
  for (const r of rows) counts.set(r.parentId, Number(r.n));
  return counts;
}
