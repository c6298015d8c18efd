import crypto from 'node:crypto';
import fs from 'node:fs';
import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { PREFIX } from './handlers';
import { objectsUnder } from './permissions';

export interface HumanReviewProps {
  bucket: IBucket;
  /** The private workforce's work team that answers the loops. */
  workteamArn: string;
  /** workflows/a2i/anomaly-review.liquid.html */
  templateFile: string;
}

const TEMPLATE_LIMIT_BYTES = 128 * 1024;

/**
 * The A2I worker task template and flow definition. CloudFormation has no resource for either,
 * so SDK calls make them; both are immutable, so a changed template or work team gets new names
 * (a content hash) and the old ones are deleted by the replacement.
 */
export class HumanReview extends Construct {
  readonly flowDefinitionArn: string;
  readonly flowDefinition: cr.AwsCustomResource;
  /** The role A2I assumes to read the image and write the workers' answers under a2i/. */
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: HumanReviewProps) {
    super(scope, id);
    const template = fs.readFileSync(props.templateFile, 'utf8');
    if (Buffer.byteLength(template) > TEMPLATE_LIMIT_BYTES) throw new Error(`${props.templateFile} is over A2I's 128 KiB template limit`);
    const digest = crypto.createHash('sha256').update(template).update(props.workteamArn).digest('hex').slice(0, 10);
    const stack = Stack.of(this);
    const sagemaker = (resource: string) => stack.formatArn({ service: 'sagemaker', resource, resourceName: 'vigil-*' });

    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: objectsUnder(props.bucket, ['derived']) }));
    this.role.addToPolicy(new iam.PolicyStatement({ actions: ['s3:PutObject'], resources: objectsUnder(props.bucket, ['a2i']) }));

    const uiName = `vigil-anomaly-review-${digest}`;
    const createUi: cr.AwsSdkCall = {
      service: 'SageMaker',
      action: 'createHumanTaskUi',
      parameters: { HumanTaskUiName: uiName, UiTemplate: { Content: template } },
      physicalResourceId: cr.PhysicalResourceId.of(uiName),
    };
    // A new name is a new physical resource: CloudFormation then deletes the old one by its own name.
    const taskUi = new cr.AwsCustomResource(this, 'TaskUi', {
      onCreate: createUi,
      onUpdate: createUi,
      onDelete: {
        service: 'SageMaker',
        action: 'deleteHumanTaskUi',
        parameters: { HumanTaskUiName: new cr.PhysicalResourceIdReference() },
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['sagemaker:CreateHumanTaskUi', 'sagemaker:DeleteHumanTaskUi'],
          resources: [sagemaker('human-task-ui')],
        }),
      ]),
      installLatestAwsSdk: false,
    });

    const flowName = `vigil-review-${digest}`;
    const createFlow: cr.AwsSdkCall = {
      service: 'SageMaker',
      action: 'createFlowDefinition',
      parameters: {
        FlowDefinitionName: flowName,
        HumanLoopConfig: {
          WorkteamArn: props.workteamArn,
          HumanTaskUiArn: taskUi.getResponseField('HumanTaskUiArn'),
          TaskTitle: 'Is this device damaged?',
          TaskDescription: 'Mark each anomaly on the photograph with a box and its type, or confirm it looks normal.',
          TaskCount: 1,
          TaskTimeLimitInSeconds: 3600,
          TaskAvailabilityLifetimeInSeconds: 864000,
        },
        OutputConfig: { S3OutputPath: `s3://${props.bucket.bucketName}/${PREFIX.a2i}` },
        RoleArn: this.role.roleArn,
      },
      physicalResourceId: cr.PhysicalResourceId.of(flowName),
    };
    const flow = new cr.AwsCustomResource(this, 'FlowDefinition', {
      onCreate: createFlow,
      onUpdate: createFlow,
      onDelete: {
        service: 'SageMaker',
        action: 'deleteFlowDefinition',
        parameters: { FlowDefinitionName: new cr.PhysicalResourceIdReference() },
      },
      policy: cr.AwsCustomResourcePolicy.fromStatements([
        new iam.PolicyStatement({
          actions: ['sagemaker:CreateFlowDefinition', 'sagemaker:DeleteFlowDefinition'],
          resources: [sagemaker('flow-definition')],
        }),
        new iam.PolicyStatement({ actions: ['iam:PassRole'], resources: [this.role.roleArn] }),
      ]),
      installLatestAwsSdk: false,
    });
    // The ARN follows from the name: nothing has to read the SDK call's response.
    this.flowDefinitionArn = stack.formatArn({ service: 'sagemaker', resource: 'flow-definition', resourceName: flowName });
    this.flowDefinition = flow;
  }
}
