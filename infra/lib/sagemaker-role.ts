import { ArnFormat, Aws, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { objectsUnder } from './permissions';

export interface SageMakerRoleProps {
  bucket: IBucket;
  /** ECR images of training jobs, endpoints and batch models. */
  images: string[];
}

/** The role SageMaker assumes for vigil's training jobs, models and Batch Transform jobs: the bucket's prefixes, the images, the logs. */
export class SageMakerRole extends Construct {
  readonly role: iam.Role;

  constructor(scope: Construct, id: string, props: SageMakerRoleProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new iam.Role(this, 'Role', { assumedBy: new iam.ServicePrincipal('sagemaker.amazonaws.com') });
    const add = (actions: string[], resources: string[]) => this.role.addToPolicy(new iam.PolicyStatement({ actions, resources }));
    add(['s3:GetObject'], objectsUnder(props.bucket, ['derived', 'datasets', 'models', 'batch']));
    add(['s3:PutObject'], objectsUnder(props.bucket, ['models', 'batch']));
    add(['s3:ListBucket'], [props.bucket.bucketArn]);
    // An image URI names its repository's account and region: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/name:tag.
    const repositories = [
      ...new Set(
        props.images.map((image) => {
          const [, account, region, name] = /^(\d{12})\.dkr\.ecr\.([a-z0-9-]+)\.[^/]+\/([^:@]+)/.exec(image) ?? [];
          return `arn:${Aws.PARTITION}:ecr:${region}:${account}:repository/${name}`;
        }),
      ),
    ];
    if (repositories.length) {
      add(['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'], repositories);
      // GetAuthorizationToken has no resource-level permissions.
      add(['ecr:GetAuthorizationToken'], ['*']);
    }
    const sagemakerLogs = stack.formatArn({
      service: 'logs',
      resource: 'log-group',
      resourceName: '/aws/sagemaker/*',
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    add(['logs:CreateLogGroup', 'logs:CreateLogStream', 'logs:PutLogEvents'], [sagemakerLogs]);
  }
}
