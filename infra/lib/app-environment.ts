import { Aws, type Stack } from 'aws-cdk-lib';
import { type IRole } from 'aws-cdk-lib/aws-iam';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import { PREFIX } from './handlers';
import { type VigilSettings } from './settings';
import { stateMachineArn } from './state-machines';

// The settings of src/config that the API service and the Lambdas share (README "Configuration").
// Secrets are not here: the API gets them as ECS secrets, the Lambdas as deploy-time references.

export interface EnvironmentSources {
  stack: Stack;
  settings: VigilSettings;
  bucket: IBucket;
  redisUrl: string;
  workflows: string[];
  flowDefinitionArn: string | null;
  sagemakerRole: IRole | null;
}

/** `detect-inspection` → `SFN_DETECT_INSPECTION_ARN`. */
export const stateMachineVariable = (workflow: string) => `SFN_${workflow.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_ARN`;

function detectorEnvironment({ settings, bucket, sagemakerRole }: EnvironmentSources): Record<string, string> {
  const env: Record<string, string> = { SCREEN_DETECTOR: settings.screen.kind, INSPECT_DETECTOR: settings.inspect.kind };
  if (settings.screen.kind === 'rekognition-custom-labels') env.REKOGNITION_PROJECT_VERSION_ARN = settings.screen.projectVersionArn;
  const inspect = settings.inspect;
  if (inspect.kind === 'sagemaker') {
    env.SAGEMAKER_ENDPOINT_NAME = inspect.endpointName;
    if (inspect.training && sagemakerRole) {
      env.SAGEMAKER_TRAINING_IMAGE = inspect.training.trainingImage;
      env.SAGEMAKER_INFERENCE_IMAGE = inspect.training.inferenceImage;
      env.SAGEMAKER_ROLE_ARN = sagemakerRole.roleArn;
      env.SAGEMAKER_OUTPUT_S3_URI = `s3://${bucket.bucketName}/${PREFIX.models}sagemaker`;
    }
  }
  if (settings.batch) {
    // Stage 2 of every run is the Batch Transform job of that model (answering as the endpoint does): no endpoint is called.
    Object.assign(env, {
      INSPECT_DETECTOR: 'sagemaker',
      INSPECT_MODE: 'batch',
      SAGEMAKER_BATCH_MODEL_NAME: settings.batch.modelName,
      SAGEMAKER_BATCH_INSTANCE_TYPE: settings.batch.instanceType,
    });
  }
  if (inspect.kind === 'lookout-for-vision') {
    env.LOOKOUT_PROJECT_NAME = inspect.projectName;
    env.LOOKOUT_MODEL_VERSION = inspect.modelVersion;
    env.LOOKOUT_DATASET_PROJECT = inspect.projectName;
    env.LOOKOUT_OUTPUT_S3_URI = `s3://${bucket.bucketName}/${PREFIX.models}lookout`;
  }
  return env;
}

export function appEnvironment(sources: EnvironmentSources): Record<string, string> {
  const { stack, bucket, redisUrl, workflows, flowDefinitionArn } = sources;
  const env: Record<string, string> = {
    NODE_ENV: 'production',
    OBJECT_STORE: 's3',
    S3_BUCKET: bucket.bucketName,
    S3_REGION: Aws.REGION,
    REDIS_URL: redisUrl,
    WORKFLOW_ENGINE: 'stepfunctions',
    // Executions report their end through EventBridge (executionStatusChange); polling is the fallback.
    SFN_POLL_INTERVAL_MS: '60000',
    HUMAN_REVIEW: flowDefinitionArn ? 'a2i' : 'builtin',
    ...detectorEnvironment(sources),
  };
  for (const workflow of workflows) env[stateMachineVariable(workflow)] = stateMachineArn(stack, workflow);
  if (flowDefinitionArn) env.A2I_FLOW_DEFINITION_ARN = flowDefinitionArn;
  return env;
}
