import { z } from 'zod';
import { detectorsEnv, pricesEnv } from './detector-settings';
import { limitsEnv } from './limits-settings';
import { modelsEnv } from './model-settings';
import { reviewsEnv } from './review-settings';
import { serverEnv } from './server-settings';
import { webhooksEnv } from './webhook-settings';

/** The pieces in the order the variables have always been listed (and problems reported) in. */
const baseSchema = z.object({
  ...serverEnv.shape,
  ...detectorsEnv.shape,
  ...reviewsEnv.shape,
  ...modelsEnv.shape,
  ...pricesEnv.shape,
  ...limitsEnv.shape,
  ...webhooksEnv.shape,
});

/** Every setting vigil reads, with its default. README's configuration table lists the same names. */
export const envSchema = baseSchema.superRefine((env, ctx) => {
  if (env.OBJECT_STORE === 's3' && !env.S3_BUCKET) {
    ctx.addIssue({ code: 'custom', path: ['S3_BUCKET'], message: 'required when OBJECT_STORE=s3' });
  }
  const requires = (when: boolean, name: keyof typeof env, why: string) => {
    if (when && !env[name]) ctx.addIssue({ code: 'custom', path: [name], message: `required when ${why}` });
  };
  requires(env.WORKFLOW_ENGINE === 'stepfunctions', 'SFN_DETECT_INSPECTION_ARN', 'WORKFLOW_ENGINE=stepfunctions');
  requires(
    env.WORKFLOW_ENGINE === 'stepfunctions' && env.INSPECT_MODE === 'batch',
    'SFN_DETECT_INSPECTION_BATCH_ARN',
    'WORKFLOW_ENGINE=stepfunctions and INSPECT_MODE=batch',
  );
  requires(
    env.SCREEN_DETECTOR === 'rekognition-custom-labels',
    'REKOGNITION_PROJECT_VERSION_ARN',
    'SCREEN_DETECTOR=rekognition-custom-labels',
  );
  requires(env.INSPECT_DETECTOR === 'lookout-for-vision', 'LOOKOUT_PROJECT_NAME', 'INSPECT_DETECTOR=lookout-for-vision');
  requires(env.INSPECT_DETECTOR === 'lookout-for-vision', 'LOOKOUT_MODEL_VERSION', 'INSPECT_DETECTOR=lookout-for-vision');
  const batch = env.INSPECT_MODE === 'batch';
  requires(env.INSPECT_DETECTOR === 'sagemaker' && !batch, 'SAGEMAKER_ENDPOINT_NAME', 'INSPECT_DETECTOR=sagemaker');
  requires(batch, 'SAGEMAKER_BATCH_MODEL_NAME', 'INSPECT_MODE=batch');
  // The job reads its manifest and pictures from S3 and writes answers in the endpoint's format there.
  if (batch && env.OBJECT_STORE !== 's3')
    ctx.addIssue({ code: 'custom', path: ['OBJECT_STORE'], message: 'INSPECT_MODE=batch needs OBJECT_STORE=s3: Batch Transform reads S3' });
  if (batch && env.INSPECT_DETECTOR !== 'sagemaker')
    ctx.addIssue({
      code: 'custom',
      path: ['INSPECT_DETECTOR'],
      message: 'INSPECT_MODE=batch needs INSPECT_DETECTOR=sagemaker: the model must answer as the SageMaker endpoint does',
    });
  requires(env.HUMAN_REVIEW === 'a2i', 'A2I_FLOW_DEFINITION_ARN', 'HUMAN_REVIEW=a2i');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_FILE', 'BACKBONE=onnx');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_TAPS', 'BACKBONE=onnx');
  requires(env.BACKBONE === 'onnx', 'BACKBONE_ONNX_STRIDES', 'BACKBONE=onnx');
  if (env.BACKBONE_ONNX_TAPS && env.BACKBONE_ONNX_STRIDES && env.BACKBONE_ONNX_TAPS.length !== env.BACKBONE_ONNX_STRIDES.length) {
    ctx.addIssue({
      code: 'custom',
      path: ['BACKBONE_ONNX_STRIDES'],
      message: `expected one stride per tap (${env.BACKBONE_ONNX_TAPS.length})`,
    });
  }
  if (env.HUMAN_REVIEW === 'a2i' && env.OBJECT_STORE !== 's3') {
    ctx.addIssue({ code: 'custom', path: ['HUMAN_REVIEW'], message: 'a2i needs OBJECT_STORE=s3: A2I workers load images from S3' });
  }
  if (env.HUMAN_REVIEW === 'a2i' && env.ANOMALY_TYPES.length > 10) {
    ctx.addIssue({
      code: 'custom',
      path: ['ANOMALY_TYPES'],
      message: "at most 10 types with HUMAN_REVIEW=a2i: A2I's bounding-box tool takes at most 10 labels",
    });
  }
  if (env.LOOKOUT_DATASET_PROJECT && env.OBJECT_STORE !== 's3') {
    ctx.addIssue({
      code: 'custom',
      path: ['LOOKOUT_DATASET_PROJECT'],
      message: 'needs OBJECT_STORE=s3: Lookout for Vision reads dataset images from S3',
    });
  }
  if (env.LOOKOUT_MAX_INFERENCE_UNITS !== undefined && env.LOOKOUT_MAX_INFERENCE_UNITS < env.LOOKOUT_MIN_INFERENCE_UNITS) {
    ctx.addIssue({
      code: 'custom',
      path: ['LOOKOUT_MAX_INFERENCE_UNITS'],
      message: `must be at least LOOKOUT_MIN_INFERENCE_UNITS (${env.LOOKOUT_MIN_INFERENCE_UNITS})`,
    });
  }
  if (env.TILE_OVERLAP >= env.TILE_SIZE) {
    ctx.addIssue({ code: 'custom', path: ['TILE_OVERLAP'], message: `must be smaller than TILE_SIZE (${env.TILE_SIZE})` });
  }
});

/** The variable names, for checks that compare deployment files with this module. */
export const ENV_NAMES = Object.keys(baseSchema.shape);

export type Env = z.infer<typeof envSchema>;
