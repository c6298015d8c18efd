import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { DataLake } from '../../../infra/lib/data-lake';
import { LAKE_TABLES } from '../../../src/datalake/lake-tables';

// The Glue catalog Athena reads the lake through, synthesized offline from the writer's own column definitions.

function build(prefix?: string) {
  const stack = new Stack(new App(), 'Vigil-Prod');
  const bucket = new s3.Bucket(stack, 'Images');
  return { stack, lake: new DataLake(stack, 'Lake', { bucket, prefix }) };
}

function synth(prefix?: string) {
  const { stack, lake } = build(prefix);
  return { stack, lake, template: Template.fromStack(stack) };
}

describe('DataLake', () => {
  it('defines one database named after the stack and one external Parquet table per exported table', () => {
    const { template, lake } = synth();
    expect(lake.databaseName).toBe('vigil_prod_datalake');
    template.resourceCountIs('AWS::Glue::Database', 1);
    template.hasResourceProperties('AWS::Glue::Database', { DatabaseInput: { Name: 'vigil_prod_datalake' } });
    const tables = template.findResources('AWS::Glue::Table');
    const names = Object.values(tables).map((t) => t.Properties.TableInput.Name);
    expect(names.sort()).toEqual(['anomalies', 'defects', 'detections', 'inspections', 'review_outcomes']);
    for (const t of Object.values(tables)) {
      expect(t.Properties.DatabaseName).toBe('vigil_prod_datalake');
      expect(t.DependsOn).toEqual([expect.stringMatching(/^LakeDatabase/)]);
      expect(t.Properties.TableInput.TableType).toBe('EXTERNAL_TABLE');
      expect(t.Properties.TableInput.StorageDescriptor.SerdeInfo.SerializationLibrary).toBe(
        'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
      );
      expect(t.Properties.TableInput.PartitionKeys).toEqual([{ Name: 'dt', Type: 'string', Comment: expect.any(String) }]);
    }
  });

  it('gives each table the columns and Hive types of the definitions the Parquet writer uses', () => {
    const { template } = synth();
    const hive = { string: 'string', timestamp: 'timestamp', double: 'double', int: 'int', boolean: 'boolean' };
    for (const table of LAKE_TABLES) {
      template.hasResourceProperties('AWS::Glue::Table', {
        TableInput: Match.objectLike({
          Name: table.name,
          StorageDescriptor: Match.objectLike({
            Columns: table.columns.map((c) =>
              c.comment ? { Name: c.name, Type: hive[c.type], Comment: c.comment } : { Name: c.name, Type: hive[c.type] },
            ),
          }),
        }),
      });
    }
    const detections = Object.values(template.findResources('AWS::Glue::Table')).find(
      (t) => t.Properties.TableInput.Name === 'detections',
    )!;
    const types = Object.fromEntries(
      detections.Properties.TableInput.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type]),
    );
    expect(types).toMatchObject({ id: 'string', is_anomalous: 'boolean', confidence: 'double', calls: 'int', created_at: 'timestamp' });
  });

  it('projects the dt partitions from the Hive-style folders under the prefix, so no crawler is needed', () => {
    const { template, stack } = synth('lake/v1');
    const anomalies = Object.values(template.findResources('AWS::Glue::Table')).find((t) => t.Properties.TableInput.Name === 'anomalies')!;
    const params = stack.resolve(anomalies.Properties.TableInput.Parameters);
    expect(params).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      classification: 'parquet',
    });
    const locationTemplate = JSON.stringify(params['storage.location.template']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Athena's projection placeholder, kept literally.
    expect(locationTemplate).toContain('/lake/v1/anomalies/dt=${dt}/');
    expect(JSON.stringify(anomalies.Properties.TableInput.StorageDescriptor.Location)).toContain('/lake/v1/anomalies/');
  });

  it('grants the exporter writes under the prefix only, and readers the catalog and the files', () => {
    const { stack, lake } = build();
    const writer = new iam.Role(stack, 'Writer', { assumedBy: new iam.ServicePrincipal('ecs-tasks.amazonaws.com') });
    const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.AccountRootPrincipal() });
    lake.grantWrite(writer);
    lake.grantRead(reader);
    const template = Template.fromStack(stack);
    const policies = Object.values(template.findResources('AWS::IAM::Policy'));
    const statementsOf = (role: string) =>
      policies.filter((p) => JSON.stringify(p.Properties.Roles).includes(role)).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const write = statementsOf('Writer');
    expect(write.flatMap((s) => [s.Action].flat())).toEqual(expect.arrayContaining(['s3:PutObject']));
    expect(write.flatMap((s) => [s.Action].flat()).some((a: string) => a.includes('Delete') || a === 's3:*')).toBe(false);
    expect(JSON.stringify(write.map((s) => s.Resource))).toContain('/datalake/*');
    const read = statementsOf('Reader');
    expect(read.flatMap((s) => [s.Action].flat())).toEqual(
      expect.arrayContaining(['glue:GetTable', 'glue:GetPartitions', 's3:GetObject*']),
    );
  });

  it('refuses a prefix that vigil could not write to, naming it', () => {
    expect(() => synth('Data Lake/')).toThrow('DataLake prefix "Data Lake/": use lowercase path segments');
  });
});
