import fs from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ALL_HANDLERS, EVENT_HANDLERS, handlerPath } from './handlers';
import { handlerStatements, type PermissionContext } from './permissions';

export interface FunctionsProps {
  /** A folder holding `dist/src/app/lambda.js` and the production node_modules (infra/scripts/bundle-lambdas.sh). */
  bundleDir: string;
  vpc: ec2.IVpc;
  securityGroup: ec2.ISecurityGroup;
  environment: Record<string, string>;
  permissions: PermissionContext;
}

/** The file a bundle must hold, so a missing or unbuilt bundle fails synth instead of every invocation. */
export const BUNDLE_ENTRY = 'dist/src/app/lambda.js';

/** One Node.js 22 Lambda per handler of src/app/lambda.ts, each with its own role and log group. */
export class Functions extends Construct {
  readonly byHandler: Record<string, lambda.Function> = {};
  readonly roles: Record<string, iam.Role> = {};
  /** Dead-letter queues of the asynchronously invoked (EventBridge) handlers. */
  readonly deadLetters: Record<string, sqs.Queue> = {};

  constructor(scope: Construct, id: string, props: FunctionsProps) {
    super(scope, id);
    if (!fs.existsSync(path.join(props.bundleDir, BUNDLE_ENTRY))) {
      throw new Error(
        `lambdaBundle=${props.bundleDir} has no ${BUNDLE_ENTRY}: build it with infra/scripts/bundle-lambdas.sh or point lambdaBundle at a built bundle`,
      );
    }
    const code = lambda.Code.fromAsset(props.bundleDir);
    for (const [handler, spec] of Object.entries(ALL_HANDLERS)) {
      const role = new iam.Role(this, `${handler}-role`, {
        assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
        managedPolicies: [iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaVPCAccessExecutionRole')],
      });
      for (const s of handlerStatements(spec, props.permissions)) role.addToPolicy(s);
      const deadLetterQueue = handler in EVENT_HANDLERS ? this.deadLetterQueue(handler) : undefined;
      this.roles[handler] = role;
      this.byHandler[handler] = new lambda.Function(this, handler, {
        runtime: lambda.Runtime.NODEJS_22_X,
        architecture: lambda.Architecture.X86_64,
        code,
        handler: handlerPath(handler),
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
