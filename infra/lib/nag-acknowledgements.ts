import { type Stack, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';

// The cdk-nag (AwsSolutions) findings vigil accepts, each with why. A finding is acknowledged only
// when its rule id and the path of the construct it is about both match one entry; anything else
// stays a finding and stops synth (bin/vigil.ts) and the tests.

interface Accepted {
  /** The finding id, e.g. `AwsSolutions-IAM5[Resource::<bucket>/derived/*]`. */
  rule: RegExp;
  /** The construct path under the stack, e.g. `Functions/screenImage-role/DefaultPolicy/Resource`. */
  path: RegExp;
  reason: string;
}

const OBJECTS = String.raw`<StorageObjects\w+\.Arn>/(uploads|derived|datasets|models|workflows/surveys|a2i|batch|datalake)/\*`;
const ARN = String.raw`arn:<AWS::Partition>:[a-z]+:(<AWS::Region>|[a-z0-9-]+):(<AWS::AccountId>|\d{12}):`;
const CDK_HELPERS = /^(LogRetention[0-9a-f]+|AWS679f53fac002430cb0da5b7982bd2287|Migrations\/Provider)\//;

export const ACCEPTED: Accepted[] = [
  {
    rule: new RegExp(`^AwsSolutions-IAM5\\[Resource::${OBJECTS}\\]$`),
    path: /^(Functions|Api|HumanReview|SageMaker|Workflows)\//,
    reason: "Objects under one key prefix of vigil's bucket: keys carry ids made at run time, so the prefix is the narrowest scope.",
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::\*\]$/,
    path: /^(Functions|Workflows|Api|SageMaker|LogRetention[0-9a-f]+)\//,
    reason:
      'Actions without resource-level permissions only: X-Ray PutTraceSegments/PutTelemetryRecords, CloudWatch Logs delivery for Step Functions, ecr:GetAuthorizationToken, rekognition:DetectLabels, and CDK log retention.',
  },
  {
    rule: new RegExp(
      `^AwsSolutions-IAM5\\[Resource::${ARN}(training-job|transform-job|model|endpoint-config|human-task-ui|flow-definition)/vigil-\\*\\]$`,
    ),
    path: /^(Functions|Api|HumanReview|Workflows)\//,
    reason: 'SageMaker resources vigil creates are named vigil-<id> at run time; the grant covers only that name prefix.',
  },
  {
    rule: new RegExp(`^AwsSolutions-IAM5\\[Resource::${ARN}execution:[\\w-]+[:/]\\*\\]$`),
    path: /^(Api|Workflows)\/|^Functions\/executionStatusChange-role\//,
    reason:
      "Executions are created at run time; the grant covers only executions (and Distributed Map children) of vigil's own state machines.",
  },
  {
    rule: new RegExp(`^AwsSolutions-IAM5\\[Resource::${ARN}mapRun:[\\w-]+/\\*\\]$`),
    path: /^Api\/|^Functions\/executionStatusChange-role\//,
    reason:
      "Map Runs are created at run time; the API and the executionStatusChange handler list the child executions (ListExecutions) only of Map Runs of vigil's own state machines with a Distributed Map.",
  },
  {
    rule: new RegExp(`^AwsSolutions-IAM5\\[Resource::${ARN}log-group:/aws/sagemaker/\\*\\]$`),
    path: /^SageMaker\//,
    reason: 'SageMaker names the log groups of training and transform jobs at run time, under /aws/sagemaker/.',
  },
  {
    rule: new RegExp(`^AwsSolutions-IAM5\\[Resource::${ARN}task/<ApiCluster\\w+>/\\*\\]$`),
    path: /^Migrations\/WaitForTask\//,
    reason: "The migration task's id is known only once it runs; DescribeTasks is limited to tasks of vigil's cluster.",
  },
  {
    rule: /^AwsSolutions-IAM5\[Resource::<Migrations\w+\.Arn>:\*\]$/,
    path: /^Migrations\/Provider\//,
    reason: "CDK's custom-resource provider framework invokes versions of its own handler functions.",
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaVPCAccessExecutionRole\]$/,
    path: /^Functions\/[A-Za-z]+-role\/Resource$/,
    reason:
      'The documented minimum for a function in a VPC: its own log writes and ENI management, which has no resource-level permissions.',
  },
  {
    rule: /^AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]$/,
    path: /^(LogRetention[0-9a-f]+|AWS679f53fac002430cb0da5b7982bd2287|Migrations)\//,
    reason:
      "Deploy-time helper functions (CDK's log retention, SDK-call and provider framework functions, and the migration runner): the policy only lets them write their logs.",
  },
  {
    // Only the migration runner is a zip function: vigil's handlers are container images, which name no runtime.
    rule: /^AwsSolutions-L1$/,
    path: /^Migrations\/[A-Za-z]+\/Resource$/,
    reason:
      'Node.js 22 is the version vigil is built and tested on (package.json engines, the Dockerfile, the README); a newer runtime comes when the suite runs on it.',
  },
  {
    rule: /^AwsSolutions-SF[12]$/,
    path: CDK_HELPERS,
    reason:
      "The provider framework's waiter state machine only polls the migration task; its failure is a failed deployment, logged by its functions.",
  },
  {
    rule: /^AwsSolutions-SMG4$/,
    path: /^Network\/Database\/Secret\//,
    reason:
      'The Lambdas receive the password resolved at deploy time; rotating it would break them until the next deploy. Rotate by changing the secret and redeploying.',
  },
  {
    rule: /^AwsSolutions-SMG4$/,
    path: /^Api\/(AdminApiKey|UploadSigningSecret)\//,
    reason:
      'The ADMIN secret only seeds the first API key (keys are revoked and created through the API); the signing secret signs 15-minute links, replaced by a redeploy when needed.',
  },
  {
    rule: /^AwsSolutions-RDS6$/,
    path: /^Network\/Database\//,
    reason:
      "vigil's PostgreSQL driver (pg via Prisma's adapter) connects with a password from Secrets Manager; IAM tokens expire every 15 minutes and the pool does not renew them.",
  },
  {
    rule: /^AwsSolutions-AEC[56]$/,
    path: /^Network\/Redis$/,
    reason:
      'Redis carries only subscription events; it is reachable only from the data-clients security group in isolated subnets, with TLS in transit and encryption at rest. A token would sit in REDIS_URL.',
  },
  {
    rule: /^AwsSolutions-EC23$/,
    path: /^Api\/LoadBalancer\/SecurityGroup\//,
    reason: 'The public GraphQL endpoint: every operation needs an API key, with per-key rate limits and query cost limits.',
  },
  {
    rule: /^AwsSolutions-ECS2$/,
    path: /^Api\/(Api|Migrate)Task\/Resource$/,
    reason:
      'Non-secret configuration only (bucket, region, detector choices, ARNs); every secret is injected from Secrets Manager as an ECS secret.',
  },
  {
    rule: /^AwsSolutions-ELB2$/,
    path: /^Api\/LoadBalancer\/Resource$/,
    reason:
      'Only in an environment-agnostic synth: access logs need the region of the ELB log-delivery principal. Deploying with -c region=… turns them on.',
  },
];

/** Acknowledges each current finding that an ACCEPTED entry covers, with that entry's reason. */
export function acknowledgeFindings(stack: Stack): void {
  const byPath = new Map(stack.node.findAll().map((c) => [c.node.path, c]));
  const report = new AwsSolutionsChecks().validateScope(stack);
  for (const violation of report.violations) {
    for (const resource of violation.violatingResources) {
      const path = resource.constructPath?.slice(stack.node.path.length + 1) ?? '';
      const accepted = ACCEPTED.find((a) => a.rule.test(violation.ruleName) && a.path.test(path));
      const construct = resource.constructPath ? byPath.get(resource.constructPath) : undefined;
      if (accepted && construct) Validations.of(construct).acknowledge({ id: violation.ruleName, reason: accepted.reason });
    }
  }
}
