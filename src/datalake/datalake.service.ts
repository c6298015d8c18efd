import { type ObjectStore } from '../adapters/object-store/object-store.port';
import { badInput } from '../common/errors';
import { type PrismaClient } from '../generated/prisma/client';
import { LAKE_TABLE_NAMES, type LakeTable, type LakeTableName, lakeTable } from './lake-tables';
import { type Batch, keysetSql, lakeKey, type Watermark } from './lake-batch';
import { type LakeRow, parquetFile } from './parquet-file';

export interface DataLakeExportOptions {
  /** Default: every table. */
  tables?: LakeTableName[];
  /** Rows per keyset batch and per file (at most): what one transaction holds in memory. Default 5,000. */
  batchSize?: number;
  /** Stop a table after about this many rows; the next export goes on from there. Default: no limit. */
  maxRows?: number;
  /**
   * Rows stamped in the last this many seconds wait for the next export: a transaction still open may yet commit
   * a row stamped earlier than the newest row seen (clocks of other hosts too). Default 5.
   */
  settleSeconds?: number;
}

export interface TableExport {
  table: LakeTableName;
  rows: number;
  /** The object keys written, in order. */
  files: string[];
  /** The newest row version in the lake, after this export. */
  watermark: Date | null;
  /** False when maxRows stopped the table before it had caught up. */
  complete: boolean;
}

export interface DataLakeExport {
  /** Rows stamped before this instant were considered. */
  upTo: Date;
  tables: TableExport[];
}

export type ExportProgress = (p: { table: LakeTableName; done: number; total: number }) => void;

const MAX_BATCH = 100_000;

/**
 * Exports tables incrementally to `<prefix>/<table>/dt=YYYY-MM-DD/part-<n>.parquet`. Each batch is one transaction that
 * locks the table's watermark row, reads the rows after it, writes the files and moves it: two exports take turns, and a
 * batch retried after a crash rewrites the same file names, so every row version lands in the lake once.
 */
export class DataLakeService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly store: ObjectStore,
    private readonly options: { prefix?: string } = {},
  ) {}

  async export(options: DataLakeExportOptions = {}, onProgress?: ExportProgress): Promise<DataLakeExport> {
    const { tables, batchSize, maxRows, settleSeconds } = checkOptions(options);
    await this.prisma.dataLakeWatermark.createMany({ data: tables.map((table) => ({ table })), skipDuplicates: true });
    const upTo = await this.upperBound(settleSeconds);
    const results: TableExport[] = [];
    for (const name of tables) {
      const table = lakeTable(name);
      const total = Math.min(await this.pending(table, upTo), maxRows);
      onProgress?.({ table: name, done: 0, total });
      const result: TableExport = { table: name, rows: 0, files: [], watermark: null, complete: false };
      for (;;) {
        const batch = await this.exportBatch(table, upTo, Math.min(batchSize, maxRows - result.rows));
        result.watermark = batch.watermark.cursorAt;
        if (batch.rows === 0) break;
        result.rows += batch.rows;
        result.files.push(...batch.files);
        onProgress?.({ table: name, done: Math.min(result.rows, total), total });
        if (result.rows >= maxRows) break;
      }
      result.complete = result.rows < maxRows || (await this.pending(table, upTo)) === 0;
      results.push(result);
    }
    return { upTo, tables: results };
  }

  /** Each table's newest exported row version (null before the first), rows and batches written so far. */
  async watermarks(): Promise<{ table: LakeTableName; watermark: Date | null; rows: number; batches: number }[]> {
    const marks = await this.prisma.dataLakeWatermark.findMany();
    return LAKE_TABLE_NAMES.map((table) => {
      const m = marks.find((w) => w.table === table);
      return { table, watermark: m?.cursorAt ?? null, rows: Number(m?.rows ?? 0), batches: m?.batches ?? 0 };
    });
  }

  // Before the oldest transaction still open in this database (it may commit older rows yet), and the settle time before now.
  private async upperBound(settleSeconds: number): Promise<Date> {
    const [row] = await this.prisma.$queryRawUnsafe<{ up_to: Date }[]>(
      `SELECT LEAST(now(), (SELECT min(xact_start) FROM pg_stat_activity
          WHERE datname = current_database() AND pid <> pg_backend_pid())) - make_interval(secs => $1::float8) AS up_to`,
      settleSeconds,
    );
    return new Date(row.up_to);
  }

  private async pending(table: LakeTable, upTo: Date): Promise<number> {
    const mark = await this.prisma.dataLakeWatermark.findUniqueOrThrow({ where: { table: table.name } });
    const { sql, params } = keysetSql(table, mark, upTo, null);
    const [row] = await this.prisma.$queryRawUnsafe<{ n: bigint | number }[]>(`SELECT count(*) AS n FROM (${sql}) AS pending`, ...params);
    return Number(row.n);
  }

  private exportBatch(table: LakeTable, upTo: Date, limit: number): Promise<Batch> {
    return this.prisma.$transaction(
      async (tx) => {
        const [mark] = await tx.$queryRawUnsafe<Watermark[]>(
          `SELECT cursor_at AS "cursorAt", cursor_id AS "cursorId", batches FROM datalake_watermarks WHERE "table" = $1 FOR UPDATE`,
          table.name,
        );
        const { sql, params } = keysetSql(table, mark, upTo, limit);
        const rows = await tx.$queryRawUnsafe<LakeRow[]>(sql, ...params);
        if (rows.length === 0) return { rows: 0, files: [], watermark: mark };
        const part = mark.batches + 1;
        const files = await this.writeFiles(table, rows, part);
        const last = rows[rows.length - 1];
        const watermark = { cursorAt: last.__cursor as Date, cursorId: last.__id as string, batches: part };
        await tx.dataLakeWatermark.update({
          where: { table: table.name },
          data: { ...watermark, rows: { increment: rows.length } },
        });
        return { rows: rows.length, files, watermark };
      },
      // A batch writes its files inside the transaction; the other exporter waits for the lock as long as that may take.
      { timeout: 300_000, maxWait: 300_000 },
    );
  }

  // One file per UTC date in the batch, named by the batch number so that a retry overwrites it.
  private async writeFiles(table: LakeTable, rows: LakeRow[], part: number): Promise<string[]> {
    const byDate = new Map<string, LakeRow[]>();
    for (const row of rows) {
      const dt = (row.__cursor as Date).toISOString().slice(0, 10);
      const list = byDate.get(dt) ?? [];
      list.push(row);
      byDate.set(dt, list);
    }
    const keys: string[] = [];
    for (const [dt, list] of byDate) {
      const key = lakeKey(this.options.prefix ?? 'datalake', table.name, dt, part);
      await this.store.put(key, await parquetFile(table, list), { contentType: 'application/vnd.apache.parquet' });
      keys.push(key);
    }
    return keys;
  }
}

function checkOptions(options: DataLakeExportOptions) {
  const tables = options.tables ?? [...LAKE_TABLE_NAMES];
  const unknown = tables.filter((t) => !LAKE_TABLE_NAMES.includes(t));
  if (unknown.length > 0) throw badInput('tables', `unknown ${unknown.join(', ')}; the tables are ${LAKE_TABLE_NAMES.join(', ')}`);
  if (tables.length === 0) throw badInput('tables', 'name at least one table, or leave it out for all');
  const batchSize = options.batchSize ?? 5000;
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > MAX_BATCH) {
    throw badInput('batchSize', `must be a whole number from 1 to ${MAX_BATCH}`);
  }
  const maxRows = options.maxRows ?? Number.POSITIVE_INFINITY;
  if (maxRows !== Number.POSITIVE_INFINITY && (!Number.isInteger(maxRows) || maxRows < 1)) {
    throw badInput('maxRows', 'must be a whole number of at least 1');
  }
  const settleSeconds = options.settleSeconds ?? 5;
  if (!Number.isFinite(settleSeconds) || settleSeconds < 0 || settleSeconds > 3600) {
    throw badInput('settleSeconds', 'must be from 0 to 3600');
  }
  // In table order, each once, so files and progress come out the same way every time.
  return { tables: LAKE_TABLE_NAMES.filter((t) => tables.includes(t)), batchSize, maxRows, settleSeconds };
}
