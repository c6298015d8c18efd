import { Duration, IgnoreMode, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { imageContext } from './paths';
import { ALL_HANDLERS, EVENT_HANDLERS, handlerPath } from './handlers';
import { handlerStatements, type PermissionContext } from './permissions';

export interface FunctionsProps {
  /** The repository root: the build context of the functions' image (LAMBDA_DOCKERFILE). */
  repoRoot: string;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  environment: Record<string, string>;
  permissions: PermissionContext;
}

/** The Dockerfile, at the repository root, of the image every function runs (the Lambda Node.js 22 base image). */
export const LAMBDA_DOCKERFILE = 'Dockerfile.lambda';

// Dockerfile.lambda copies what the API's Dockerfile does but bin/ (CDK adds the Dockerfile itself).
const LAMBDA_IMAGE_CONTEXT = imageContext();

/**
 * One image-based Lambda per handler of src/app/lambda.ts, each with its own role and log group. All run the same
 * image asset (one directory, Dockerfile and platform: one asset hash, built once by `cdk deploy`) and differ only in
 * their command, the handler. Synth only fingerprints the context; Docker builds it at deploy (or `cdk-assets publish`).
 */
export class Functions extends Construct {
  readonly byHandler: Record<string, lambda.DockerImageFunction> = {};
  readonly roles: Record<string, iam.Role> = {};
  /** Dead-letter queues of the asynchronously invoked (EventBridge) handlers. */
  readonly deadLetters: Record<string, sqs.Queue> = {};

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    for (const [handler, spec] of Object.entries(ALL_HANDLERS)) {
      const role = new iam.Role(this, `${handler}-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
      });
      for (const s of handlerStatements(spec, props.permissions)) role.addToPolicy(s);
      const deadLetterQueue = handler in EVENT_HANDLERS ? this.deadLetterQueue(handler) : undefined;
      this.roles[handler] = role;
      this.byHandler[handler] = new lambda.DockerImageFunction(this, handler, {
        architecture: lambda.Architecture.X86_64,
        code: lambdaImage(props.repoRoot, handler),
        memorySize: spec.memoryMb,
        timeout: Duration.minutes(spec.timeoutMinutes),
        role,
        vpc: props.vpc,
        vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        securityGroups: [props.securityGroup],
        // Lambda's file system is read-only outside /tmp; a pool of 2 keeps many containers within Aurora's connections.
        environment: { ...props.environment, DATA_DIR: '/tmp/vigil', DATABASE_POOL_SIZE: '2' },
        deadLetterQueue,
        logGroup: new logs.LogGroup(this, `${handler}-logs`, {
          retention: logs.RetentionDays.THREE_MONTHS,
          removalPolicy: RemovalPolicy.DESTROY,
        }),
        tracing: lambda.Tracing.ACTIVE,
      });
    }
  }

  private deadLetterQueue(handler: string): sqs.Queue {
    const queue = new sqs.Queue(this, `${handler}-dlq`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetters[handler] = queue;
    return queue;
  }
}

/** The functions' image with the handler as its command; the same asset for every handler (only `cmd` differs). */
export const lambdaImage = (repoRoot: string, handler: string) =>
  lambda.DockerImageCode.fromImageAsset(repoRoot, {
    file: LAMBDA_DOCKERFILE,
    cmd: [handlerPath(handler)],
    exclude: LAMBDA_IMAGE_CONTEXT,
    ignoreMode: IgnoreMode.DOCKER,
    platform: Platform.LINUX_AMD64,
  });
