import { type PrismaClient } from '../../generated/prisma/client';
import { type PageRequest, type Ordering, scanOrdering, sqlOrderBy, sqlRange } from './keyset';
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
  children: readonly ChildRead[];
  /** Gets each parent's rows (up to take + 1, in scan order); every parent is there, those without children with none. */
  receive(rowsByParent: Map<string, Row[]>): void;
}

/** The root of a tree: a page of a table read as JSON, as paginateJson reads it. */
export interface RootRead {
  model: JsonModel;
  where: string[];
  order: string;
  take: number;
  params: unknown[];
}

/**
 * Levels one statement reads at most: the answer is one json_build_array of them (PostgreSQL takes 100 arguments),
 * and a query with many aliased lists would otherwise make one statement of any size.
 */
export const MAX_LEVELS = 32;

interface Level {
  model: JsonModel;
  read: ChildRead;
}

/** A child read's table as JSON, with the fields its query reads; undefined when the table is not read as JSON. */
const childModel = (read: ChildRead) => {
  const model = jsonModelOf(read.relation.table);
  return model && projectModel(model, read.fields, orderingFields(read.ordering));
};

/** The child reads that can join the statement (their table is read as JSON), depth first, each after its parent. */
function levelsOf(children: readonly ChildRead[], parent: number, into: (Level & { parent: number })[]) {
  for (const read of children) {
    const model = childModel(read);
    // Past the cap a list (and what is below it) is left to its loader, which reads it as before.
    if (!model || into.length >= MAX_LEVELS) continue;
    into.push({ model, read, parent });
    levelsOf(read.children, into.length, into);
  }
  return into;
}

/**
 * One statement for a page and the lists below its rows: level 0 is the page; each further level takes, for every
 * row of its parent level that the page shows (not the extra row that tells whether there is a next page), that
 * row's page of children through a LATERAL range scan. What a GraphQL query of nested lists needs in one round trip
 * instead of one per level. Returns the root's rows (take + 1 at most, in scan order); the children go to `receive`.
 */
export async function readTree(prisma: PrismaClient, root: RootRead, children: readonly ChildRead[]): Promise<Row[]> {
  const params = root.params;
  const levels = levelsOf(children, 0, []);
  params.push(root.take + 1);
  const ctes = [
    `l0 AS (SELECT ${root.model.select} AS j, t."id" AS id, row_number() OVER (ORDER BY ${root.order}) AS n
  FROM "${root.model.table}" t${root.where.length ? ` WHERE ${root.where.join(' AND ')}` : ''}
  ORDER BY ${root.order} LIMIT $${params.length})`,
  ];
  const takes = [root.take];
  levels.forEach(({ model, read, parent }, i) => {
    const scan = sqlOrderBy(scanOrdering(read.ordering, read.req.backward));
    const where = [
      `t."${read.relation.parentColumn}" = p.id`,
      ...sqlRange(read.ordering, read.req, params),
      ...(read.filter?.(params) ?? []),
    ];
    params.push(read.req.take + 1);
    const limit = params.length;
    params.push(takes[parent]);
    takes.push(read.req.take);
    ctes.push(`l${i + 1} AS (SELECT p.id AS parent_id, c.j, c.id, c.n FROM l${parent} p CROSS JOIN LATERAL (
  SELECT ${model.select} AS j, t."id" AS id, row_number() OVER (ORDER BY ${scan}) AS n FROM "${model.table}" t
  WHERE ${where.join(' AND ')} ORDER BY ${scan} LIMIT $${limit}
) c WHERE p.n <= $${params.length})`);
  });
  const parts = [
    `(SELECT coalesce(json_agg(j ORDER BY n), '[]') FROM l0)`,
    ...levels.map((_l, i) => `(SELECT coalesce(json_agg(json_build_array(parent_id, j) ORDER BY parent_id, n), '[]') FROM l${i + 1})`),
  ];
  const sql = `WITH ${ctes.join(',\n')}\nSELECT json_build_array(${parts.join(', ')})::text AS tree`;
  const [result] = await prisma.$queryRawUnsafe<{ tree: string }[]>(sql, ...params);
  const [rootValues, ...childValues] = JSON.parse(result.tree) as [unknown[][], ...[string, unknown[]][][]];
  const rootRows = rootValues.map((v) => toRow<Row>(v, root.model));
  // Per level, the rows its pages show (each parent's first `take`): the parents of the level below.
  const shown: Row[][] = [rootRows.slice(0, root.take)];
  levels.forEach(({ model, read, parent }, i) => {
    const byParent = new Map<string, Row[]>(shown[parent].map((r) => [r.id as string, []]));
    for (const [parentId, values] of childValues[i]) byParent.get(parentId)?.push(toRow<Row>(values, model));
    shown.push([...byParent.values()].flatMap((page) => page.slice(0, read.req.take)));
    read.receive(byParent);
  });
  return rootRows;
}
