import { type BasicType, type ColumnSource } from 'hyparquet-writer';
import { type LakeColumnType, type LakeTable } from './lake-tables';

type Writer = typeof import('hyparquet-writer');

const PARQUET_TYPE: Record<LakeColumnType, BasicType> = {
  string: 'STRING',
  timestamp: 'TIMESTAMP',
  double: 'DOUBLE',
  int: 'INT32',
  boolean: 'BOOLEAN',
};

// hyparquet-writer is an ES module: TypeScript's CommonJS output turns this import() into require(), which loads
// it on Node 20.19 and later (engines). Loaded with the first export, not at start.
let writer: Promise<Writer> | null = null;
const loadWriter = () => {
  writer ??= import('hyparquet-writer');
  return writer;
};

export type LakeRow = Record<string, unknown>;

/** One Parquet file (Snappy, one row group per 100,000 rows) of a table's rows, typed by its column definitions. */
export async function parquetFile(table: LakeTable, rows: LakeRow[]): Promise<Buffer> {
  const { parquetWriteBuffer } = await loadWriter();
  const columnData: ColumnSource[] = table.columns.map((c) => ({
    name: c.name,
    type: PARQUET_TYPE[c.type],
    data: rows.map((r) => value(c.type, r[c.name])),
  }));
  const bytes = parquetWriteBuffer({ columnData, rowGroupSize: 100_000, createdBy: 'vigil datalake export' });
  return Buffer.from(bytes);
}

// Drivers return numbers as number, bigint or (for numeric) string; Parquet wants one JS type per column.
function value(type: LakeColumnType, v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (type === 'int' || type === 'double') return Number(v);
  if (type === 'timestamp') return v instanceof Date ? v : new Date(String(v));
  return v;
}
