import { type Config } from './config.types';

// What training and deploying in AWS need beyond what inference needs. A missing or conflicting
// setting never fails start-up (a cloud inspect detector serves without them): these checks say
// what is missing, and trainModel and deployModel report it.

/** The settings a step needs, or why it cannot run. */
export type Checked<T> = { ok: T } | { unavailable: string };

type SageMakerTraining = NonNullable<Config['models']['sagemaker']>;

export type TrainerSettings =
  | { kind: 'lookout-for-vision'; projectName: string; outputS3Uri: string }
  | { kind: 'sagemaker'; sagemaker: SageMakerTraining };

export type DeployerSettings =
  | { kind: 'lookout-for-vision'; projectName: string; minInferenceUnits: number; maxInferenceUnits: number | null }
  | { kind: 'sagemaker'; inferenceImage: string; roleArn: string; endpointInstanceType: string; endpointName: string };

/** Lookout trains on the datasets of one project and hosts the result in that same project. */
function lookoutProject(config: Config, projectName: string): Checked<string> {
  const datasets = config.datasets.lookoutProject;
  if (datasets && datasets !== projectName) {
    return {
      unavailable: `LOOKOUT_DATASET_PROJECT=${JSON.stringify(datasets)} and LOOKOUT_PROJECT_NAME=${JSON.stringify(projectName)}: Lookout for Vision trains on a project's own datasets and hosts the model in that project, so both must name the same project`,
    };
  }
  return { ok: projectName };
}

function sagemakerTraining(config: Config): Checked<SageMakerTraining> {
  if (!config.models.sagemaker) {
    return {
      unavailable:
        'INSPECT_DETECTOR=sagemaker trains and deploys models in SageMaker: set SAGEMAKER_TRAINING_IMAGE, SAGEMAKER_ROLE_ARN and SAGEMAKER_OUTPUT_S3_URI',
    };
  }
  return { ok: config.models.sagemaker };
}

const BATCH_TRAINING =
  'INSPECT_MODE=batch runs SAGEMAKER_BATCH_MODEL_NAME as it is: vigil neither trains nor deploys it (create a new model and set its name)';

/** What the configured inspect detector's trainer needs, or why it cannot train; null for the built-in detector. */
export function trainerSettings(config: Config): Checked<TrainerSettings> | null {
  const inspect = config.detectors.inspect;
  switch (inspect.kind) {
    case 'builtin':
      return null;
    case 'lookout-for-vision': {
      const project = lookoutProject(config, inspect.projectName);
      if ('unavailable' in project) return project;
      const outputS3Uri = config.models.lookout.outputS3Uri;
      if (!outputS3Uri)
        return {
          unavailable:
            'INSPECT_DETECTOR=lookout-for-vision trains models in Lookout for Vision: set LOOKOUT_OUTPUT_S3_URI (s3://bucket/prefix for training results)',
        };
      return { ok: { kind: 'lookout-for-vision', projectName: project.ok, outputS3Uri } };
    }
    case 'sagemaker-batch':
      return { unavailable: BATCH_TRAINING };
    case 'sagemaker': {
      const sagemaker = sagemakerTraining(config);
      return 'unavailable' in sagemaker ? sagemaker : { ok: { kind: 'sagemaker', sagemaker: sagemaker.ok } };
    }
  }
}

/** What the configured inspect detector's deployer needs, or why it cannot deploy; null for the built-in detector. */
export function deployerSettings(config: Config): Checked<DeployerSettings> | null {
  const inspect = config.detectors.inspect;
  switch (inspect.kind) {
    case 'builtin':
      return null;
    case 'lookout-for-vision': {
      const project = lookoutProject(config, inspect.projectName);
      if ('unavailable' in project) return project;
      const { minInferenceUnits, maxInferenceUnits } = config.models.lookout;
      return { ok: { kind: 'lookout-for-vision', projectName: project.ok, minInferenceUnits, maxInferenceUnits } };
    }
    case 'sagemaker-batch':
      return { unavailable: BATCH_TRAINING };
    case 'sagemaker': {
      const sagemaker = sagemakerTraining(config);
      if ('unavailable' in sagemaker) return sagemaker;
      const { inferenceImage, roleArn, endpointInstanceType } = sagemaker.ok;
      return { ok: { kind: 'sagemaker', inferenceImage, roleArn, endpointInstanceType, endpointName: inspect.endpointName } };
    }
  }
}
