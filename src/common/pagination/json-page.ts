import { type PrismaClient } from '../../generated/prisma/client';
import { type Connection } from './connection.type';
import { type JsonModel, orderingFields, parseModels, projectModel, type SqlFilter } from './json-model';
import { type Ordering, type PageLimits, pageRequest, scanOrdering, sqlCount, sqlOrderBy, sqlRange, toConnection } from './keyset';
import { type PageArgs } from './page.args';
import { readTree, type TreeRead } from './tree';

/**
 * One top-level connection read as one JSON text: the same arguments, range and order as `paginate`, with the
 * filter as SQL conditions on alias `t` (values always as parameters). `count` runs only when totalCount is asked.
 */
export async function paginateJson<T extends Record<string, unknown>>(options: {
  prisma: PrismaClient;
  model: JsonModel;
  page: PageArgs;
  ordering: Ordering;
  limits: PageLimits;
  filters: (SqlFilter | undefined)[];
  count: () => Promise<number>;
  /** The fields the query reads (src/graphql/projection.ts); undefined reads whole rows. */
  fields?: readonly string[];
  /** Lists below the page's rows, read in the same statement (src/common/pagination/tree.ts). */
  children?: readonly TreeRead[];
}): Promise<Connection<T>> {
  const { ordering } = options;
  const model = projectModel(options.model, options.fields, orderingFields(ordering));
  const req = pageRequest(options.page, ordering, options.limits);
  if (req.take === 0 && !req.cursor) return toConnection<T>([], req, ordering, options.count);
  const params: unknown[] = [];
  const where = [...options.filters.flatMap((f) => f?.(params) ?? []), ...sqlRange(ordering, req, params)];
  const order = sqlOrderBy(scanOrdering(ordering, req.backward));
  if (options.children?.length) {
    const rows = await readTree(options.prisma, { model, where, order, take: req.take, params }, options.children);
    return toConnection(rows as T[], req, ordering, options.count);
  }
  // The rows' arrays collected in scan order by the array constructor: no window to number them, no sort in the aggregate.
  const sql = `SELECT array_to_json(ARRAY(SELECT ${model.select}
  FROM "${model.table}" t${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
  ORDER BY ${order} LIMIT ${sqlCount(req.take + 1)}))::text AS rows`;
  const [result] = await options.prisma.$queryRawUnsafe<{ rows: string }[]>(sql, ...params);
  return toConnection(parseModels<T>(result.rows, model), req, ordering, options.count);
}

/** Rows of a JSON-read table by id (ids must be uuids), in no particular order: for rowsByIds. */
export async function jsonRowsByIds<T>(prisma: PrismaClient, model: JsonModel, ids: readonly string[]): Promise<T[]> {
  if (ids.length === 0) return [];
  // One text for any number of ids, so the statement is prepared once (src/db/prepared-statements.ts).
  const [result] = await prisma.$queryRawUnsafe<{ rows: string }[]>(
    `SELECT array_to_json(ARRAY(SELECT ${model.select} FROM "${model.table}" t WHERE t."id" = ANY($1::uuid[])))::text AS rows`,
    ids,
  );
  return parseModels<T>(result.rows, model);
}
