// Every Lambda entry point of src/app/lambda.ts, with what each one calls outside the database.
// A workflow Task `${<Name>FunctionArn}` runs the handler named <Name> in camelCase (ScreenImage → screenImage).

/** Key prefixes of the bucket, as the services write them. */
export const PREFIX = {
  uploads: 'uploads/',
  derived: 'derived/',
  datasets: 'datasets/',
  models: 'models/',
  surveys: 'workflows/surveys/',
  a2i: 'a2i/',
  batch: 'batch/',
  datalake: 'datalake/',
} as const;

export type Prefix = keyof typeof PREFIX;

/** An outside service a handler calls; permissions.ts turns it into the exact actions of the configured detector or trainer. */
export type Capability = 'screen' | 'inspect' | 'humanLoop' | 'startTraining' | 'trainingStatus' | 'deploy' | 'datasetSink' | 'mapChildren';

export interface HandlerSpec {
  memoryMb: number;
  timeoutMinutes: number;
  read?: Prefix[];
  write?: Prefix[];
  remove?: Prefix[];
  calls?: Capability[];
}

const small = { memoryMb: 512, timeoutMinutes: 1 };
// Built-in models decode images and run a CNN in the function: more memory is also more CPU.
const imageWork = { memoryMb: 2048, timeoutMinutes: 5 };
// The built-in model trains and is evaluated inside the function, within Lambda's 15 minutes.
const training = { memoryMb: 4096, timeoutMinutes: 15 };

/** The workflow steps (src/workflows/steps), by the export name of src/app/lambda.ts. */
export const STEP_HANDLERS: Record<string, HandlerSpec> = {
  beginRun: small,
  preprocessImage: { ...imageWork, read: ['uploads'], write: ['derived'], remove: ['uploads'] },
  // Every step that judges or finishes a run may start a human loop (QA samples, active learning).
  screenImage: { ...imageWork, read: ['derived', 'models'], calls: ['screen', 'humanLoop'] },
  inspectImage: { ...imageWork, read: ['derived', 'models'], write: ['derived'], calls: ['inspect', 'humanLoop'] },
  // Batch stage 2: the run's ManifestFile under batch/, then each image's answers read back from the job's output there.
  prepareBatch: { ...small, read: ['batch'], write: ['batch'] },
  recordBatchResult: { ...small, timeoutMinutes: 2, read: ['derived', 'batch'], calls: ['humanLoop'] },
  recordAnomalies: { ...small, calls: ['humanLoop'] },
  requestReview: { ...small, calls: ['humanLoop'] },
  finishRun: { ...small, timeoutMinutes: 2, calls: ['humanLoop'] },
  markFailed: small,
  beginTraining: { ...training, read: ['derived', 'datasets'], write: ['datasets', 'models'], calls: ['datasetSink'] },
  startTraining: { ...training, read: ['derived', 'datasets', 'models'], write: ['models'], calls: ['startTraining'] },
  checkTraining: { ...small, calls: ['trainingStatus'] },
  evaluateModel: { ...training, read: ['derived', 'datasets', 'models'] },
  finishTraining: { ...small, timeoutMinutes: 15, read: ['models'], calls: ['deploy'] },
  markTrainingFailed: small,
};

/** The EventBridge handlers: invoked asynchronously, so each gets a dead-letter queue. */
export const EVENT_HANDLERS: Record<string, HandlerSpec> = {
  // An ended survey map's open runs are settled by their own child executions, listed through its Map Runs.
  executionStatusChange: { ...small, calls: ['mapChildren'] },
  // A finished loop's answers become dataset entries and manifests; a failed loop starts another.
  humanLoopStatusChange: {
    ...small,
    timeoutMinutes: 2,
    read: ['a2i', 'derived', 'datasets'],
    write: ['datasets'],
    calls: ['humanLoop', 'datasetSink'],
  },
};

export const ALL_HANDLERS: Record<string, HandlerSpec> = { ...STEP_HANDLERS, ...EVENT_HANDLERS };

/** `ScreenImage` → `screenImage`. */
export const handlerOfTask = (taskName: string) => taskName.charAt(0).toLowerCase() + taskName.slice(1);

/** The handler of a Lambda in its image (the function's ImageConfig.Command), relative to LAMBDA_TASK_ROOT. */
export const handlerPath = (handler: string) => `dist/src/app/lambda.${handler}`;
