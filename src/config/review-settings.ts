import path from 'node:path';
import { z } from 'zod';
import { int } from './env-fields';

/** Human review (built in or Amazon A2I), review tasks, anomaly types and datasets. */
export const reviewsEnv = z.object({
  HUMAN_REVIEW: z.enum(['builtin', 'a2i'], { message: 'expected builtin or a2i' }).default('builtin'),
  A2I_FLOW_DEFINITION_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:\d{12}:flow-definition\/[a-z0-9](-*[a-z0-9]){0,62}$/, {
      message: 'expected a SageMaker A2I flow definition ARN',
    })
    .optional(),
  A2I_MAX_LOOPS: int(1, 5).default(2),
  REVIEW_CONSENSUS: int(1, 3).default(1),
  REVIEW_LEASE_SECONDS: int(1, 86_400).default(600),
  REVIEW_QA_SHARE: z.coerce
    .number({ message: 'expected a number from 0 to 1' })
    .min(0, { message: 'expected a number from 0 to 1' })
    .max(1, { message: 'expected a number from 0 to 1' })
    .default(0.05),
  REVIEW_LEARNING_PER_RUN: int(0, 1000).default(10),
  REVIEW_LEARNING_PER_DAY: int(0, 1_000_000).default(200),
  ANOMALY_TYPES: z
    .string()
    .default('crack,chip,corrosion,contamination,burn,broken,missing-part,other')
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((t) => t.trim())
          .filter(Boolean),
      ),
    ])
    .pipe(
      z
        .array(
          z.string().regex(/^[a-z0-9][a-z0-9 _-]{0,49}$/, {
            message: 'expected lowercase names (letters, digits, space, - or _), at most 50 characters',
          }),
        )
        .min(1, { message: 'expected at least one anomaly type' })
        .max(30, { message: 'expected at most 30 anomaly types' }),
    ),
  DATASET_TEST_SHARE: z.coerce
    .number({ message: 'expected a number from 0 to 0.9' })
    .min(0, { message: 'expected a number from 0 to 0.9' })
    .max(0.9, { message: 'expected a number from 0 to 0.9' })
    .default(0.2),
  LOOKOUT_DATASET_PROJECT: z
    .string()
    .regex(/^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, { message: 'expected a Lookout for Vision project name' })
    .optional(),
  IMPORT_ROOT: z.string().min(1).optional(),
});

export type ReviewsEnv = z.infer<typeof reviewsEnv>;

export interface ReviewsConfig {
  humanReview: { kind: 'builtin' } | { kind: 'a2i'; flowDefinitionArn: string; maxLoops: number };
  /** Answers a task needs (1–3); disagreement escalates to an ADMIN. */
  consensus: number;
  leaseSeconds: number;
  /** Share of confident verdicts also sent to review, to measure the model without bias. */
  qaShare: number;
  /** Confident verdicts also sent to review for active learning, most uncertain first: at most perRun per run, perDay per device type and UTC day (0: none). */
  learning: { perRun: number; perDay: number };
  anomalyTypes: string[];
}

export interface DatasetsConfig {
  testShare: number;
  /** Lookout for Vision project that receives reviewed entries by UpdateDatasetEntries; null: none. */
  lookoutProject: string | null;
  /** importDataset(folder:) reads only folders under this one (absolute; default DATA_DIR/imports). */
  importRoot: string;
}

export function reviewsConfig(e: ReviewsEnv, dataDir: string): { reviews: ReviewsConfig; datasets: DatasetsConfig } {
  return {
    reviews: {
      humanReview:
        e.HUMAN_REVIEW === 'a2i'
          ? { kind: 'a2i', flowDefinitionArn: e.A2I_FLOW_DEFINITION_ARN!, maxLoops: e.A2I_MAX_LOOPS }
          : { kind: 'builtin' },
      consensus: e.REVIEW_CONSENSUS,
      leaseSeconds: e.REVIEW_LEASE_SECONDS,
      qaShare: e.REVIEW_QA_SHARE,
      learning: { perRun: e.REVIEW_LEARNING_PER_RUN, perDay: e.REVIEW_LEARNING_PER_DAY },
      anomalyTypes: e.ANOMALY_TYPES,
    },
    datasets: {
      testShare: e.DATASET_TEST_SHARE,
      lookoutProject: e.LOOKOUT_DATASET_PROJECT ?? null,
      importRoot: path.resolve(e.IMPORT_ROOT ?? path.join(dataDir, 'imports')),
    },
  };
}
