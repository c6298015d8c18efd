import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { type LakeTableName } from './lake-tables';

/** The exported tables as a GraphQL enum; each value is the table's folder name. */
export const DataLakeTable = {
  INSPECTIONS: 'inspections',
  DETECTIONS: 'detections',
  ANOMALIES: 'anomalies',
  DEFECTS: 'defects',
  REVIEW_OUTCOMES: 'review_outcomes',
} as const satisfies Record<string, LakeTableName>;

registerEnumType(DataLakeTable, {
  name: 'DataLakeTable',
  description: 'A table of the data lake: <prefix>/<table>/dt=YYYY-MM-DD/part-<n>.parquet (README "Data lake").',
});

@ObjectType('DataLakeTableExport', { description: 'What one export wrote for one table.' })
export class DataLakeTableExportType {
  @Field(() => DataLakeTable)
  table: LakeTableName;

  @Field(() => Int, { description: 'Row versions written by this export.' })
  rows: number;

  @Field(() => [String], { description: 'The object keys written, in order.' })
  files: string[];

  @Field(() => Date, { nullable: true, description: 'The newest row version now in the lake (null before the first).' })
  watermark: Date | null;

  @Field({ description: 'False when maxRows stopped this table before it caught up: export again to go on.' })
  complete: boolean;
}

@ObjectType('DataLakeExport', { description: 'The outcome of one incremental data-lake export.' })
export class DataLakeExportType {
  @Field({ description: 'Rows stamped before this instant were considered; newer ones wait for the next export.' })
  upTo: Date;

  @Field(() => [DataLakeTableExportType])
  tables: DataLakeTableExportType[];
}
