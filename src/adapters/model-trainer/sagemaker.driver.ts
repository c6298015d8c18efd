import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateEndpointCommand,
  CreateEndpointConfigCommand,
  CreateModelCommand,
  CreateTrainingJobCommand,
  DescribeEndpointCommand,
  DescribeTrainingJobCommand,
  type DescribeTrainingJobCommandOutput,
  UpdateEndpointCommand,
  type Channel,
  type DescribeEndpointOutput,
  type MetricData,
  type MetricDefinition,
  type ProductionVariantInstanceType,
  type SageMakerClient,
  type TrainingInstanceType,
} from '@aws-sdk/client-sagemaker';
import { toAwsError } from '../aws-errors';
import { DetectorError, TransientDetectorError } from '../detectors/detector.port';
import {
  type ExternalDeployer,
  type ExternalModel,
  type ExternalTrainer,
  type ServiceMetrics,
  type TrainingRequest,
  type TrainingStatus,
} from './model-trainer.port';

// Training jobs read vigil's train/test manifests (Lookout / Ground Truth JSON Lines) as augmented
// manifests in Pipe mode: each record is the image at `source-ref` followed by its `anomaly-label`.
// The training container reports its test figures by printing lines such as "test:f1=0.91",
// which METRIC_DEFINITIONS turns into the job's FinalMetricDataList.
// API reference: https://docs.aws.amazon.com/sagemaker/latest/APIReference/

const NUMBER = '([-+]?[0-9]*\\.?[0-9]+(?:[eE][-+]?[0-9]+)?)';

/** Metric names the training container logs as "<name>=<number>", mapped to ServiceMetrics. */
const METRIC_NAMES: Record<keyof ServiceMetrics, string> = {
  precision: 'test:precision',
  recall: 'test:recall',
  f1: 'test:f1',
  auroc: 'test:auroc',
};

export const METRIC_DEFINITIONS: MetricDefinition[] = Object.values(METRIC_NAMES).map((name) => ({
  Name: name,
  Regex: `${name}=${NUMBER}`,
}));

/** Endpoint states that pass by themselves; an update has to wait for them. */
const ENDPOINT_BUSY = new Set(['Creating', 'Updating', 'SystemUpdating', 'RollingBack']);

export interface SageMakerTrainerOptions {
  trainingImage: string;
  roleArn: string;
  /** s3://bucket/prefix; SageMaker writes <prefix>/<job name>/output/model.tar.gz. */
  outputS3Uri: string;
  trainingInstanceType: string;
  maxTrainingSeconds: number;
}

export interface SageMakerDeployerOptions {
  inferenceImage: string;
  /** Role the model's container runs as (reads the model artifact from S3). */
  roleArn: string;
  endpointInstanceType: string;
  /** The endpoint the inspect detector invokes (SAGEMAKER_ENDPOINT_NAME). */
  endpointName: string;
  /** Wait until the endpoint serves the new model; default true. */
  waitForInService?: boolean;
  /** Wait between DescribeEndpoint calls; default 30 s. */
  pollIntervalMs?: number;
  /** Give up waiting (as a retryable error) after this long; default 10 min. */
  timeoutMs?: number;
}

const NAME_PATTERN = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

/**
 * Training job name for a vigil model version: "vigil-<id>" when the id fits SageMaker's name rules
 * as it is, otherwise a readable stem plus a hash of the id, so distinct ids never share a name.
 */
export function trainingJobName(modelVersionId: string): string {
  const readable = modelVersionId.replace(/[^a-zA-Z0-9]+/g, '-').replace(/^-+|-+$/g, '');
  const plain = `vigil-${readable}`;
  if (readable === modelVersionId && plain.length <= 63) return plain;
  const hash = createHash('sha256').update(modelVersionId).digest('hex').slice(0, 12);
  return `${plain.slice(0, 63 - hash.length - 1).replace(/-+$/, '')}-${hash}`;
}

function errorOf(err: unknown): { name?: string; message?: string } {
  return (err ?? {}) as { name?: string; message?: string };
}

/** Runs one SageMaker call; a failure no retry fixes gets `fix` appended, saying what to check. */
async function call<T>(action: string, send: () => Promise<T>, fix?: string): Promise<T> {
  try {
    return await send();
  } catch (err) {
    throw explain(err, action, fix);
  }
}

/** Maps a failed call as callAws does, with `fix` appended when no retry will help. */
function explain(err: unknown, action: string, fix?: string): Error {
  const mapped = toAwsError(err, action);
  return mapped instanceof TransientDetectorError || !fix ? mapped : new DetectorError(`${mapped.message}. ${fix}`, { cause: err });
}

function channel(name: 'train' | 'test', manifestUri: string): Channel {
  return {
    ChannelName: name,
    DataSource: {
      S3DataSource: {
        S3DataType: 'AugmentedManifestFile',
        S3Uri: manifestUri,
        S3DataDistributionType: 'FullyReplicated',
        AttributeNames: ['source-ref', 'anomaly-label'],
      },
    },
    InputMode: 'Pipe',
    RecordWrapperType: 'RecordIO',
    ContentType: 'application/x-recordio',
  };
}

function metricsFrom(list: MetricData[] | undefined): ServiceMetrics {
  const value = (name: string): number | null => {
    const found = list?.find((m) => m.MetricName === name)?.Value;
    return typeof found === 'number' && Number.isFinite(found) ? found : null;
  };
  return {
    precision: value(METRIC_NAMES.precision),
    recall: value(METRIC_NAMES.recall),
    f1: value(METRIC_NAMES.f1),
    auroc: value(METRIC_NAMES.auroc),
  };
}

/** Trains one model version as a SageMaker training job named after the vigil id. */
export class SageMakerTrainer implements ExternalTrainer {
  readonly kind = 'sagemaker' as const;

  constructor(
    private readonly client: SageMakerClient,
    private readonly options: SageMakerTrainerOptions,
  ) {}

  async start(request: TrainingRequest): Promise<{ externalId: string }> {
    const name = trainingJobName(request.modelVersionId);
    const o = this.options;
    try {
      await this.client.send(
        new CreateTrainingJobCommand({
          TrainingJobName: name,
          AlgorithmSpecification: { TrainingImage: o.trainingImage, TrainingInputMode: 'Pipe', MetricDefinitions: METRIC_DEFINITIONS },
          RoleArn: o.roleArn,
          InputDataConfig: [channel('train', request.trainManifestUri), channel('test', request.testManifestUri)],
          OutputDataConfig: { S3OutputPath: o.outputS3Uri },
          ResourceConfig: { InstanceType: o.trainingInstanceType as TrainingInstanceType, InstanceCount: 1, VolumeSizeInGB: 30 },
          StoppingCondition: { MaxRuntimeInSeconds: o.maxTrainingSeconds },
          // SageMaker takes hyperparameters as strings only.
          HyperParameters: Object.fromEntries(Object.entries(request.params).map(([k, v]) => [k, String(v)])),
          Tags: [{ Key: 'vigil:model-version-id', Value: request.modelVersionId }],
        }),
      );
    } catch (err) {
      // Job names are unique per account and region, and this one is vigil's: a retried step started it already.
      if (errorOf(err).name === 'ResourceInUse') return { externalId: name };
      throw explain(
        err,
        'sagemaker:CreateTrainingJob',
        'Check SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN (vigil needs iam:PassRole on it), SAGEMAKER_OUTPUT_S3_URI, SAGEMAKER_TRAINING_INSTANCE_TYPE (and its quota) and that the role can read the manifests',
      );
    }
    return { externalId: name };
  }

  async status(externalId: string): Promise<TrainingStatus> {
    let job: DescribeTrainingJobCommandOutput;
    try {
      job = await this.client.send(new DescribeTrainingJobCommand({ TrainingJobName: externalId }));
    } catch (err) {
      const { name, message } = errorOf(err);
      if (name === 'ResourceNotFound' || (name === 'ValidationException' && /not found/i.test(message ?? ''))) {
        return { state: 'FAILED', error: 'SageMaker.NotFound', cause: `training job ${externalId} does not exist` };
      }
      throw toAwsError(err, 'sagemaker:DescribeTrainingJob');
    }
    switch (job.TrainingJobStatus) {
      case 'InProgress':
      case 'Stopping':
        return { state: 'RUNNING', message: job.SecondaryStatus ?? null };
      case 'Completed':
        return {
          state: 'SUCCEEDED',
          externalVersion: job.TrainingJobName ?? externalId,
          artifactUri: job.ModelArtifacts?.S3ModelArtifacts ?? null,
          metrics: metricsFrom(job.FinalMetricDataList),
        };
      default:
        return {
          state: 'FAILED',
          error: `SageMaker.${job.TrainingJobStatus ?? 'Unknown'}`,
          cause:
            job.FailureReason ??
            `training job ${externalId} is ${job.TrainingJobStatus ?? 'in no known state'} (${job.SecondaryStatus ?? 'no detail'})`,
        };
    }
  }
}

/**
 * Points the inspect endpoint at a trained job's model. SageMaker keeps serving the old endpoint
 * config until the update completes and rolls back if it fails, which makes the swap atomic; the
 * previous model and config stay (they cost nothing) so a rollback is another deploy.
 */
export class SageMakerDeployer implements ExternalDeployer {
  readonly kind = 'sagemaker' as const;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;

  constructor(
    private readonly client: SageMakerClient,
    private readonly options: SageMakerDeployerOptions,
  ) {
    this.pollIntervalMs = options.pollIntervalMs ?? 30_000;
    this.timeoutMs = options.timeoutMs ?? 10 * 60_000;
  }

  async deploy(target: ExternalModel, _previous: ExternalModel | null): Promise<void> {
    if (!target.artifactUri) {
      throw new DetectorError(`cannot deploy SageMaker model ${target.externalVersion}: its training left no model artifact (artifactUri)`);
    }
    const o = this.options;
    // Model and endpoint config share the job's name (separate namespaces), so a retry finds them.
    const name = NAME_PATTERN.test(target.externalVersion) ? target.externalVersion : trainingJobName(target.externalVersion);
    await this.createOnce(
      'sagemaker:CreateModel',
      () =>
        this.client.send(
          new CreateModelCommand({
            ModelName: name,
            PrimaryContainer: { Image: o.inferenceImage, ModelDataUrl: target.artifactUri! },
            ExecutionRoleArn: o.roleArn,
            Tags: [{ Key: 'vigil:model-version-id', Value: target.modelVersionId }],
          }),
        ),
      'Check SAGEMAKER_INFERENCE_IMAGE and SAGEMAKER_ROLE_ARN (vigil needs iam:PassRole on it)',
    );
    await this.createOnce(
      'sagemaker:CreateEndpointConfig',
      () =>
        this.client.send(
          new CreateEndpointConfigCommand({
            EndpointConfigName: name,
            ProductionVariants: [
              {
                VariantName: 'AllTraffic',
                ModelName: name,
                InstanceType: o.endpointInstanceType as ProductionVariantInstanceType,
                InitialInstanceCount: 1,
              },
            ],
            Tags: [{ Key: 'vigil:model-version-id', Value: target.modelVersionId }],
          }),
        ),
      'Check SAGEMAKER_ENDPOINT_INSTANCE_TYPE and its quota',
    );

    const endpoint = await this.describeEndpoint();
    if (!endpoint) {
      // First deploy: the endpoint the detector invokes does not exist yet.
      await call('sagemaker:CreateEndpoint', () =>
        this.client.send(new CreateEndpointCommand({ EndpointName: o.endpointName, EndpointConfigName: name })),
      );
    } else if (endpoint.EndpointConfigName === name && endpoint.EndpointStatus === 'InService' && !endpoint.PendingDeploymentSummary) {
      return;
    } else if (
      endpoint.PendingDeploymentSummary?.EndpointConfigName === name ||
      (endpoint.EndpointConfigName === name && ENDPOINT_BUSY.has(endpoint.EndpointStatus ?? ''))
    ) {
      // An earlier attempt's update is under way; wait for it below.
    } else if (endpoint.EndpointStatus === 'InService') {
      await call(
        'sagemaker:UpdateEndpoint',
        () => this.client.send(new UpdateEndpointCommand({ EndpointName: o.endpointName, EndpointConfigName: name })),
        `Check SAGEMAKER_ENDPOINT_NAME (${o.endpointName})`,
      );
    } else if (ENDPOINT_BUSY.has(endpoint.EndpointStatus ?? '')) {
      throw new TransientDetectorError(
        `SageMaker endpoint ${o.endpointName} is ${endpoint.EndpointStatus}; it can take the new model once that ends`,
      );
    } else {
      throw new DetectorError(
        `SageMaker endpoint ${o.endpointName} is ${endpoint.EndpointStatus}${endpoint.FailureReason ? ` (${endpoint.FailureReason})` : ''}: repair or delete it, then deploy again`,
      );
    }
    if (o.waitForInService ?? true) await this.waitInService(name);
  }

  private async createOnce(action: string, send: () => Promise<unknown>, fix: string): Promise<void> {
    try {
      await send();
    } catch (err) {
      const { name, message } = errorOf(err);
      // A retried step finds what the first attempt created: "Cannot create already existing model …".
      if (name === 'ValidationException' && /already exist/i.test(message ?? '')) return;
      throw explain(err, action, fix);
    }
  }

  private async describeEndpoint(): Promise<DescribeEndpointOutput | null> {
    return call('sagemaker:DescribeEndpoint', async () => {
      try {
        return await this.client.send(new DescribeEndpointCommand({ EndpointName: this.options.endpointName }));
      } catch (err) {
        const { name, message } = errorOf(err);
        if (name === 'ValidationException' && /could not find endpoint/i.test(message ?? '')) return null;
        throw err;
      }
    });
  }

  /** Until the endpoint serves `configName`; a timeout is retryable: the next attempt waits on without updating again. */
  private async waitInService(configName: string): Promise<void> {
    const endpointName = this.options.endpointName;
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      const endpoint = await this.describeEndpoint();
      if (!endpoint) throw new DetectorError(`SageMaker endpoint ${endpointName} disappeared while taking ${configName}`);
      const status = endpoint.EndpointStatus ?? '';
      if (status === 'InService' && !endpoint.PendingDeploymentSummary) {
        if (endpoint.EndpointConfigName === configName) return;
        throw new DetectorError(
          `SageMaker endpoint ${endpointName} did not take ${configName} and kept serving ${endpoint.EndpointConfigName}: ${endpoint.FailureReason ?? 'no reason given'}`,
        );
      }
      if (!ENDPOINT_BUSY.has(status) && status !== 'InService') {
        throw new DetectorError(
          `SageMaker endpoint ${endpointName} is ${status} after taking ${configName}: ${endpoint.FailureReason ?? 'no reason given'}`,
        );
      }
      if (Date.now() >= deadline) {
        throw new TransientDetectorError(`SageMaker endpoint ${endpointName} is still ${status} after ${this.timeoutMs / 1000} s`);
      }
      await sleep(this.pollIntervalMs);
    }
  }
}
