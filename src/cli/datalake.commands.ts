import { type Command, Option } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { type DataLakeExport, type DataLakeService, type ExportProgress } from '../datalake/datalake.service';
import { LAKE_TABLE_NAMES, type LakeTableName } from '../datalake/lake-tables';
import { wholeNumber } from './options';

/** One bar per table on a terminal; a line per table otherwise (logs, CI). */
function tableProgress(out: NodeJS.WriteStream): { update: ExportProgress; stop(): void } {
  let bar: SingleBar | null = null;
  let current = '';
  return {
    update({ table, done, total }) {
      if (table !== current) {
        bar?.stop();
        current = table;
        if (out.isTTY) {
          bar = new SingleBar(
            { stream: out, format: `${table.padEnd(16)} {bar} {value}/{total} rows | ETA {eta}s`, hideCursor: true },
            Presets.shades_classic,
          );
          bar.start(total, done);
        } else out.write(`${table}: ${total} row(s) to export\n`);
      }
      bar?.update(done);
    },
    stop: () => bar?.stop(),
  };
}

function summary(result: DataLakeExport): string {
  const lines = result.tables.map(
    (t) =>
      `${t.table.padEnd(16)} ${String(t.rows).padStart(9)} rows  ${String(t.files.length).padStart(4)} files  up to ${t.watermark?.toISOString() ?? '-'}`,
  );
  return `${lines.join('\n')}\nrows stamped before ${result.upTo.toISOString()} were considered\n`;
}

/** `vigil datalake export|status`: the data-lake service, opened on this process's configuration. */
export function registerDataLakeCommands(
  program: Command,
  open: () => Promise<{ dataLake: DataLakeService; close(): Promise<void> }>,
): void {
  const lake = program
    .command('datalake')
    .description('The analytics copy of vigil: partitioned Parquet in the object store (README "Data lake").');
  lake
    .command('export')
    .description('Write the rows changed since the last export as Parquet; safe to repeat and to run twice at once.')
    .addOption(new Option('--table <name...>', 'only these tables').choices([...LAKE_TABLE_NAMES]))
    .option('--batch-size <rows>', 'rows per batch and per file at most', wholeNumber(1, 100_000), 5000)
    .option('--settle <seconds>', 'leave rows stamped in the last this many seconds for the next export', wholeNumber(0, 3600), 5)
    .action(async (opts: { table?: LakeTableName[]; batchSize: number; settle: number }) => {
      const { dataLake, close } = await open();
      const progress = tableProgress(process.stdout);
      try {
        const result = await dataLake.export(
          { tables: opts.table, batchSize: opts.batchSize, settleSeconds: opts.settle },
          progress.update,
        );
        progress.stop();
        process.stdout.write(summary(result));
      } finally {
        progress.stop();
        await close();
      }
    });
  lake
    .command('status')
    .description("Each table's watermark, and the rows and batches exported so far.")
    .action(async () => {
      const { dataLake, close } = await open();
      try {
        process.stdout.write(`${JSON.stringify(await dataLake.watermarks(), null, 2)}\n`);
      } finally {
        await close();
      }
    });
}
