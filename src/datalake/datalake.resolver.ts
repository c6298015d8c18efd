import { injectable } from 'tsyringe';
import { Arg, Authorized, Int, Mutation, Resolver } from 'type-graphql';
import { EXPORT_DATA_LAKE } from '../auth/roles';
import { badInput } from '../common/errors';
import { DataLakeService } from './datalake.service';
import { DataLakeExportType, DataLakeTable } from './datalake.type';
import { type LakeTableName } from './lake-tables';

// A request does a bounded amount of work; the CLI (`vigil datalake export`) has no limit.
const MAX_ROWS_PER_CALL = 100_000;

@injectable()
@Resolver()
export class DataLakeResolver {
  constructor(private readonly dataLake: DataLakeService) {}

  @Authorized(EXPORT_DATA_LAKE)
  @Mutation(() => DataLakeExportType, {
    description:
      'Writes the rows changed since the last export to the data lake as Parquet. Each row version is written once, also when exports overlap; a table not `complete` goes on at the next call.',
  })
  exportDataLake(
    @Arg('tables', () => [DataLakeTable], { nullable: true, description: 'Default: every table.' }) tables?: LakeTableName[],
    @Arg('maxRows', () => Int, { defaultValue: 20_000, description: `Per table, at most ${MAX_ROWS_PER_CALL}.` }) maxRows = 20_000,
  ) {
    if (maxRows > MAX_ROWS_PER_CALL) throw badInput('maxRows', `at most ${MAX_ROWS_PER_CALL} per call; the CLI has no limit`);
    return this.dataLake.export({ tables: tables ?? undefined, maxRows });
  }
}
