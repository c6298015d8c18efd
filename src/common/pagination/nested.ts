import { type PrismaClient } from '../../generated/prisma/client';
import { type Ordering, type PageRequest, scanOrdering, sqlOrderBy, sqlRange } from './keyset';
import { jsonModelOf } from './json-models';
import { type JsonModel, orderingFields, projectModel, type SqlFilter, toRow } from './json-model';

/** A child table paged per parent, e.g. inspections per device. Names come from code, never from input. */
export interface NestedRelation {
  table: string;
  parentColumn: string;
}

/** A list below each parent: its table, its order and what it leaves out. */
export interface NestedList {
  relation: NestedRelation;
  ordering: Ordering;
  filter?: SqlFilter;
}

export type { SqlFilter };

/** `t.<column>` is one of `values` (compared as text, so it serves enum columns too); no filter when empty. */
export const columnIn = (column: string, values?: readonly string[]): SqlFilter | undefined =>
  values?.length ? (params) => [`t."${column}"::text IN (${values.map((v) => `$${params.push(v)}`).join(', ')})`] : undefined;

function parentList(parentIds: readonly string[], params: unknown[]): string {
  return parentIds
    .map((id, i) => {
      params.push(id);
      return `($${params.length}::uuid, ${i})`;
    })
    .join(', ');
}

const fieldNames = new Map<string, string>();
const camel = (column: string) => {
  let field = fieldNames.get(column);
  if (field === undefined) {
    field = column.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase());
    fieldNames.set(column, field);
  }
  return field;
};

/**
 * The database row as Prisma returns it: every column is its field's name in snake_case
 * (test/unit/naming.test.ts holds the schema to that), and raw queries type values as Prisma does.
 */
function toModel<T>(row: Record<string, unknown>): T {
  const model: Record<string, unknown> = {};
  for (const key in row) if (key !== '__parent') model[camel(key)] = row[key];
  return model as T;
}

/**
 * Each parent's page of children in one statement: a LATERAL join runs the indexed, limited
 * range scan once per parent, so the cost follows the page size, not the children's count.
 * Returns each parent's rows (up to take + 1) in scan order.
 */
export async function nestedPages<T>(
  prisma: PrismaClient,
  relation: NestedRelation,
  ordering: Ordering,
  req: PageRequest,
  parentIds: readonly string[],
  filter?: SqlFilter,
  /** The fields the query reads (src/graphql/projection.ts): for a table read as JSON; undefined reads whole rows. */
  fields?: readonly string[],
): Promise<Map<string, T[]>> {
  const params: unknown[] = [];
  const values = parentList(parentIds, params);
  const scan = scanOrdering(ordering, req.backward);
  const where = [`t."${relation.parentColumn}" = p.parent_id`, ...sqlRange(ordering, req, params), ...(filter?.(params) ?? [])];
  params.push(req.take + 1);
  const lateral = { values, where: where.join(' AND '), order: sqlOrderBy(scan), limit: `$${params.length}` };
  const model = jsonModelOf(relation.table);
  if (model) return nestedJsonPages<T>(prisma, projectModel(model, fields, orderingFields(ordering)), parentIds, lateral, params);
  const outerOrder = scan.map((k) => `c."${k.column}" ${k.direction.toUpperCase()}`).join(', ');
  const sql = `SELECT p.parent_id::text AS "__parent", c.*
FROM (VALUES ${values}) AS p(parent_id, ord)
CROSS JOIN LATERAL (
  SELECT t.* FROM "${relation.table}" t
  WHERE ${lateral.where}
  ORDER BY ${lateral.order} LIMIT ${lateral.limit}
) c
ORDER BY p.ord, ${outerOrder}`;
  const rows = await prisma.$queryRawUnsafe<Record<string, unknown>[]>(sql, ...params);
  const byParent = new Map<string, T[]>(parentIds.map((id) => [id, []]));
  for (const r of rows) byParent.get(r.__parent as string)?.push(toModel<T>(r));
  return byParent;
}

/** nestedPages for a table read as JSON text: one value for all parents' pages, each row tagged with its parent's position. */
async function nestedJsonPages<T>(
  prisma: PrismaClient,
  model: JsonModel,
  parentIds: readonly string[],
  lateral: { values: string; where: string; order: string; limit: string },
  params: unknown[],
): Promise<Map<string, T[]>> {
  const sql = `SELECT coalesce(json_agg(json_build_array(p.ord, c.j) ORDER BY p.ord, c.n), '[]')::text AS rows
FROM (VALUES ${lateral.values}) AS p(parent_id, ord)
CROSS JOIN LATERAL (
  SELECT ${model.select} AS j, row_number() OVER (ORDER BY ${lateral.order}) AS n FROM "${model.table}" t
  WHERE ${lateral.where}
  ORDER BY ${lateral.order} LIMIT ${lateral.limit}
) c`;
  const [result] = await prisma.$queryRawUnsafe<{ rows: string }[]>(sql, ...params);
  const pages = parentIds.map((): T[] => []);
  for (const [ord, values] of JSON.parse(result.rows) as [number, unknown[]][]) pages[ord].push(toRow<T>(values, model));
  return new Map(parentIds.map((id, i) => [id, pages[i]]));
}

/** Children per parent matching the filter, in one GROUP BY. */
export async function nestedCounts(
  prisma: PrismaClient,
  relation: NestedRelation,
  parentIds: readonly string[],
  filter?: SqlFilter,
): Promise<Map<string, number>> {
  const params: unknown[] = [];
  const list = parentIds.map((id) => `$${params.push(id)}::uuid`).join(', ');
  const where = [`t."${relation.parentColumn}" IN (${list})`, ...(filter?.(params) ?? [])];
  const rows = await prisma.$queryRawUnsafe<{ parentId: string; n: number }[]>(
    `SELECT t."${relation.parentColumn}"::text AS "parentId", count(*)::int AS n FROM "${relation.table}" t WHERE ${where.join(' AND ')} GROUP BY 1`,
    ...params,
  );
  const counts = new Map<string, number>(parentIds.map((id) => [id, 0]));
  for (const r of rows) counts.set(r.parentId, Number(r.n));
  return counts;
}
