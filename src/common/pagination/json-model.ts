import { type Ordering } from './keyset';

/** Extra SQL conditions on alias `t`; `build` appends its parameters and returns the clause. */
export type SqlFilter = (params: unknown[]) => string[];

/**
 * A model read as JSON text built by the database: one text value for a whole page instead of a row per
 * model and a value per column, which Prisma's result mapping makes the dearest part of a list read.
 * Each row is an array of its values in the order of `fields` (keys cost PostgreSQL a third more to write and
 * JavaScript more to parse); `toRow` makes it the model object.
 * Each column is its field's name in snake_case (test/unit/naming.test.ts holds the schema to that).
 */
export interface JsonModel {
  table: string;
  /** `json_build_array(...)` of row alias `t`: the values of `fields`, in order. */
  select: string;
  /** Fields PostgreSQL writes as timestamp text; they are turned back into Date as Prisma gives them. */
  dates: readonly string[];
  /** The fields `select` reads, in its order: every field of the model, or those of a projection. */
  fields: readonly string[];
}

const snake = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/**
 * `fields` is the model's Prisma scalar field enum (e.g. Prisma.AnomalyScalarFieldEnum); `dates` its DateTime fields.
 * Only for models of plain scalars: a Json, Decimal or BigInt field would not come back as Prisma returns it.
 */
export function jsonModel(table: string, fields: Record<string, string>, dates: readonly string[]): JsonModel {
  const names = Object.values(fields);
  // json_build_array takes at most 100 arguments.
  if (names.length > 100) throw new Error(`${table}: ${names.length} fields is more than one json_build_array holds`);
  return { table, select: buildArray(names), dates, fields: names };
}

const buildArray = (names: readonly string[]) => `json_build_array(${names.map((f) => `t."${snake(f)}"`).join(', ')})`;

const projections = new WeakMap<JsonModel, Map<string, JsonModel>>();
/** Projections kept per model. */
const MAX_PROJECTIONS = 256;

/**
 * The model reading only `fields` and `always` (each row then holds only those properties): a page of 100 rows
 * built by PostgreSQL as JSON costs it about a third when it holds the 9 fields a query asks instead of all 23
 * (bench:compare's query b). Undefined `fields` means every field; names that are not the model's are ignored.
 */
export function projectModel(model: JsonModel, fields: readonly string[] | undefined, always: readonly string[]): JsonModel {
  if (!fields) return model;
  const wanted = new Set([...always, ...fields]);
  const names = model.fields.filter((f) => wanted.has(f));
  if (names.length === model.fields.length) return model;
  const key = names.join(',');
  let byKey = projections.get(model);
  if (!byKey) {
    byKey = new Map();
    projections.set(model, byKey);
  }
  let projected = byKey.get(key);
  if (!projected) {
    projected = { table: model.table, select: buildArray(names), dates: model.dates.filter((d) => wanted.has(d)), fields: names };
    // Field sets are the clients' choice: past the cap a projection is made for its request and not kept.
    if (byKey.size < MAX_PROJECTIONS) byKey.set(key, projected);
  }
  return projected;
}

/** The fields a page's cursors are made of: read whatever the query asks. */
export const orderingFields = (ordering: Ordering): string[] => ['id', ...ordering.map((k) => k.field)];

/** The model object of one row's values as `model.select` gives them, with its dates turned back into Date. */
export function toRow<T>(values: readonly unknown[], model: JsonModel): T {
  const row: Record<string, unknown> = {};
  const { fields } = model;
  for (let i = 0; i < fields.length; i++) row[fields[i]] = values[i];
  for (const d of model.dates) {
    const v = row[d];
    if (typeof v === 'string') row[d] = new Date(v);
  }
  return row as T;
}

/** The rows of a JSON array of rows' values, as model objects. */
export function parseModels<T>(text: string, model: JsonModel): T[] {
  return (JSON.parse(text) as unknown[][]).map((values) => toRow<T>(values, model));
}

/** `t.<column> = $n` cast to `type`; no condition when the value is undefined. */
export const columnEquals = (column: string, value: unknown, type: string): SqlFilter | undefined =>
  value === undefined || value === null ? undefined : (params) => [`t."${column}" = $${params.push(value)}::${type}`];

/** `t.<column> >= $n` cast to `type`; no condition when the value is undefined. */
export const columnAtLeast = (column: string, value: unknown, type: string): SqlFilter | undefined =>
  value === undefined || value === null ? undefined : (params) => [`t."${column}" >= $${params.push(value)}::${type}`];

/** `t.<column> <= $n` cast to `type`; no condition when the value is undefined. */
export const columnAtMost = (column: string, value: unknown, type: string): SqlFilter | undefined =>
  value === undefined || value === null ? undefined : (params) => [`t."${column}" <= $${params.push(value)}::${type}`];

/** `t.<column>` is one of `values`, each cast to the column's enum type so its index serves; none when empty. */
export const enumIn = (column: string, enumType: string, values?: readonly string[]): SqlFilter | undefined =>
  values?.length ? (params) => [`t."${column}" IN (${values.map((v) => `$${params.push(v)}::"${enumType}"`).join(', ')})`] : undefined;
