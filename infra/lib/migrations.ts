import path from 'node:path';
import { CustomResource, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { INFRA_DIR } from './paths';

export interface MigrationsProps {
  cluster: ecs.ICluster;
  task: ecs.FargateTaskDefinition;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
}

/**
 * `vigil migrate` as a one-off Fargate task on every deployment that changes its task definition
 * (a new image), waited for to the end: the API service is updated only after it succeeded.
 */
export class Migrations extends Construct {
  readonly resource: CustomResource;

  constructor(scope: Construct, id: string, props: MigrationsProps) {
    super(scope, id);
    const code = lambda.Code.fromAsset(path.join(INFRA_DIR, 'runtime', 'migrations'));
    const fn = (name: string, handler: string) =>
      new lambda.Function(this, name, {
        runtime: lambda.Runtime.NODEJS_22_X,
        code,
        handler,
        timeout: Duration.minutes(1),
        logGroup: new logs.LogGroup(this, `${name}Logs`, { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      });
    const onEvent = fn('RunTask', 'index.onEvent');
    const isComplete = fn('WaitForTask', 'index.isComplete');
    const passRoles = [props.task.taskRole.roleArn, props.task.executionRole!.roleArn];
    onEvent.addToRolePolicy(
      new iam.PolicyStatement({
        actions: ['ecs:RunTask'],
        resources: [props.task.taskDefinitionArn],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      }),
    );
    onEvent.addToRolePolicy(new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: passRoles }));
    const tasks = Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${props.cluster.clusterName}/*` });
    isComplete.addToRolePolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [tasks] }));

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: onEvent,
      isCompleteHandler: isComplete,
      queryInterval: Duration.seconds(15),
      totalTimeout: Duration.minutes(30),
    });
    this.resource = new CustomResource(this, 'Run', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::VigilMigrations',
      properties: {
        Cluster: props.cluster.clusterArn,
        TaskDefinition: props.task.taskDefinitionArn,
        Subnets: props.vpc.selectSubnets({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds,
        SecurityGroups: [props.securityGroup.securityGroupId],
      },
    });
  }
}
