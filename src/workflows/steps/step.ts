import { z } from 'zod';
import { type BatchInspectionService } from '../../detections/batch-inspection.service';
import { type DetectionService } from '../../detections/detection.service';
import { type ModelTrainingService } from '../../models/training.service';
import { type WorkflowRunService } from '../workflow-run.service';
import { isDatabaseUnavailable } from '../../db/unavailable';

/** A payload the state machine should never send: a bug in a definition, not a transient problem. */
export class StepInputError extends Error {
  constructor(step: string, problems: string) {
    super(`${step} received a bad payload: ${problems}`);
    this.name = 'Vigil.BadInput';
  }
}

/** The database could not be reached: the workflow's Retry on Vigil.TransientError runs the step again after a wait. */
export class DatabaseUnavailableError extends Error {
  constructor(step: string, cause: unknown) {
    super(`${step}: the database did not answer (${(cause as Error).message?.split('\n').filter(Boolean).pop() ?? cause}); retrying`, {
      cause,
    });
    this.name = 'Vigil.TransientError';
  }
}

/** The services a workflow step calls; the composition root (src/app) hands them over. */
export interface StepServices {
  detections: DetectionService;
  batchInspection: BatchInspectionService;
  workflowRuns: WorkflowRunService;
  modelTraining: ModelTrainingService;
}

/** One Task of the ASL files: the local engine runs it in-process, src/app/lambda.ts exports it as a Lambda. */
export interface WorkflowStep<O = unknown> {
  /** The Task's resource name in the ASL files: `${<name>FunctionArn}`. */
  readonly name: string;
  readonly input: z.ZodType;
  /** Checks the payload against `input`, then runs the step. */
  run(services: StepServices, payload: unknown): Promise<O>;
}

export function defineStep<S extends z.ZodType, O>(
  name: string,
  input: S,
  run: (services: StepServices, input: z.infer<S>) => Promise<O>,
): WorkflowStep<O> {
  return {
    name,
    input,
    run: (services, payload) => {
      const parsed = input.safeParse(payload);
      if (!parsed.success) {
        return Promise.reject(
          new StepInputError(name, parsed.error.issues.map((i) => `${i.path.join('.') || 'payload'}: ${i.message}`).join('; ')),
        );
      }
      return run(services, parsed.data).catch((err) => {
        throw isDatabaseUnavailable(err) ? new DatabaseUnavailableError(name, err) : err;
      });
    },
  };
}

export const ids = z.object({ runId: z.uuid(), imageId: z.uuid() });
export const runOnly = z.object({ runId: z.uuid() });
/** BeginRun's input: its run and the execution running it ($$.Execution.Id), which the run records. */
export const runStart = z.object({ runId: z.uuid(), executionId: z.string().min(1).max(500).optional() });
export const versionOnly = z.object({ modelVersionId: z.uuid() });
export const trainingFailure = z.object({ modelVersionId: z.uuid(), error: z.string(), cause: z.string() });
