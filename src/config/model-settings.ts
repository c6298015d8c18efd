import { z } from 'zod';
import { bool, int, stateMachineArn } from './env-fields';

/** Retraining, the deployment gate, the agreement monitor and training in AWS (Lookout for Vision, SageMaker). */
export const modelsEnv = z.object({
  MODEL_RETRAIN_AFTER_LABELS: int(0, 1_000_000).default(50),
  MODEL_RETRAIN_INTERVAL_HOURS: int(0, 24 * 365).default(0),
  MODEL_AUTO_DEPLOY: bool.default(true),
  MODEL_GATE_RECALL_MARGIN: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.02),
  MODEL_GATE_F1_MARGIN: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.02),
  MODEL_GATE_AUROC_MARGIN: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.01),
  MODEL_GATE_PRECISION_MARGIN: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.02),
  MODEL_HEALTH_WINDOW: int(10, 100_000).default(200),
  MODEL_HEALTH_MIN_SAMPLES: int(1, 100_000).default(20),
  MODEL_HEALTH_FLOOR: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.8),
  MODEL_TRAINING_POLL_SECONDS: int(1, 3600).default(60),
  MODEL_TRAINING_THREAD: bool.default(true),
  SFN_TRAIN_MODEL_ARN: stateMachineArn.optional(),
  LOOKOUT_MIN_INFERENCE_UNITS: int(1, 100).default(1),
  LOOKOUT_MAX_INFERENCE_UNITS: int(1, 100).optional(),
  LOOKOUT_OUTPUT_S3_URI: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { message: 'expected s3://bucket/prefix' })
    .optional(),
  SAGEMAKER_TRAINING_IMAGE: z
    .string()
    .regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+$/, {
      message: 'expected an ECR image URI (123456789012.dkr.ecr.<region>.amazonaws.com/name:tag)',
    })
    .optional(),
  SAGEMAKER_INFERENCE_IMAGE: z
    .string()
    .regex(/^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+$/, {
      message: 'expected an ECR image URI (123456789012.dkr.ecr.<region>.amazonaws.com/name:tag)',
    })
    .optional(),
  SAGEMAKER_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, { message: 'expected an IAM role ARN' })
    .optional(),
  SAGEMAKER_OUTPUT_S3_URI: z
    .string()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?$/, { message: 'expected s3://bucket/prefix' })
    .optional(),
  SAGEMAKER_TRAINING_INSTANCE_TYPE: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected a SageMaker instance type like ml.g4dn.xlarge' })
    .default('ml.g4dn.xlarge'),
  SAGEMAKER_ENDPOINT_INSTANCE_TYPE: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected a SageMaker instance type like ml.m5.xlarge' })
    .default('ml.m5.xlarge'),
  SAGEMAKER_MAX_TRAINING_SECONDS: int(60, 28 * 86_400).default(86_400),
});

export type ModelsEnv = z.infer<typeof modelsEnv>;

export interface ModelsConfig {
  /** Train again once this many reviewed entries arrived since the dataset's last training; 0: never on count. */
  retrainAfterLabels: number;
  /** Train again when the last training is this old and new labels exist; 0: no schedule. */
  retrainIntervalHours: number;
  /** An automatic training deploys its model when it passes the gate. */
  autoDeploy: boolean;
  /** How much worse (absolute) than the active version a candidate may be and still deploy. */
  gate: { recallMargin: number; f1Margin: number; aurocMargin: number; precisionMargin: number };
  /** Agreement monitor: the last `window` SAMPLED_QA verdicts; an estimate under `floor` from at least `minSamples` is drift. */
  health: { window: number; minSamples: number; floor: number };
  /** Seconds between status checks of a training running in AWS. */
  pollSeconds: number;
  /** The built-in model trains and is measured on a worker thread, so the API keeps answering meanwhile. */
  trainingThread: boolean;
  lookout: { minInferenceUnits: number; maxInferenceUnits: number | null; outputS3Uri: string | null };
  /** SageMaker training; null until SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_S3_URI are set. */
  sagemaker: {
    trainingImage: string;
    inferenceImage: string;
    roleArn: string;
    outputS3Uri: string;
    trainingInstanceType: string;
    endpointInstanceType: string;
    maxTrainingSeconds: number;
  } | null;
}

export function modelsConfig(e: ModelsEnv): ModelsConfig {
  return {
    retrainAfterLabels: e.MODEL_RETRAIN_AFTER_LABELS,
    retrainIntervalHours: e.MODEL_RETRAIN_INTERVAL_HOURS,
    autoDeploy: e.MODEL_AUTO_DEPLOY,
    gate: {
      recallMargin: e.MODEL_GATE_RECALL_MARGIN,
      f1Margin: e.MODEL_GATE_F1_MARGIN,
      aurocMargin: e.MODEL_GATE_AUROC_MARGIN,
      precisionMargin: e.MODEL_GATE_PRECISION_MARGIN,
    },
    health: { window: e.MODEL_HEALTH_WINDOW, minSamples: e.MODEL_HEALTH_MIN_SAMPLES, floor: e.MODEL_HEALTH_FLOOR },
    pollSeconds: e.MODEL_TRAINING_POLL_SECONDS,
    trainingThread: e.MODEL_TRAINING_THREAD,
    lookout: {
      minInferenceUnits: e.LOOKOUT_MIN_INFERENCE_UNITS,
      maxInferenceUnits: e.LOOKOUT_MAX_INFERENCE_UNITS ?? null,
      outputS3Uri: e.LOOKOUT_OUTPUT_S3_URI ?? null,
    },
    sagemaker:
      e.SAGEMAKER_TRAINING_IMAGE && e.SAGEMAKER_ROLE_ARN && e.SAGEMAKER_OUTPUT_S3_URI
        ? {
            trainingImage: e.SAGEMAKER_TRAINING_IMAGE,
            inferenceImage: e.SAGEMAKER_INFERENCE_IMAGE ?? e.SAGEMAKER_TRAINING_IMAGE,
            roleArn: e.SAGEMAKER_ROLE_ARN,
            outputS3Uri: e.SAGEMAKER_OUTPUT_S3_URI,
            trainingInstanceType: e.SAGEMAKER_TRAINING_INSTANCE_TYPE,
            endpointInstanceType: e.SAGEMAKER_ENDPOINT_INSTANCE_TYPE,
            maxTrainingSeconds: e.SAGEMAKER_MAX_TRAINING_SECONDS,
          }
        : null,
  };
}
