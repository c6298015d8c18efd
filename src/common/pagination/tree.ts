import { type PrismaClient } from '../../generated/prisma/client';
import { type PageRequest, type Ordering, scanOrdering, sqlCount, sqlOrderBy, sqlRange } from './keyset';
import { jsonModelOf } from './json-models';
import { type JsonModel, orderingFields, projectModel, type SqlFilter, toRow } from './json-model';
import { type NestedRelation } from './nested';

type Row = Record<string, unknown>;

/**
 * A list below the rows of a page, read in the page's own statement: each parent's page of children, as
 * nestedPages reads it (the same range, order and limit per parent), for a table read as JSON. Its own
 * children are read the same way below it.
 */
export interface ChildRead {
  relation: NestedRelation;
  ordering: Ordering;
  req: PageRequest;
  filter?: SqlFilter;
  /** The fields the query reads (src/graphql/projection.ts); undefined reads whole rows. */
  fields?: readonly string[];
  children: readonly TreeRead[];
  /** Gets each parent's rows (up to take + 1, in scan order); every parent is there, those without children with none. */
  receive(rowsByParent: Map<string, Row[]>): void;
}

/** The row a parent row points at (an inspection's device), read in the parent's statement. */
export interface OneRead {
  /** The parent's column that holds the row's id. */
  foreignKey: string;
  /** The row's table, read as JSON. */
  table: string;
  /** The fields the query reads (src/graphql/projection.ts); undefined reads whole rows. */
  fields?: readonly string[];
  /** Gets the rows the shown parents point at (a row once per parent pointing at it). */
  receive(rows: Row[]): void;
}

export type TreeRead = ChildRead | OneRead;

const isOne = (read: TreeRead): read is OneRead => 'foreignKey' in read;

/** The root of a tree: a page of a table read as JSON, as paginateJson reads it. */
export interface RootRead {
  model: JsonModel;
  where: string[];
  order: string;
  take: number;
  params: unknown[];
}

/**
 * Levels one statement reads at most: each level is a subquery in its parent's row, and a query with many aliased lists
 * would otherwise make one statement of any size.
 */
export const MAX_LEVELS = 32;

interface Level {
  model: JsonModel;
  read: TreeRead;
  children: Level[];
}

/** A child read's table as JSON, with the fields its query reads; undefined when the table is not read as JSON. */
function childModel(read: TreeRead) {
  const model = jsonModelOf(isOne(read) ? read.table : read.relation.table);
  return model && projectModel(model, read.fields, isOne(read) ? ['id'] : orderingFields(read.ordering));
}

/** The child reads that can join the statement (their table is read as JSON), each with its own below it, MAX_LEVELS in all. */
function levelsOf(children: readonly TreeRead[], count: { n: number }): Level[] {
  const levels: Level[] = [];
  for (const read of children) {
    const model = childModel(read);
    // Past the cap a list (and what is below it) is left to its loader, which reads it as before.
    if (!model || count.n >= MAX_LEVELS) continue;
    count.n++;
    levels.push({ model, read, children: isOne(read) ? [] : levelsOf(read.children, count) });
  }
  return levels;
}

/**
 * A row of a level as SQL: its fields' JSON array, or, when lists are read below it, an array of that and each list.
 * A list is read only for the rows its parent's page shows (the row number `shownBy` counts in scan order up to
 * `take`), not for the extra row that tells whether there is a next page.
 */
function rowSql(model: JsonModel, below: Level[], shownBy: string, take: number, params: unknown[]): string {
  if (!below.length) return model.select;
  const shown = `row_number() OVER (ORDER BY ${shownBy}) <= ${sqlCount(take)}`;
  const lists = below.map(({ model: child, read, children }) => {
    if (isOne(read)) {
      return `CASE WHEN ${shown} THEN (SELECT (SELECT ${child.select} FROM "${child.table}" t WHERE t."id" = p.id)
  FROM (SELECT t."${read.foreignKey}") p(id)) END`;
    }
    const scan = sqlOrderBy(scanOrdering(read.ordering, read.req.backward));
    const where = [
      `t."${read.relation.parentColumn}" = p.id`,
      ...sqlRange(read.ordering, read.req, params),
      ...(read.filter?.(params) ?? []),
    ];
    const row = rowSql(child, children, scan, read.req.take, params);
    // p names the parent row: inside the list, t is the child's table.
    return `CASE WHEN ${shown} THEN (SELECT array_to_json(ARRAY(SELECT ${row} FROM "${child.table}" t
  WHERE ${where.join(' AND ')} ORDER BY ${scan} LIMIT ${sqlCount(read.req.take + 1)})) FROM (SELECT t."id") p(id)) END`;
  });
  return `json_build_array(${model.select}, ${lists.join(',\n')})`;
}

interface Shown {
  id: string;
  entry: unknown[];
}

/** Hands each level's pages to its read, parents before children; `slot` is the level's place in its parents' entries. */
function receive(level: Level, parents: Shown[], slot: number): void {
  const { read } = level;
  if (isOne(read)) {
    read.receive(parents.flatMap((p) => (p.entry[slot] ? [toRow<Row>(p.entry[slot] as unknown[], level.model)] : [])));
    return;
  }
  const nested = level.children.length > 0;
  const byParent = new Map<string, Row[]>();
  const shown: Shown[] = [];
  for (const parent of parents) {
    const entries = (parent.entry[slot] ?? []) as unknown[][];
    const rows = entries.map((e) => toRow<Row>(nested ? (e[0] as unknown[]) : e, level.model));
    byParent.set(parent.id, rows);
    for (let k = 0; k < Math.min(rows.length, read.req.take); k++) shown.push({ id: rows[k].id as string, entry: entries[k] });
  }
  read.receive(byParent);
  level.children.forEach((child, i) => receive(child, shown, i + 1));
}

/**
 * One statement for a page and the lists below its rows: the page's rows in order, each row with, for every list
 * below it, that row's page of children (the same range, order and limit as nestedPages reads per parent) read by a
 * subquery on the child table's index, and theirs below them. What a GraphQL query of nested lists needs in one round
 * trip instead of one per level, built as PostGraphile builds its reads: no CTEs to materialise, no sort of a level's
 * rows by parent. Returns the root's rows (take + 1 at most, in scan order); the children go to `receive`.
 */
export async function readTree(prisma: PrismaClient, root: RootRead, children: readonly TreeRead[]): Promise<Row[]> {
  const params = root.params;
  const levels = levelsOf(children, { n: 0 });
  const row = rowSql(root.model, levels, root.order, root.take, params);
  const sql = `SELECT array_to_json(ARRAY(SELECT ${row} FROM "${root.model.table}" t${
    root.where.length ? ` WHERE ${root.where.join(' AND ')}` : ''
  } ORDER BY ${root.order} LIMIT ${sqlCount(root.take + 1)}))::text AS tree`;
  const [result] = await prisma.$queryRawUnsafe<{ tree: string }[]>(sql, ...params);
  const entries = JSON.parse(result.tree) as unknown[][];
  const nested = levels.length > 0;
  const rootRows = entries.map((e) => toRow<Row>(nested ? (e[0] as unknown[]) : e, root.model));
  const shown = entries.slice(0, root.take).map((entry, k) => ({ id: rootRows[k].id as string, entry }));
  levels.forEach((level, i) => receive(level, shown, i + 1));
  return rootRows;
}
