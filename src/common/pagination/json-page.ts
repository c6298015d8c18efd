import { type PrismaClient } from '../../generated/prisma/client';
import { type Connection } from './connection.type';
import { type Ordering, type PageLimits, pageRequest, scanOrdering, sqlOrderBy, sqlRange, toConnection } from './keyset';
import { type PageArgs } from './page.args';

/** Extra SQL conditions on alias `t`; `build` appends its parameters and returns the clause. */
export type SqlFilter = (params: unknown[]) => string[];

/**
 * A model read as JSON text built by the database: one text value for a whole page instead of a row per
 * model and a value per column, which Prisma's result mapping makes the dearest part of a list read.
 * Each column is its field's name in snake_case (test/unit/naming.test.ts holds the schema to that).
 */
export interface JsonModel {
  table: string;
  /** `json_build_object(...)` of row alias `t`, keyed by the model's field names. */
  select: string;
  /** Fields PostgreSQL writes as timestamp text; they are turned back into Date as Prisma gives them. */
  dates: readonly string[];
}

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * `fields` is the model's Prisma scalar field enum (e.g. Prisma.AnomalyScalarFieldEnum); `dates` its DateTime fields.
 * Only for models of plain scalars: a Json, Decimal or BigInt field would not come back as Prisma returns it.
 */
export function jsonModel(table: string, fields: Record<string, string>, dates: readonly string[]): JsonModel {
  const names = Object.values(fields);
  // json_build_object takes at most 100 arguments.
  if (names.length > 50) throw new Error(`${table}: ${names.length} fields is more than one json_build_object holds`);
  return { table, select: `json_build_object(${names.map((f) => `'${f}', t."${snake(f)}"`).join(', ')})`, dates };
}

/** A model parsed from JSON, with its dates turned back into Date. */
export function withDates<T>(row: Record<string, unknown>, model: JsonModel): T {
  for (const d of model.dates) {
    const v = row[d];
    if (typeof v === 'string') row[d] = new Date(v);
  }
  return row as T;
}

/** The rows of a JSON array of models, with their dates as Date. */
export function parseModels<T>(text: string, model: JsonModel): T[] {
  return (JSON.parse(text) as Record<string, unknown>[]).map((row) => withDates<T>(row, model));
}

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
}): Promise<Connection<T>> {
  const { model, ordering } = options;
  const req = pageRequest(options.page, ordering, options.limits);
  if (req.take === 0 && !req.cursor) return toConnection<T>([], req, ordering, options.count);
  const params: unknown[] = [];
  const where = [...options.filters.flatMap((f) => f?.(params) ?? []), ...sqlRange(ordering, req, params)];
  const order = sqlOrderBy(scanOrdering(ordering, req.backward));
  params.push(req.take + 1);
  const sql = `SELECT coalesce(json_agg(x.j ORDER BY x.n), '[]')::text AS rows FROM (
  SELECT ${model.select} AS j, row_number() OVER (ORDER BY ${order}) AS n
  FROM "${model.table}" t${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
  ORDER BY ${order} LIMIT $${params.length}
) x`;
  const [result] = await options.prisma.$queryRawUnsafe<{ rows: string }[]>(sql, ...params);
  return toConnection(parseModels<T>(result.rows, model), req, ordering, options.count);
}

/** `t.<column> = $n` cast to `type`; no condition when the value is undefined. */
export const columnEquals = (column: string, value: unknown, type: string): SqlFilter | undefined =>
  value === undefined || value === null ? undefined : (params) => [`t."${column}" = $${params.push(value)}::${type}`];

/** `t.<column> >= $n` cast to `type`; no condition when the value is undefined. */
export const columnAtLeast = (column: string, value: unknown, type: string): SqlFilter | undefined =>
  value === undefined || value === null ? undefined : (params) => [`t."${column}" >= $${params.push(value)}::${type}`];

/** `t.<column>` is one of `values`, each cast to the column's enum type so its index serves; none when empty. */
export const enumIn = (column: string, enumType: string, values?: readonly string[]): SqlFilter | undefined =>
  values?.length ? (params) => [`t."${column}" IN (${values.map((v) => `$${params.push(v)}::"${enumType}"`).join(', ')})`] : undefined;

/** Rows of a JSON-read table by id (ids must be uuids), in no particular order: for rowsByIds. */
export async function jsonRowsByIds<T>(prisma: PrismaClient, model: JsonModel, ids: readonly string[]): Promise<T[]> {
  if (ids.length === 0) return [];
  const params: unknown[] = [];
  const list = ids.map((id) => `$${params.push(id)}::uuid`).join(', ');
  const [result] = await prisma.$queryRawUnsafe<{ rows: string }[]>(
    `SELECT coalesce(json_agg(${model.select}), '[]')::text AS rows FROM "${model.table}" t WHERE t."id" IN (${list})`,
    ...params,
  );
  return parseModels<T>(result.rows, model);
}
