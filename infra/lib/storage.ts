import { Aws, Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PREFIX } from './handlers';

export interface StorageProps {
  /** Origins allowed to PUT presigned uploads and GET images from a browser. */
  corsOrigins: string[];
}

/** The bucket of images, derivatives, datasets, models and manifests, and the bucket its access logs go to. */
export class Storage extends Construct {
  readonly bucket: s3.Bucket;
  readonly accessLogs: s3.Bucket;

  constructor(scope: Construct, id: string, props: StorageProps) {
    super(scope, id);
    this.accessLogs = new s3.Bucket(this, 'AccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.bucket = new s3.Bucket(this, 'Objects', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      versioned: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: this.accessLogs,
      serverAccessLogsPrefix: 'objects/',
      // Images are the fleet's record: kept when the stack is deleted.
      removalPolicy: RemovalPolicy.RETAIN,
      cors: [
        // Browsers upload straight to S3 with presigned PUTs and show images with presigned GETs.
        {
          allowedMethods: [s3.HttpMethods.PUT, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedOrigins: props.corsOrigins,
          allowedHeaders: ['*'],
          maxAge: 3000,
        },
        // The A2I worker UI loads the image it shows from the bucket.
        {
          allowedMethods: [s3.HttpMethods.GET],
          allowedOrigins: [`https://*.labeling.${Aws.REGION}.sagemaker.aws`],
          allowedHeaders: ['*'],
          maxAge: 3000,
        },
      ],
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Overwritten derivatives and manifests are not history worth paying for.
        { id: 'old-versions', noncurrentVersionExpiration: Duration.days(30) },
        // Survey fan-out manifests are read once, by the execution they start.
        { id: 'survey-manifests', prefix: PREFIX.surveys, expiration: Duration.days(30) },
        { id: 'batch-results', prefix: PREFIX.batch, expiration: Duration.days(30) },
        // Originals are rarely read again once derived: cheaper storage after a month.
        {
          id: 'originals-infrequent-access',
          prefix: PREFIX.uploads,
          transitions: [{ storageClass: s3.StorageClass.INTELLIGENT_TIERING, transitionAfter: Duration.days(30) }],
        },
      ],
    });
  }
}
