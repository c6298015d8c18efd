import { z } from 'zod';
import { defineStep } from './step';

const input = z.object({ runId: z.uuid(), imageId: z.uuid(), reason: z.enum(['COLD_START', 'LOW_CONFIDENCE']) });

/** RequestReview: a review task for a person (one per image and reason), announced on reviewTaskCreated. */
export const requestReview = defineStep('RequestReview', input, (s, { runId, imageId, reason }) =>
  s.detections.requestReview(runId, imageId, reason),
);
