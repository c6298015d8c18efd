import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateModelCommand,
  DescribeModelCommand,
  StartModelCommand,
  StopModelCommand,
  type LookoutVisionClient,
  type ModelDescription,
  type ModelStatus,
} from '@aws-sdk/client-lookoutvision';
import { toAwsError } from '../aws-errors';
import { LOOKOUT_DEPRECATION_NOTICE } from '../detectors/lookout.driver';
import { DetectorError, TransientDetectorError } from '../detectors/detector.port';
import {
  type ExternalDeployer,
  type ExternalModel,
  type ExternalTrainer,
  type TrainingRequest,
  type TrainingStatus,
} from './model-trainer.port';

// Lookout for Vision trains on the project's own train and test datasets, which vigil's
// LookoutDatasetSink keeps current with UpdateDatasetEntries. The manifest URIs of a
// TrainingRequest are therefore informational here; only SageMaker reads them.
// API reference: https://docs.aws.amazon.com/lookout-for-vision/latest/APIReference/

/** States of a model version that trained well; hosting states only happen after training. */
const TRAINED_STATES = new Set<ModelStatus>([
  'TRAINED',
  'HOSTED',
  'STARTING_HOSTING',
  'HOSTING_FAILED',
  'STOPPING_HOSTING',
  'SYSTEM_UPDATING',
]);

/** States that end a deploy: the version cannot be hosted as it is. */
const UNHOSTABLE_STATES = new Set<ModelStatus>(['TRAINING', 'TRAINING_FAILED', 'DELETING']);

export interface LookoutTrainerOptions {
  projectName: string;
  /** s3://bucket/prefix where Lookout writes training results (LOOKOUT_OUTPUT_S3_URI). */
  outputS3Uri: string;
}

export interface LookoutDeployerOptions {
  projectName: string;
  minInferenceUnits: number;
  /** Upper bound for auto-scaling; null: Lookout does not scale. */
  maxInferenceUnits: number | null;
  /** Wait between DescribeModel calls while the target starts; default 30 s. */
  pollIntervalMs?: number;
  /** Give up waiting (as a retryable error) after this long; default 10 min. */
  timeoutMs?: number;
}

/** The Lookout project name cannot contain ':', so "project:version" splits unambiguously. */
export function lookoutExternalId(projectName: string, modelVersion: string): string {
  return `${projectName}:${modelVersion}`;
}

function parseExternalId(externalId: string): { projectName: string; modelVersion: string } {
  const match = /^([a-zA-Z0-9][a-zA-Z0-9_-]*):([1-9][0-9]*)$/.exec(externalId);
  if (!match) throw new Error(`not a Lookout for Vision training id (project:version): ${JSON.stringify(externalId)}`);
  return { projectName: match[1], modelVersion: match[2] };
}

/** ClientToken for CreateModel: 1–64 characters of [a-zA-Z0-9-], the same for every retry of one version. */
export function lookoutClientToken(modelVersionId: string): string {
  if (/^[a-zA-Z0-9-]{1,58}$/.test(modelVersionId)) return `vigil-${modelVersionId}`;
  return `vigil-${createHash('sha256').update(modelVersionId).digest('hex').slice(0, 58)}`;
}

function parseS3Uri(uri: string): { Bucket: string; Prefix?: string } {
  const match = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!match) throw new Error(`expected s3://bucket/prefix, got ${JSON.stringify(uri)}`);
  return match[2] ? { Bucket: match[1], Prefix: match[2] } : { Bucket: match[1] };
}

function errorName(err: unknown): string | undefined {
  return (err as { name?: string } | null)?.name;
}

/** Runs one Lookout call; a failure no retry fixes gets `fix` appended, saying what to check. */
async function call<T>(action: string, send: () => Promise<T>, fix?: string): Promise<T> {
  try {
    return await send();
  } catch (err) {
    const mapped = toAwsError(err, action);
    throw mapped instanceof TransientDetectorError || !fix ? mapped : new DetectorError(`${mapped.message}. ${fix}`, { cause: err });
  }
}

function describe(client: LookoutVisionClient, projectName: string, modelVersion: string): Promise<ModelDescription | null> {
  return call('lookoutvision:DescribeModel', async () => {
    try {
      const response = await client.send(new DescribeModelCommand({ ProjectName: projectName, ModelVersion: modelVersion }));
      return response.ModelDescription ?? null;
    } catch (err) {
      if (errorName(err) === 'ResourceNotFoundException') return null;
      throw err;
    }
  });
}

/** Trains a new model version in a Lookout for Vision project. */
export class LookoutTrainer implements ExternalTrainer {
  static readonly deprecationNotice = LOOKOUT_DEPRECATION_NOTICE;
  readonly kind = 'lookout-for-vision' as const;

  constructor(
    private readonly client: LookoutVisionClient,
    private readonly options: LookoutTrainerOptions,
  ) {}

  async start(request: TrainingRequest): Promise<{ externalId: string }> {
    const response = await call(
      'lookoutvision:CreateModel',
      () =>
        this.client.send(
          new CreateModelCommand({
            ProjectName: this.options.projectName,
            // Same token, same model: a retried step within AWS's 8-hour token window starts training once.
            ClientToken: lookoutClientToken(request.modelVersionId),
            Description: `vigil model version ${request.modelVersionId} (${request.deviceType})`.slice(0, 500),
            OutputConfig: { S3Location: parseS3Uri(this.options.outputS3Uri) },
            Tags: [{ Key: 'vigil:model-version-id', Value: request.modelVersionId }],
          }),
        ),
      `Check LOOKOUT_PROJECT_NAME (${this.options.projectName}: it needs train and test datasets with labeled images) and LOOKOUT_OUTPUT_S3_URI (${this.options.outputS3Uri})`,
    );
    const version = response.ModelMetadata?.ModelVersion;
    if (!version) throw new DetectorError('Lookout for Vision CreateModel answered without ModelMetadata.ModelVersion');
    return { externalId: lookoutExternalId(this.options.projectName, version) };
  }

  async status(externalId: string): Promise<TrainingStatus> {
    const { projectName, modelVersion } = parseExternalId(externalId);
    const model = await describe(this.client, projectName, modelVersion);
    if (!model) {
      return {
        state: 'FAILED',
        error: 'LookoutVision.NotFound',
        cause: `model version ${modelVersion} of project ${projectName} does not exist (deleted?)`,
      };
    }
    const status = model.Status;
    if (status === 'TRAINING') return { state: 'RUNNING', message: model.StatusMessage ?? null };
    if (status && TRAINED_STATES.has(status)) {
      const performance = model.Performance ?? {};
      return {
        state: 'SUCCEEDED',
        externalVersion: model.ModelVersion ?? modelVersion,
        artifactUri: null,
        // Lookout reports precision, recall and F1 on the project's test dataset, no AUROC.
        metrics: {
          precision: performance.Precision ?? null,
          recall: performance.Recall ?? null,
          f1: performance.F1Score ?? null,
          auroc: null,
        },
      };
    }
    if (status === 'TRAINING_FAILED') {
      return { state: 'FAILED', error: 'LookoutVision.TRAINING_FAILED', cause: model.StatusMessage ?? 'Lookout for Vision gave no reason' };
    }
    return {
      state: 'FAILED',
      error: `LookoutVision.${status ?? 'UNKNOWN'}`,
      cause: `model version ${modelVersion} of project ${projectName} is ${status ?? 'in no known state'}${model.StatusMessage ? `: ${model.StatusMessage}` : ''}`,
    };
  }
}

/** Hosts a trained version for DetectAnomalies and stops the one it replaces once the new one is hosted. */
export class LookoutDeployer implements ExternalDeployer {
  readonly kind = 'lookout-for-vision' as const;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: LookoutVisionClient,
    private readonly options: LookoutDeployerOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
  }

  async deploy(target: ExternalModel, previous: ExternalModel | null): Promise<void> {
    const version = target.externalVersion;
    // A version still stopping (or being updated by AWS) cannot start yet; wait until it settles.
    let model = await this.waitWhile(version, (s) => s === 'STOPPING_HOSTING' || s === 'SYSTEM_UPDATING');
    const status = model.Status;
    if (status && UNHOSTABLE_STATES.has(status)) {
      throw new DetectorError(
        `cannot host Lookout for Vision model version ${version} of project ${this.options.projectName}: it is ${status}`,
      );
    }
    if (status !== 'HOSTED' && status !== 'STARTING_HOSTING') {
      await call(
        'lookoutvision:StartModel',
        () =>
          this.client.send(
            new StartModelCommand({
              ProjectName: this.options.projectName,
              ModelVersion: version,
              MinInferenceUnits: this.options.minInferenceUnits,
              ...(this.options.maxInferenceUnits !== null ? { MaxInferenceUnits: this.options.maxInferenceUnits } : {}),
              // Fresh per call, not derived: a token reused within 8 hours would turn a later
              // re-deploy of this version (a rollback) into a no-op. Retries are safe anyway: they
              // find the version STARTING_HOSTING or HOSTED above and do not start it again.
              ClientToken: randomUUID(),
            }),
          ),
        `Check LOOKOUT_MIN_INFERENCE_UNITS / LOOKOUT_MAX_INFERENCE_UNITS and the account's inference unit quota`,
      );
    }
    if (status !== 'HOSTED') {
      model = await this.waitWhile(version, (s) => s !== 'HOSTED' && s !== 'HOSTING_FAILED' && !(s && UNHOSTABLE_STATES.has(s)));
      if (model.Status !== 'HOSTED') {
        const serving = previous ? `; version ${previous.externalVersion} keeps serving` : '';
        throw new DetectorError(
          `Lookout for Vision could not host model version ${version} of project ${this.options.projectName} (${model.Status}): ${model.StatusMessage ?? 'no reason given'}${serving}`,
        );
      }
    }
    if (previous && previous.externalVersion !== version) await this.retire(previous.externalVersion);
  }

  private async retire(version: string): Promise<void> {
    const model = await describe(this.client, this.options.projectName, version);
    // Stopping is only possible (and only needed) for a hosted version; a retry finds it stopping or stopped.
    if (model?.Status !== 'HOSTED') return;
    await call('lookoutvision:StopModel', () =>
      this.client.send(new StopModelCommand({ ProjectName: this.options.projectName, ModelVersion: version })),
    );
  }

  /** Describes the version until `waiting` is false for its status; a timeout is retryable: the next attempt waits on. */
  private async waitWhile(version: string, waiting: (status: ModelStatus | undefined) => boolean): Promise<ModelDescription> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const model = await describe(this.client, this.options.projectName, version);
      if (!model)
        throw new DetectorError(`Lookout for Vision model version ${version} of project ${this.options.projectName} does not exist`);
      if (!waiting(model.Status)) return model;
      if (Date.now() >= deadline) {
        throw new TransientDetectorError(
          `Lookout for Vision model version ${version} is still ${model.Status} after ${this.timeoutMs / 1000} s`,
        );
      }
      await sleep(this.pollIntervalMs);
    }
  }
}
