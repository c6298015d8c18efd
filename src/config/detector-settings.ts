import path from 'node:path';
import { z } from 'zod';
import { bool, int, priceTable } from './env-fields';

/**
 * US dollars per detector call. AWS list prices (us-east-1, first tier); services priced per
 * inference hour are turned into a per-image figure at one image per second of a running unit
 * ($4/h ÷ 3600). The built-in models record what the AWS call they stand in for would cost.
 */
export const DEFAULT_PRICES_USD: Record<string, number> = {
  'rekognition-labels': 0.001,
  'rekognition-custom-labels': 4 / 3600,
  'lookout-for-vision': 4 / 3600,
  sagemaker: 0.23 / 3600,
  'builtin-screen': 0.001,
  'builtin-inspect': 4 / 3600,
};

/** The region, the built-in models' folder, the backbone and the screen and inspect detectors. */
export const detectorsEnv = z.object({
  AWS_REGION: z
    .string()
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'expected an AWS region such as us-east-1' })
    .default('us-east-1'),
  VIGIL_MODELS_DIR: z.string().min(1).optional(),
  BACKBONE: z.enum(['mobilenet', 'onnx'], { message: 'expected mobilenet or onnx' }).default('mobilenet'),
  BACKBONE_THREADS: int(1, 64).default(1),
  BACKBONE_WARM_AT_START: bool.default(false),
  BACKBONE_THREAD: bool.default(true),
  BACKBONE_ONNX_FILE: z.string().min(1).optional(),
  BACKBONE_ONNX_TAPS: z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean),
    )
    .pipe(
      z
        .array(z.string())
        .min(1, { message: 'expected comma-separated tensor names' })
        .max(8, { message: 'expected at most 8 tensor names' }),
    )
    .optional(),
  BACKBONE_ONNX_STRIDES: z
    .string()
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (!values.every((v) => Number.isInteger(v) && v >= 1 && v <= 64))
        ctx.addIssue({ code: 'custom', message: 'expected comma-separated whole numbers from 1 to 64' });
      return values;
    })
    .optional(),
  BACKBONE_ONNX_INPUT_SIZE: z
    .string()
    .regex(/^(dynamic|[1-9][0-9]{1,3}x[1-9][0-9]{1,3})$/, { message: 'expected dynamic or WIDTHxHEIGHT, e.g. 224x224' })
    .default('dynamic'),
  BACKBONE_ONNX_MEAN: z
    .string()
    .default('0.485,0.456,0.406')
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (values.length !== 3 || !values.every(Number.isFinite))
        ctx.addIssue({ code: 'custom', message: 'expected three numbers (R,G,B)' });
      return values as [number, number, number];
    }),
  BACKBONE_ONNX_STD: z
    .string()
    .default('0.229,0.224,0.225')
    .transform((s, ctx) => {
      const values = s.split(',').map((t) => Number(t.trim()));
      if (values.length !== 3 || !values.every((v) => Number.isFinite(v) && v > 0))
        ctx.addIssue({ code: 'custom', message: 'expected three positive numbers (R,G,B)' });
      return values as [number, number, number];
    }),
  SCREEN_DETECTOR: z
    .enum(['builtin', 'rekognition-labels', 'rekognition-custom-labels'], {
      message: 'expected builtin, rekognition-labels or rekognition-custom-labels',
    })
    .default('builtin'),
  REKOGNITION_LABELS: z.string().min(1).default('Crack,Rust,Corrosion,Damage,Broken,Fire,Smoke,Burnt'),
  REKOGNITION_MIN_CONFIDENCE: z.coerce.number({ message: 'expected a number from 0 to 100' }).min(0).max(100).default(60),
  REKOGNITION_PROJECT_VERSION_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:rekognition:/, { message: 'expected a Rekognition project version ARN' })
    .optional(),
  INSPECT_DETECTOR: z
    .enum(['builtin', 'lookout-for-vision', 'sagemaker'], { message: 'expected builtin, lookout-for-vision or sagemaker' })
    .default('builtin'),
  LOOKOUT_PROJECT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, { message: 'expected a Lookout for Vision project name' })
    .optional(),
  LOOKOUT_MODEL_VERSION: z
    .string()
    .regex(/^[1-9][0-9]*$/, { message: 'expected a model version number' })
    .optional(),
  SAGEMAKER_ENDPOINT_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, { message: 'expected a SageMaker endpoint name' })
    .optional(),
  INSPECT_REVIEW_BELOW: z.coerce.number({ message: 'expected a number from 0 to 1' }).min(0).max(1).default(0.75),
  INSPECT_MODE: z.enum(['endpoint', 'batch'], { message: 'expected endpoint or batch' }).default('endpoint'),
  SAGEMAKER_BATCH_MODEL_NAME: z
    .string()
    .regex(/^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/, { message: 'expected a SageMaker model name' })
    .optional(),
  SAGEMAKER_BATCH_INSTANCE_TYPE: z
    .string()
    .regex(/^ml\.[a-z0-9]+\.[a-z0-9]+$/, { message: 'expected a SageMaker instance type such as ml.m5.xlarge' })
    .default('ml.m5.xlarge'),
  SAGEMAKER_BATCH_INSTANCE_COUNT: int(1, 100).default(1),
  SAGEMAKER_BATCH_INSTANCE_HOUR_USD: z.coerce.number({ message: 'expected US dollars per instance-hour' }).min(0).default(0.23),
});

/** Per-call prices (the last setting of the schema). */
export const pricesEnv = z.object({
  DETECTOR_PRICES_USD: z
    .string()
    .transform((s, ctx) => {
      try {
        return priceTable.parse(JSON.parse(s));
      } catch {
        ctx.addIssue({
          code: 'custom',
          message: 'expected a JSON object of detector name → US dollars per call, e.g. {"rekognition-labels":0.001}',
        });
        return z.NEVER;
      }
    })
    .optional(),
});

export type DetectorsEnv = z.infer<typeof detectorsEnv> & z.infer<typeof pricesEnv>;

/** The image-features port (src/adapters/backbone): nsfwjs's MobileNetV2 by default, or an operator's ONNX export. */
export type BackboneConfig =
  | { kind: 'mobilenet'; threads: number }
  | {
      kind: 'onnx';
      threads: number;
      file: string;
      /** Tensor names to tap, and the stride of each (input pixels per feature cell). */
      taps: string[];
      strides: number[];
      /** null: the network takes any size (sides a multiple of the largest stride). */
      inputSize: { width: number; height: number } | null;
      mean: [number, number, number];
      std: [number, number, number];
    };

export interface DetectorsConfig {
  region: string;
  /** Built-in models: <modelsDir>/<deviceType>/screen and …/inspect, files written by `vigil model train`. */
  modelsDir: string;
  screen:
    | { kind: 'builtin' }
    | { kind: 'rekognition-labels'; labels: string[]; minConfidence: number }
    | { kind: 'rekognition-custom-labels'; projectVersionArn: string; minConfidence: number };
  inspect:
    | { kind: 'builtin' }
    | { kind: 'lookout-for-vision'; projectName: string; modelVersion: string; reviewBelow: number }
    | { kind: 'sagemaker'; endpointName: string; reviewBelow: number }
    | ({ kind: 'sagemaker-batch'; reviewBelow: number } & BatchTransformConfig);
  /** US dollars per call, by detector name. */
  prices: Record<string, number>;
  /** The pretrained network whose features the built-in model learns on. */
  backbone: BackboneConfig;
  /** Load and warm the backbone when the server starts (BACKBONE_WARM_AT_START); by default it loads with the first image that needs it. */
  warmBackboneAtStart: boolean;
  /** Run the server's backbone, and the built-in models' judgements on it, on a worker thread of its own (BACKBONE_THREAD), beside the thread that answers requests. */
  backboneThread: boolean;
}

/** Stage 2 as a SageMaker Batch Transform job per run (INSPECT_MODE=batch): a model in the endpoint's answer format, no endpoint. */
export interface BatchTransformConfig {
  modelName: string;
  instanceType: string;
  instanceCount: number;
  /** The cost ledger's price of one instance-hour, shared over the job's pictures. */
  instanceHourUsd: number;
}

function backboneConfig(e: DetectorsEnv): BackboneConfig {
  if (e.BACKBONE !== 'onnx') return { kind: 'mobilenet', threads: e.BACKBONE_THREADS };
  return {
    kind: 'onnx',
    threads: e.BACKBONE_THREADS,
    file: path.resolve(e.BACKBONE_ONNX_FILE!),
    taps: e.BACKBONE_ONNX_TAPS!,
    strides: e.BACKBONE_ONNX_STRIDES!,
    inputSize:
      e.BACKBONE_ONNX_INPUT_SIZE === 'dynamic'
        ? null
        : { width: Number(e.BACKBONE_ONNX_INPUT_SIZE.split('x')[0]), height: Number(e.BACKBONE_ONNX_INPUT_SIZE.split('x')[1]) },
    mean: e.BACKBONE_ONNX_MEAN,
    std: e.BACKBONE_ONNX_STD,
  };
}

export function detectorsConfig(e: DetectorsEnv, dataDir: string): DetectorsConfig {
  return {
    region: e.AWS_REGION,
    modelsDir: path.resolve(e.VIGIL_MODELS_DIR ?? path.join(dataDir, 'models')),
    screen:
      e.SCREEN_DETECTOR === 'rekognition-labels'
        ? {
            kind: 'rekognition-labels',
            labels: e.REKOGNITION_LABELS.split(',')
              .map((l) => l.trim())
              .filter(Boolean),
            minConfidence: e.REKOGNITION_MIN_CONFIDENCE,
          }
        : e.SCREEN_DETECTOR === 'rekognition-custom-labels'
          ? {
              kind: 'rekognition-custom-labels',
              projectVersionArn: e.REKOGNITION_PROJECT_VERSION_ARN!,
              minConfidence: e.REKOGNITION_MIN_CONFIDENCE,
            }
          : { kind: 'builtin' },
    inspect:
      e.INSPECT_DETECTOR === 'lookout-for-vision'
        ? {
            kind: 'lookout-for-vision',
            projectName: e.LOOKOUT_PROJECT_NAME!,
            modelVersion: e.LOOKOUT_MODEL_VERSION!,
            reviewBelow: e.INSPECT_REVIEW_BELOW,
          }
        : e.INSPECT_DETECTOR === 'sagemaker' && e.INSPECT_MODE === 'batch'
          ? {
              kind: 'sagemaker-batch',
              modelName: e.SAGEMAKER_BATCH_MODEL_NAME!,
              instanceType: e.SAGEMAKER_BATCH_INSTANCE_TYPE,
              instanceCount: e.SAGEMAKER_BATCH_INSTANCE_COUNT,
              instanceHourUsd: e.SAGEMAKER_BATCH_INSTANCE_HOUR_USD,
              reviewBelow: e.INSPECT_REVIEW_BELOW,
            }
          : e.INSPECT_DETECTOR === 'sagemaker'
            ? { kind: 'sagemaker', endpointName: e.SAGEMAKER_ENDPOINT_NAME!, reviewBelow: e.INSPECT_REVIEW_BELOW }
            : { kind: 'builtin' },
    prices: { ...DEFAULT_PRICES_USD, ...(e.DETECTOR_PRICES_USD ?? {}) },
    backbone: backboneConfig(e),
    warmBackboneAtStart: e.BACKBONE_WARM_AT_START,
    backboneThread: e.BACKBONE_THREAD,
  };
}
