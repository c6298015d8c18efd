import { type LakeTable, type LakeTableName } from './lake-tables';

/** A table's progress: the last exported row's cursor and id, and the number of the last batch written. */
export interface Watermark {
  cursorAt: Date | null;
  cursorId: string | null;
  batches: number;
}

export interface Batch {
  rows: number;
  files: string[];
  watermark: Watermark;
}

/** The rows after the watermark and before upTo, in keyset order; `limit` null counts them all. */
export function keysetSql(table: LakeTable, mark: Pick<Watermark, 'cursorAt' | 'cursorId'>, upTo: Date, limit: number | null) {
  const columns = table.columns.map((c) => `${c.sql} AS "${c.name}"`).join(', ');
  const params: unknown[] = [upTo];
  let where = `${table.cursor} < $1::timestamptz`;
  if (mark.cursorAt && mark.cursorId) {
    params.push(mark.cursorAt, mark.cursorId);
    where += ` AND (${table.cursor}, t.id) > ($2::timestamptz, $3::uuid)`;
  }
  let sql = `SELECT ${columns}, ${table.cursor} AS "__cursor", t.id::text AS "__id" FROM ${table.from} WHERE ${where}`;
  if (limit !== null) {
    params.push(limit);
    sql += ` ORDER BY ${table.cursor}, t.id LIMIT $${params.length}`;
  }
  return { sql, params };
}

/** `<prefix>/<table>/dt=YYYY-MM-DD/part-<batch>.parquet`: Hive-style partitions, zero-padded so names sort by batch. */
export function lakeKey(prefix: string, table: LakeTableName, dt: string, batch: number): string {
  return `${prefix}/${table}/dt=${dt}/part-${String(batch).padStart(10, '0')}.parquet`;
}
