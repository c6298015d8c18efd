// The deployment's choices, read from CDK context (`-c name=value` or cdk.json) and checked before anything is built.

export type ScreenDetector = 'builtin' | 'rekognition-labels' | 'rekognition-custom-labels';
export type InspectDetector = 'builtin' | 'sagemaker' | 'lookout-for-vision';

export interface VigilSettings {
  screen: { kind: 'builtin' | 'rekognition-labels' } | { kind: 'rekognition-custom-labels'; projectVersionArn: string };
  inspect:
    | { kind: 'builtin' }
    | { kind: 'sagemaker'; endpointName: string; training: { trainingImage: string; inferenceImage: string } | null }
    | { kind: 'lookout-for-vision'; projectName: string; modelVersion: string };
  /** Stage 2 of every run as a SageMaker Batch Transform job of this model (INSPECT_MODE=batch: no endpoint sits idle). */
  batch: { modelName: string; instanceType: string } | null;
  humanReview: { kind: 'builtin' } | { kind: 'a2i'; workteamArn: string };
  /** Origins allowed to PUT presigned uploads from a browser. */
  corsOrigins: string[];
  /** HTTPS on the load balancer when given; plain HTTP otherwise. */
  certificateArn: string | null;
  /** What clients reach vigil at (PUBLIC_URL), e.g. the DNS name of the certificate; the load balancer's address otherwise. */
  publicUrl: string | null;
  alarmEmail: string | null;
  api: { minTasks: number; maxTasks: number };
  /** The VPC's zones; default: the region's `a` and `b`. */
  availabilityZones: string[] | null;
}

/** Every problem found, each naming the context value it is about. */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`vigil infra: bad context values:\n- ${problems.join('\n- ')}`);
    this.name = 'SettingsError';
  }
}

type Lookup = (name: string) => unknown;

const SAGEMAKER_NAME = /^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$/;

function oneOf<T extends string>(get: Lookup, name: string, values: readonly T[], problems: string[]): T {
  const raw = get(name);
  if (raw === undefined) return values[0];
  if (typeof raw === 'string' && (values as readonly string[]).includes(raw)) return raw as T;
  problems.push(`${name}=${JSON.stringify(raw)}: expected one of ${values.join(', ')}`);
  return values[0];
}

function text(get: Lookup, name: string, pattern: RegExp, expected: string, problems: string[]): string | null {
  const raw = get(name);
  if (raw === undefined || raw === '') return null;
  if (typeof raw === 'string' && pattern.test(raw)) return raw;
  problems.push(`${name}=${JSON.stringify(raw)}: expected ${expected}`);
  return null;
}

function flag(get: Lookup, name: string, problems: string[]): boolean {
  const raw = get(name);
  if (raw === undefined || raw === false || raw === 'false') return false;
  if (raw === true || raw === 'true') return true;
  problems.push(`${name}=${JSON.stringify(raw)}: expected true or false`);
  return false;
}

function count(get: Lookup, name: string, fallback: number, problems: string[]): number {
  const raw = get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (Number.isInteger(n) && n >= 1 && n <= 100) return n;
  problems.push(`${name}=${JSON.stringify(raw)}: expected a whole number from 1 to 100`);
  return fallback;
}

/** A value that only makes sense with another choice is refused when that choice is not made. */
function onlyWith(get: Lookup, name: string, chosen: boolean, choice: string, problems: string[]) {
  if (!chosen && get(name) !== undefined) problems.push(`${name} is set but ${choice} is not: remove ${name} or set ${choice}`);
}

function required<T>(value: T | null, name: string, why: string, problems: string[]): T {
  if (value === null) problems.push(`${why} needs ${name}`);
  return value as T;
}

function screenSettings(get: Lookup, problems: string[]): VigilSettings['screen'] {
  const kind = oneOf<ScreenDetector>(get, 'screenDetector', ['builtin', 'rekognition-labels', 'rekognition-custom-labels'], problems);
  const arn = text(
    get,
    'rekognitionProjectVersionArn',
    /^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{12}:project\/.+\/version\/.+/,
    'a Rekognition Custom Labels project version ARN',
    problems,
  );
  onlyWith(get, 'rekognitionProjectVersionArn', kind === 'rekognition-custom-labels', 'screenDetector=rekognition-custom-labels', problems);
  if (kind !== 'rekognition-custom-labels') return { kind };
  return { kind, projectVersionArn: required(arn, 'rekognitionProjectVersionArn', 'screenDetector=rekognition-custom-labels', problems) };
}

function inspectSettings(get: Lookup, problems: string[]): VigilSettings['inspect'] {
  const kind = oneOf<InspectDetector>(get, 'inspectDetector', ['builtin', 'sagemaker', 'lookout-for-vision'], problems);
  const endpoint = text(get, 'sagemakerEndpointName', SAGEMAKER_NAME, 'a SageMaker endpoint name', problems);
  const ecrImage = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/.+/;
  const trainingImage = text(get, 'sagemakerTrainingImage', ecrImage, 'an ECR image URI', problems);
  const inferenceImage = text(get, 'sagemakerInferenceImage', ecrImage, 'an ECR image URI', problems);
  const project = text(get, 'lookoutProjectName', /^[a-zA-Z0-9][a-zA-Z0-9_-]{0,254}$/, 'a Lookout for Vision project name', problems);
  const version = text(get, 'lookoutModelVersion', /^[1-9][0-9]*$/, 'a model version number', problems);
  for (const name of ['sagemakerEndpointName', 'sagemakerTrainingImage', 'sagemakerInferenceImage'])
    onlyWith(get, name, kind === 'sagemaker', 'inspectDetector=sagemaker', problems);
  for (const name of ['lookoutProjectName', 'lookoutModelVersion'])
    onlyWith(get, name, kind === 'lookout-for-vision', 'inspectDetector=lookout-for-vision', problems);
  if (kind === 'sagemaker') {
    const endpointName = required(endpoint, 'sagemakerEndpointName', 'inspectDetector=sagemaker', problems);
    if (inferenceImage && !trainingImage) problems.push('sagemakerInferenceImage needs sagemakerTrainingImage (training in SageMaker)');
    const training = trainingImage ? { trainingImage, inferenceImage: inferenceImage ?? trainingImage } : null;
    return { kind, endpointName, training };
  }
  if (kind === 'lookout-for-vision') {
    const why = 'inspectDetector=lookout-for-vision';
    return {
      kind,
      projectName: required(project, 'lookoutProjectName', why, problems),
      modelVersion: required(version, 'lookoutModelVersion', why, problems),
    };
  }
  return { kind };
}

function batchSettings(get: Lookup, problems: string[]): VigilSettings['batch'] {
  const enabled = flag(get, 'batchStage2', problems);
  const model = text(get, 'batchModelName', SAGEMAKER_NAME, 'a SageMaker model name', problems);
  const instanceType = text(
    get,
    'batchInstanceType',
    /^ml\.[a-z0-9]+\.[a-z0-9]+$/,
    'a SageMaker instance type such as ml.m5.xlarge',
    problems,
  );
  onlyWith(get, 'batchModelName', enabled, 'batchStage2=true', problems);
  onlyWith(get, 'batchInstanceType', enabled, 'batchStage2=true', problems);
  if (!enabled) return null;
  return { modelName: required(model, 'batchModelName', 'batchStage2=true', problems), instanceType: instanceType ?? 'ml.m5.xlarge' };
}

function reviewSettings(get: Lookup, problems: string[]): VigilSettings['humanReview'] {
  const kind = oneOf(get, 'humanReview', ['builtin', 'a2i'] as const, problems);
  const workteam = text(
    get,
    'a2iWorkteamArn',
    /^arn:aws[a-z-]*:sagemaker:[a-z0-9-]+:(\d{12}|aws-marketplace|394669845002):workteam\/.+/,
    'a SageMaker workteam ARN',
    problems,
  );
  onlyWith(get, 'a2iWorkteamArn', kind === 'a2i', 'humanReview=a2i', problems);
  if (kind === 'builtin') return { kind };
  return { kind, workteamArn: required(workteam, 'a2iWorkteamArn', 'humanReview=a2i (the A2I workforce)', problems) };
}

function zones(get: Lookup, problems: string[]): string[] | null {
  const raw = text(
    get,
    'availabilityZones',
    /^[a-z0-9-]+[a-z](,[a-z0-9-]+[a-z])+$/,
    'two or more comma-separated zones, e.g. eu-west-1a,eu-west-1b',
    problems,
  );
  return raw ? raw.split(',') : null;
}

/** Reads and checks every setting; throws one SettingsError listing every problem. */
export function readSettings(get: Lookup): VigilSettings {
  const problems: string[] = [];
  const origins = get('corsOrigins');
  const settings: VigilSettings = {
    screen: screenSettings(get, problems),
    inspect: inspectSettings(get, problems),
    batch: batchSettings(get, problems),
    humanReview: reviewSettings(get, problems),
    corsOrigins:
      typeof origins === 'string'
        ? origins
            .split(',')
            .map((o) => o.trim())
            .filter(Boolean)
        : ['*'],
    certificateArn: text(
      get,
      'certificateArn',
      /^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate\/.+/,
      'an ACM certificate ARN',
      problems,
    ),
    publicUrl: text(get, 'publicUrl', /^https?:\/\/[^/\s]+\/?$/, 'an http(s):// URL without a path', problems),
    alarmEmail: text(get, 'alarmEmail', /^[^@\s]+@[^@\s]+$/, 'an email address', problems),
    api: { minTasks: count(get, 'apiMinTasks', 2, problems), maxTasks: count(get, 'apiMaxTasks', 6, problems) },
    availabilityZones: zones(get, problems),
  };
  if (settings.api.maxTasks < settings.api.minTasks)
    problems.push(`apiMaxTasks=${settings.api.maxTasks} is below apiMinTasks=${settings.api.minTasks}`);
  if (problems.length) throw new SettingsError(problems);
  return settings;
}
