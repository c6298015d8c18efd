import fs from 'node:fs';
import path from 'node:path';
import { get_dmmf } from '@prisma/prisma-schema-wasm';
import { type SqlSession } from '../../src/db/database';

// Compares a live database with prisma/schema.prisma (through Prisma's own schema parser) without
// Prisma's migrate engine, which cannot be installed here: tables, columns, types, nullability,
// defaults, enums, primary keys, unique and plain indexes, foreign keys. Partial indexes, which
// Prisma cannot describe, are left out: the tests of the feature that relies on one check it.

export interface SchemaShape {
  enums: Record<string, string[]>;
  tables: Record<
    string,
    {
      columns: Record<string, { type: string; nullable: boolean; dbDefault: boolean }>;
      primaryKey: string[];
      uniques: string[];
      indexes: string[];
      foreignKeys: string[];
    }
  >;
}

type Field = {
  name: string;
  dbName?: string | null;
  kind: 'scalar' | 'enum' | 'object';
  type: string;
  isRequired: boolean;
  isList: boolean;
  hasDefaultValue: boolean;
  default?: unknown;
  nativeType?: [string, string[]] | null;
  relationFromFields?: string[];
  relationToFields?: string[];
  relationOnDelete?: string;
};
type Model = { name: string; dbName: string | null; fields: Field[] };

const CLIENT_SIDE_DEFAULTS = new Set(['uuid', 'cuid', 'nanoid', 'ulid']);

function scalarType(f: Field): string {
  const [native, args] = f.nativeType ?? [undefined, []];
  switch (f.type) {
    case 'String':
      if (native === 'Uuid') return 'uuid';
      if (native === 'VarChar') return `character varying(${args[0]})`;
      if (native === 'Char') return `character(${args[0]})`;
      return 'text';
    case 'Int':
      return 'integer';
    case 'BigInt':
      return 'bigint';
    case 'Float':
      return 'double precision';
    case 'Boolean':
      return 'boolean';
    case 'Json':
      return 'jsonb';
    case 'DateTime':
      return native === 'Timestamptz' ? `timestamp with time zone(${args[0] ?? 6})` : `timestamp without time zone(${args[0] ?? 3})`;
    default:
      return `unmapped:${f.type}`;
  }
}

const ON_DELETE: Record<string, string> = {
  Cascade: 'CASCADE',
  Restrict: 'RESTRICT',
  SetNull: 'SET NULL',
  NoAction: 'NO ACTION',
  SetDefault: 'SET DEFAULT',
};

export function expectedShape(schemaFile = path.join(__dirname, '../../prisma/schema.prisma')): SchemaShape {
  const dmmf = JSON.parse(get_dmmf(JSON.stringify({ prismaSchema: fs.readFileSync(schemaFile, 'utf8') })));
  const models: Model[] = dmmf.datamodel.models;
  const col = (m: Model, name: string) => m.fields.find((f) => f.name === name)?.dbName ?? name;
  const table = (name: string) => {
    const m = models.find((x) => x.name === name)!;
    return m.dbName ?? m.name;
  };
  const shape: SchemaShape = { enums: {}, tables: {} };
  for (const e of dmmf.datamodel.enums)
    shape.enums[e.dbName ?? e.name] = e.values.map((v: { name: string; dbName: string | null }) => v.dbName ?? v.name);
  for (const m of models) {
    const t: SchemaShape['tables'][string] = { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [] };
    for (const f of m.fields) {
      if (f.kind === 'object') {
        if (f.relationFromFields?.length) {
          t.foreignKeys.push(
            `(${f.relationFromFields.map((x) => col(m, x)).join(',')}) -> ${table(f.type)}(${f.relationToFields!.map((x) => col(models.find((y) => y.name === f.type)!, x)).join(',')}) ON DELETE ${ON_DELETE[f.relationOnDelete ?? (f.isRequired ? 'Restrict' : 'SetNull')]}`,
          );
        }
        continue;
      }
      const clientDefault =
        typeof f.default === 'object' && f.default !== null && CLIENT_SIDE_DEFAULTS.has((f.default as { name: string }).name);
      t.columns[f.dbName ?? f.name] = {
        type: f.isList ? 'ARRAY' : f.kind === 'enum' ? `enum:${f.type}` : scalarType(f),
        nullable: !f.isRequired,
        dbDefault: f.hasDefaultValue && !clientDefault,
      };
    }
    for (const ix of dmmf.datamodel.indexes.filter((i: { model: string }) => i.model === m.name)) {
      const cols = ix.fields.map((x: { name: string }) => col(m, x.name));
      if (ix.type === 'id') t.primaryKey = cols;
      else if (ix.type === 'unique') t.uniques.push(cols.join(','));
      else t.indexes.push(cols.join(','));
    }
    t.uniques.sort();
    t.indexes.sort();
    t.foreignKeys.sort();
    shape.tables[m.dbName ?? m.name] = t;
  }
  return shape;
}

export async function actualShape(s: SqlSession): Promise<SchemaShape> {
  const shape: SchemaShape = { enums: {}, tables: {} };
  const enums = await s.query<{ name: string; label: string }>(
    `SELECT t.typname AS name, e.enumlabel AS label FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid
     JOIN pg_namespace n ON n.oid = t.typnamespace WHERE n.nspname = 'public' ORDER BY t.typname, e.enumsortorder`,
  );
  for (const e of enums) {
    shape.enums[e.name] ??= [];
    shape.enums[e.name].push(e.label);
  }
  const columns = await s.query<Record<string, string | number | null>>(
    `SELECT table_name, column_name, data_type, udt_name, character_maximum_length, datetime_precision, is_nullable, column_default
     FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations' ORDER BY table_name, ordinal_position`,
  );
  const tableOf = (name: string) => (shape.tables[name] ??= { columns: {}, primaryKey: [], uniques: [], indexes: [], foreignKeys: [] });
  for (const c of columns) {
    const dt = String(c.data_type);
    const type =
      dt === 'USER-DEFINED'
        ? `enum:${c.udt_name}`
        : dt === 'character varying' || dt === 'character'
          ? `${dt}(${c.character_maximum_length})`
          : dt.startsWith('timestamp')
            ? `${dt}(${c.datetime_precision})`
            : dt;
    tableOf(String(c.table_name)).columns[String(c.column_name)] = {
      type,
      nullable: c.is_nullable === 'YES',
      dbDefault: c.column_default !== null,
    };
  }
  const indexes = await s.query<{ tbl: string; is_unique: boolean; is_primary: boolean; cols: string }>(
    `SELECT t.relname AS tbl, ix.indisunique AS is_unique, ix.indisprimary AS is_primary,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum) AS cols
     FROM pg_index ix JOIN pg_class t ON t.oid = ix.indrelid JOIN pg_namespace n ON n.oid = t.relnamespace
     WHERE n.nspname = 'public' AND t.relname <> '_prisma_migrations' AND ix.indpred IS NULL`,
  );
  for (const ix of indexes) {
    const t = tableOf(ix.tbl);
    if (ix.is_primary) t.primaryKey = ix.cols.split(',');
    else if (ix.is_unique) t.uniques.push(ix.cols);
    else t.indexes.push(ix.cols);
  }
  const fks = await s.query<{ tbl: string; ref: string; cols: string; refcols: string; deltype: string }>(
    `SELECT c.conrelid::regclass::text AS tbl, c.confrelid::regclass::text AS ref, c.confdeltype AS deltype,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum) AS cols,
            (SELECT string_agg(a.attname, ',' ORDER BY k.ord) FROM unnest(c.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.attnum) AS refcols
     FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE c.contype = 'f' AND n.nspname = 'public'`,
  );
  const DEL: Record<string, string> = { c: 'CASCADE', r: 'RESTRICT', n: 'SET NULL', a: 'NO ACTION', d: 'SET DEFAULT' };
  for (const fk of fks) {
    tableOf(fk.tbl.replace(/"/g, '')).foreignKeys.push(
      `(${fk.cols}) -> ${fk.ref.replace(/"/g, '')}(${fk.refcols}) ON DELETE ${DEL[fk.deltype]}`,
    );
  }
  for (const t of Object.values(shape.tables)) {
    t.uniques.sort();
    t.indexes.sort();
    t.foreignKeys.sort();
  }
  return shape;
}
