import { type Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import { PREFIX } from './handlers';

// What a state machine's role needs for each Step Functions service integration a workflow may use
// (https://docs.aws.amazon.com/step-functions/latest/dg/service-integration-iam-templates.html).
// A workflow naming an integration missing here fails synth: add it with exactly the actions it calls.

export interface IntegrationContext {
  stack: Stack;
  bucket: IBucket;
}

const statement = (actions: string[], resources: string[]) => new iam.PolicyStatement({ actions, resources });

// vigil names its jobs vigil-<run id>-inspect (src/adapters/detectors/sagemaker-batch.driver.ts).
const transformJobs = (stack: Stack) => stack.formatArn({ service: 'sagemaker', resource: 'transform-job', resourceName: 'vigil-*' });

// A `.sync` job is followed through a managed EventBridge rule Step Functions creates in the account.
const syncRule = (stack: Stack, rule: string) =>
  statement(
    ['events:PutTargets', 'events:PutRule', 'events:DescribeRule'],
    [stack.formatArn({ service: 'events', resource: 'rule', resourceName: rule })],
  );

export const SERVICE_INTEGRATIONS: Record<string, (c: IntegrationContext) => iam.PolicyStatement[]> = {
  // The survey's Distributed Map reads its manifest of items (ItemReader), written by the service under workflows/surveys/.
  's3:getObject': ({ bucket }) => [statement(['s3:GetObject'], [bucket.arnForObjects(`${PREFIX.surveys}*`)])],
  'sagemaker:createTransformJob': ({ stack }) => [statement(['sagemaker:CreateTransformJob', 'sagemaker:AddTags'], [transformJobs(stack)])],
  'sagemaker:createTransformJob.sync': ({ stack }) => [
    statement(
      ['sagemaker:CreateTransformJob', 'sagemaker:DescribeTransformJob', 'sagemaker:StopTransformJob', 'sagemaker:AddTags'],
      [transformJobs(stack)],
    ),
    syncRule(stack, 'StepFunctionsGetEventsForSageMakerTransformJobsRule'),
  ],
};
