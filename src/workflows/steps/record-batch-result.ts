import { z } from 'zod';
import { defineStep } from './step';

const input = z.object({
  runId: z.uuid(),
  imageId: z.uuid(),
  // DescribeTransformJob's answer as the .sync state passes it on ({} when no job ran): times as ISO strings or epoch milliseconds.
  job: z.object({
    TransformStartTime: z.union([z.string(), z.number()]).optional(),
    TransformEndTime: z.union([z.string(), z.number()]).optional(),
    TransformResources: z.object({ InstanceCount: z.number().int().positive().optional() }).optional(),
  }),
  pictures: z.number().int().min(0),
});

/** RecordBatchResult: the transform job's answers for one image recorded as stage 2; route ANOMALY, NORMAL, UNCERTAIN or COLD_START. */
export const recordBatchResult = defineStep('RecordBatchResult', input, (s, { runId, imageId, job, pictures }) =>
  s.batchInspection.record(runId, imageId, job, pictures),
);
