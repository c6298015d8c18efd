import * as iam from 'aws-cdk-lib/aws-iam';
import { type HandlerSpec } from './handlers';
import { handlerStatements, type PermissionContext } from './permissions';
import { executionsArn, stateMachineArn } from './state-machines';

// What the API service does besides starting executions: uploads, derivatives, datasets, models, survey manifests
// and the data-lake export; it deploys models and may start human loops or update Lookout datasets.
const API_SPEC: HandlerSpec = {
  memoryMb: 0,
  timeoutMinutes: 0,
  read: ['uploads', 'derived', 'datasets', 'models'],
  write: ['uploads', 'derived', 'datasets', 'models', 'surveys', 'datalake'],
  remove: ['uploads'],
  calls: ['humanLoop', 'deploy', 'datasetSink', 'mapChildren'],
};

/**
 * The API task role's statements: the prefixes and services above (with an ended map's children, to settle each run by
 * its own child execution), and the executions of vigil's state machines.
 */
export function apiStatements(permissions: PermissionContext, workflows: string[]): iam.PolicyStatement[] {
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
  ];
}
