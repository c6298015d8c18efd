import { z } from 'zod';
import { defineStep } from './step';

const input = z.object({ runId: z.uuid(), screened: z.array(z.object({ imageId: z.uuid(), route: z.string() })) });

/** PrepareBatch: the ManifestFile of the flagged pictures (written once) and the run's transform job, named after the run. */
export const prepareBatch = defineStep('PrepareBatch', input, (s, { runId, screened }) => s.batchInspection.prepare(runId, screened));
