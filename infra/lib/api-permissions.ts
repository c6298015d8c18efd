import { ArnFormat, type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type HandlerSpec } from './handlers';
import { handlerStatements, type PermissionContext } from './permissions';
import { executionsArn, stateMachineArn, stateMachineName } from './state-machines';

// What the API service does besides starting executions: uploads, derivatives, datasets, models, survey manifests
// and the data-lake export; it deploys models and may start human loops or update Lookout datasets.
const API_SPEC: HandlerSpec = {
  memoryMb: 0,
  timeoutMinutes: 0,
  read: ['uploads', 'derived', 'datasets', 'models'],
  write: ['uploads', 'derived', 'datasets', 'models', 'surveys', 'datalake'],
  remove: ['uploads'],
  calls: ['humanLoop', 'deploy', 'datasetSink'],
};

/** `arn:…:<resource>:<machine>/*`: a Distributed Map's Map Runs (mapRun) or child executions (execution). */
const childrenArn = (stack: Stack, resource: 'mapRun' | 'execution', workflow: string) =>
  stack.formatArn({
    service: 'states',
    resource,
    resourceName: `${stateMachineName(stack, workflow)}/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * The API task role's statements: the prefixes and services above, and the executions of vigil's state machines. For
 * the machines with a Distributed Map (`mapWorkflows`), it may also list an ended map's Map Runs and their children and
 * describe those, to settle each run by its own child execution.
 */
export function apiStatements(permissions: PermissionContext, workflows: string[], mapWorkflows: string[] = []): iam.PolicyStatement[] {
  const { stack, bucket } = permissions;
  const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });
  return [
    ...handlerStatements(API_SPEC, permissions),
    // HeadBucket (readiness) is authorised by ListBucket.
    statement(['s3:ListBucket'], [bucket.bucketArn]),
    statement(
      ['states:StartExecution'],
      workflows.map((w) => stateMachineArn(stack, w)),
    ),
    statement(
      ['states:DescribeExecution'],
      workflows.map((w) => executionsArn(stack, w)),
    ),
    ...(mapWorkflows.length === 0
      ? []
      : [
          statement(
            ['states:ListMapRuns'],
            mapWorkflows.map((w) => executionsArn(stack, w)),
          ),
          statement(
            ['states:ListExecutions'],
            mapWorkflows.map((w) => childrenArn(stack, 'mapRun', w)),
          ),
          statement(
            ['states:DescribeExecution'],
            mapWorkflows.map((w) => childrenArn(stack, 'execution', w)),
          ),
        ]),
  ];
}
