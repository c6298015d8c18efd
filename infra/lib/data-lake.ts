import { Aws, Stack, Token } from 'aws-cdk-lib';
import * as glue from 'aws-cdk-lib/aws-glue';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_TABLES, type LakeColumnType, type LakeTableName, PARTITION_KEY } from '../../src/datalake/lake-tables';

export interface DataLakeProps {
  /** The bucket `vigil datalake export` writes to (the object store's). */
  bucket: s3.IBucket;
  /** The key prefix of the lake in the bucket (DataLakeService's, default "datalake"). */
  prefix?: string;
}

// Hive types of the column types the Parquet writer uses (src/datalake/parquet-file.ts).
const HIVE_TYPE: Record<LakeColumnType, string> = {
  string: 'string',
  timestamp: 'timestamp',
  double: 'double',
  int: 'int',
  boolean: 'boolean',
};

// The first day partition projection considers: before vigil existed, so no row is out of range.
const FIRST_DAY = '2024-01-01';

/**
 * The Glue database and one table per data-lake table, so Athena queries the Parquet files in place. Partitions are
 * projected from `dt=YYYY-MM-DD` folders: no crawler, and no partition to add when an export writes a new day.
 */
export class DataLake extends Construct {
  readonly database: glue.CfnDatabase;
  readonly databaseName: string;
  readonly tables: Record<LakeTableName, glue.CfnTable>;
  private readonly bucket: s3.IBucket;
  private readonly prefix: string;

  constructor(scope: Construct, id: string, props: DataLakeProps) {
    super(scope, id);
    this.bucket = props.bucket;
    this.prefix = (props.prefix ?? 'datalake').replace(/^\/+|\/+$/g, '');
    if (!/^[a-z0-9][a-z0-9._=-]*(\/[a-z0-9][a-z0-9._=-]*)*$/.test(this.prefix)) {
      throw new Error(`DataLake prefix ${JSON.stringify(props.prefix)}: use lowercase path segments, as vigil's object keys are`);
    }
    this.databaseName = databaseNameOf(Stack.of(this).stackName);
    this.database = new glue.CfnDatabase(this, 'Database', {
      catalogId: Aws.ACCOUNT_ID,
      databaseInput: { name: this.databaseName, description: 'vigil: inspections, detections, anomalies, defects and review outcomes' },
    });
    const tables = {} as Record<LakeTableName, glue.CfnTable>;
    for (const table of LAKE_TABLES) {
      const location = `s3://${props.bucket.bucketName}/${this.prefix}/${table.name}/`;
      const cfn = new glue.CfnTable(this, `Table-${table.name}`, {
        catalogId: Aws.ACCOUNT_ID,
        databaseName: this.databaseName,
        tableInput: {
          name: table.name,
          description: table.description,
          tableType: 'EXTERNAL_TABLE',
          parameters: {
            EXTERNAL: 'TRUE',
            classification: 'parquet',
            'parquet.compression': 'SNAPPY',
            'projection.enabled': 'true',
            [`projection.${PARTITION_KEY.name}.type`]: 'date',
            [`projection.${PARTITION_KEY.name}.format`]: 'yyyy-MM-dd',
            [`projection.${PARTITION_KEY.name}.range`]: `${FIRST_DAY},NOW`,
            [`projection.${PARTITION_KEY.name}.interval`]: '1',
            [`projection.${PARTITION_KEY.name}.interval.unit`]: 'DAYS',
            'storage.location.template': `${location}${PARTITION_KEY.name}=\${${PARTITION_KEY.name}}/`,
          },
          partitionKeys: [{ ...PARTITION_KEY }],
          storageDescriptor: {
            location,
            columns: table.columns.map((c) => ({ name: c.name, type: HIVE_TYPE[c.type], comment: c.comment })),
            inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
            outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
            serdeInfo: {
              serializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
              parameters: { 'serialization.format': '1' },
            },
          },
        },
      });
      cfn.addResourceDependency(this.database);
      tables[table.name] = cfn;
    }
    this.tables = tables;
  }

  /** For the exporter (the API service or a scheduled task): write and overwrite files under the prefix, nothing else. */
  grantWrite(grantee: iam.IGrantable): iam.Grant {
    return this.bucket.grantPut(grantee, `${this.prefix}/*`);
  }

  /** For Athena users: read the catalog entries and the files (query results need a workgroup of their own). */
  grantRead(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    const arn = (resource: string, name: string) => stack.formatArn({ service: 'glue', resource, resourceName: name });
    const catalog = iam.Grant.addToPrincipal({
      grantee,
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetTables', 'glue:GetPartition', 'glue:GetPartitions'],
      resourceArns: [
        stack.formatArn({ service: 'glue', resource: 'catalog' }),
        arn('database', this.databaseName),
        arn('table', `${this.databaseName}/*`),
      ],
    });
    return catalog.combine(this.bucket.grantRead(grantee, `${this.prefix}/*`));
  }
}

/** Glue names are lowercase letters, digits and underscores; one database per stack keeps stages apart. */
function databaseNameOf(stackName: string): string {
  if (Token.isUnresolved(stackName)) return 'vigil_datalake';
  const base = stackName
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return `${base || 'vigil'}_datalake`.slice(0, 255);
}
