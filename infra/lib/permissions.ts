import { ArnFormat, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import { type Capability, type HandlerSpec, PREFIX, type Prefix } from './handlers';
import { type VigilSettings } from './settings';
import { executionsArn, stateMachineName } from './state-machines';

// Least privilege per function: the exact actions each adapter sends (src/adapters/*), on the
// resources the settings name. Rekognition's DetectLabels is the one action without resource-level permissions.

export interface PermissionContext {
  stack: Stack;
  bucket: IBucket;
  settings: VigilSettings;
  /** The A2I flow definition, when humanReview=a2i. */
  flowDefinitionArn: string | null;
  /** The role SageMaker assumes for training and hosting, when vigil trains in SageMaker. */
  sagemakerRole: iam.IRole | null;
  /** The state machines with a Distributed Map: an ended map's runs are settled by listing its children. */
  mapWorkflows: string[];
}

const statement = (actions: string[], resources: string[], conditions?: Record<string, unknown>) =>
  new iam.PolicyStatement({ actions, resources, conditions });

export const objectsUnder = (bucket: IBucket, prefixes: Prefix[]) => prefixes.map((p) => bucket.arnForObjects(`${PREFIX[p]}*`));

/** SageMaker ARNs carry resource names in lower case. */
function sagemakerArn(stack: Stack, resource: string, name: string) {
  return stack.formatArn({ service: 'sagemaker', resource, resourceName: name.toLowerCase() });
}

function lookoutArn(stack: Stack, resource: string, name: string) {
  return stack.formatArn({ service: 'lookoutvision', resource, resourceName: name, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
}

function passRole(role: iam.IRole) {
  return statement(['iam:PassRole'], [role.roleArn], { StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' } });
}

function screen({ settings }: PermissionContext): iam.PolicyStatement[] {
  const s = settings.screen;
  if (s.kind === 'rekognition-labels') return [statement(['rekognition:DetectLabels'], ['*'])];
  if (s.kind === 'rekognition-custom-labels') return [statement(['rekognition:DetectCustomLabels'], [s.projectVersionArn])];
  return [];
}

function inspect({ stack, settings }: PermissionContext): iam.PolicyStatement[] {
  const i = settings.inspect;
  if (i.kind === 'sagemaker') return [statement(['sagemaker:InvokeEndpoint'], [sagemakerArn(stack, 'endpoint', i.endpointName)])];
  if (i.kind === 'lookout-for-vision')
    return [statement(['lookoutvision:DetectAnomalies'], [lookoutArn(stack, 'model', `${i.projectName}/${i.modelVersion}`)])];
  return [];
}

function startTraining({ stack, settings, sagemakerRole }: PermissionContext): iam.PolicyStatement[] {
  const i = settings.inspect;
  if (i.kind === 'sagemaker' && i.training && sagemakerRole) {
    const jobs = sagemakerArn(stack, 'training-job', 'vigil-*');
    return [statement(['sagemaker:CreateTrainingJob', 'sagemaker:AddTags'], [jobs]), passRole(sagemakerRole)];
  }
  if (i.kind === 'lookout-for-vision') {
    const models = lookoutArn(stack, 'model', `${i.projectName}/*`);
    return [statement(['lookoutvision:CreateModel', 'lookoutvision:TagResource'], [models, lookoutArn(stack, 'project', i.projectName)])];
  }
  return [];
}

function trainingStatus({ stack, settings, sagemakerRole }: PermissionContext): iam.PolicyStatement[] {
  const i = settings.inspect;
  if (i.kind === 'sagemaker' && i.training && sagemakerRole)
    return [statement(['sagemaker:DescribeTrainingJob'], [sagemakerArn(stack, 'training-job', 'vigil-*')])];
  if (i.kind === 'lookout-for-vision')
    return [statement(['lookoutvision:DescribeModel'], [lookoutArn(stack, 'model', `${i.projectName}/*`)])];
  return [];
}

function deploy({ stack, settings, sagemakerRole }: PermissionContext): iam.PolicyStatement[] {
  const i = settings.inspect;
  if (i.kind === 'sagemaker' && i.training && sagemakerRole) {
    const configs = sagemakerArn(stack, 'endpoint-config', 'vigil-*');
    return [
      statement(['sagemaker:CreateModel', 'sagemaker:AddTags'], [sagemakerArn(stack, 'model', 'vigil-*'), configs]),
      statement(['sagemaker:CreateEndpointConfig'], [configs]),
      statement(
        ['sagemaker:CreateEndpoint', 'sagemaker:UpdateEndpoint', 'sagemaker:DescribeEndpoint'],
        [sagemakerArn(stack, 'endpoint', i.endpointName), configs],
      ),
      passRole(sagemakerRole),
    ];
  }
  if (i.kind === 'lookout-for-vision')
    return [
      statement(
        ['lookoutvision:StartModel', 'lookoutvision:StopModel', 'lookoutvision:DescribeModel'],
        [lookoutArn(stack, 'model', `${i.projectName}/*`)],
      ),
    ];
  return [];
}

function datasetSink({ stack, settings }: PermissionContext): iam.PolicyStatement[] {
  const i = settings.inspect;
  if (i.kind !== 'lookout-for-vision') return [];
  return [statement(['lookoutvision:UpdateDatasetEntries'], [lookoutArn(stack, 'dataset', `${i.projectName}/*`)])];
}

function humanLoop({ flowDefinitionArn }: PermissionContext): iam.PolicyStatement[] {
  return flowDefinitionArn ? [statement(['sagemaker:StartHumanLoop'], [flowDefinitionArn])] : [];
}

/** `arn:…:<resource>:<machine>/*`: a Distributed Map's Map Runs (mapRun) or child executions (execution). */
const childrenArn = (stack: Stack, resource: 'mapRun' | 'execution', workflow: string) =>
  stack.formatArn({
    service: 'states',
    resource,
    resourceName: `${stateMachineName(stack, workflow)}/*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/**
 * Listing an ended Distributed Map's Map Runs and their child executions, and describing those, on vigil's machines
 * with such a map only: each run the map left open is settled by its own child (src/workflows/survey-children.ts).
 */
export function mapChildren({ stack, mapWorkflows }: PermissionContext): iam.PolicyStatement[] {
  if (mapWorkflows.length === 0) return [];
  return [
    statement(
      ['states:ListMapRuns'],
      mapWorkflows.map((w) => executionsArn(stack, w)),
    ),
    statement(
      ['states:ListExecutions'],
      mapWorkflows.map((w) => childrenArn(stack, 'mapRun', w)),
    ),
    statement(
      ['states:DescribeExecution'],
      mapWorkflows.map((w) => childrenArn(stack, 'execution', w)),
    ),
  ];
}

const CAPABILITIES: Record<Capability, (c: PermissionContext) => iam.PolicyStatement[]> = {
  screen,
  mapChildren,
  inspect,
  humanLoop,
  startTraining,
  trainingStatus,
  deploy,
  datasetSink,
};

/** The statements of one handler: S3 by prefix, then each outside service it calls under the current settings. */
export function handlerStatements(spec: HandlerSpec, context: PermissionContext): iam.PolicyStatement[] {
  const { bucket } = context;
  const s3: iam.PolicyStatement[] = [];
  if (spec.read?.length) s3.push(statement(['s3:GetObject'], objectsUnder(bucket, spec.read)));
  if (spec.write?.length) s3.push(statement(['s3:PutObject'], objectsUnder(bucket, spec.write)));
  if (spec.remove?.length) s3.push(statement(['s3:DeleteObject'], objectsUnder(bucket, spec.remove)));
  return [...s3, ...(spec.calls ?? []).flatMap((c) => CAPABILITIES[c](context))];
}
