// Every AWS Lambda entry point of vigil, for CloudFormation/CDK handler strings such as
// `dist/src/app/lambda.screenImage`. A container opens the services once, from the environment,
// and never migrates: migrations run from `vigil migrate` (or the server start) before deploying.
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '../config/config';
import { createExecutionStatusChangeHandler } from '../workflows/eventbridge/execution-status-change';
import { createHumanLoopStatusChangeHandler } from '../workflows/eventbridge/human-loop-status-change';
import { type WorkflowStep, WORKFLOW_STEPS } from '../workflows/steps';
import { openServices, type OpenedServices } from './app';
import { runReconciler, startWorkflowEngine } from './workflows';

let opened: Promise<OpenedServices> | undefined;

/**
 * The services from the environment. With WORKFLOW_ENGINE=stepfunctions they get the Step Functions engine: when a
 * survey's map ends, executionStatusChange settles the runs it left open by listing the map's own children. It polls
 * nothing here (EventBridge reports every end); a follow-up run a step starts goes to it as from the API.
 */
async function openFromEnvironment(): Promise<OpenedServices> {
  const config = loadConfig();
  const services = await openServices(config, { migrations: 'verify', eventBus: 'configured' });
  if (config.workflows.engine === 'stepfunctions') {
    const stepFunctions = { ...config.workflows.stepFunctions, pollIntervalMs: 0 };
    startWorkflowEngine({ ...config, workflows: { ...config.workflows, stepFunctions } }, services.services, services.log);
  }
  return services;
}

/** The services of this container: opened on the first event, reused by later ones; a failed open is retried next time. */
export function containerServices(open: () => Promise<OpenedServices> = openFromEnvironment) {
  opened ??= open().catch((err: unknown) => {
    opened = undefined;
    throw err;
  });
  return opened;
}

/** Releases this container's services (a SIGTERM hook, and tests); the next event opens them again. */
export async function closeContainerServices(): Promise<void> {
  const current = opened;
  opened = undefined;
  if (current) await (await current.catch(() => null))?.close();
}

const lambdaFor =
  <O>(step: WorkflowStep<O>) =>
  async (event: unknown): Promise<O> =>
    step.run((await containerServices()).services, event);

export const beginRun = lambdaFor(WORKFLOW_STEPS.beginRun);
export const preprocessImage = lambdaFor(WORKFLOW_STEPS.preprocessImage);
export const screenImage = lambdaFor(WORKFLOW_STEPS.screenImage);
export const inspectImage = lambdaFor(WORKFLOW_STEPS.inspectImage);
export const prepareBatch = lambdaFor(WORKFLOW_STEPS.prepareBatch);
export const recordBatchResult = lambdaFor(WORKFLOW_STEPS.recordBatchResult);
export const recordAnomalies = lambdaFor(WORKFLOW_STEPS.recordAnomalies);
export const requestReview = lambdaFor(WORKFLOW_STEPS.requestReview);
export const finishRun = lambdaFor(WORKFLOW_STEPS.finishRun);
export const markFailed = lambdaFor(WORKFLOW_STEPS.markFailed);
export const beginTraining = lambdaFor(WORKFLOW_STEPS.beginTraining);
export const startTraining = lambdaFor(WORKFLOW_STEPS.startTraining);
export const checkTraining = lambdaFor(WORKFLOW_STEPS.checkTraining);
export const evaluateModel = lambdaFor(WORKFLOW_STEPS.evaluateModel);
export const finishTraining = lambdaFor(WORKFLOW_STEPS.finishTraining);
export const markTrainingFailed = lambdaFor(WORKFLOW_STEPS.markTrainingFailed);

/** EventBridge "Step Functions Execution Status Change": the run or training that execution belongs to is brought up to date. */
export const executionStatusChange = createExecutionStatusChangeHandler(async () => runReconciler((await containerServices()).services));

let s3: S3Client | undefined;
const s3Client = () => {
  if (!s3) s3 = new S3Client({});
  return s3;
};
/** EventBridge "SageMaker A2I HumanLoop Status Change": a finished loop's answers reach the review task. */
export const humanLoopStatusChange = createHumanLoopStatusChangeHandler(async () => ({
  s3: s3Client(),
  outcomes: (await containerServices()).services.reviewLifecycle,
}));
