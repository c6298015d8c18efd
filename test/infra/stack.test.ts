import fs from 'node:fs';
import path from 'node:path';
import { App, Stack, Validations } from 'aws-cdk-lib';
import { type Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as cxapi from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACCEPTED, acknowledgeFindings } from '../../infra/lib/nag-acknowledgements';
import { ALL_HANDLERS } from '../../infra/lib/handlers';
import { actionsOf, AWS_CONTEXT, appFunctions, removeTempDirs, resourcesOf, roleIdOf, statementsOfRole, synth } from './synth';

// The whole stack, synthesized once with every AWS option on (and once with the defaults): the state machines
// against the workflow files, the functions they call, permissions, storage, events, the API and cdk-nag.

const WORKFLOWS_DIR = path.resolve(__dirname, '../../workflows');
const workflowFiles = fs.readdirSync(WORKFLOWS_DIR).filter((f) => f.endsWith('.asl.json'));

let template: Template;
let stack: Stack;
let app: App;
beforeAll(() => {
  ({ template, stack, app } = synth(AWS_CONTEXT));
});
afterAll(removeTempDirs);

/** The state machines made from workflow files, by workflow name (the provider framework's waiter is not one). */
function machines(): Record<string, { id: string; properties: any }> {
  const found: Record<string, { id: string; properties: any }> = {};
  for (const [id, r] of Object.entries(resourcesOf(template))) {
    const name = /^Vigil-(.+)$/.exec(r.Properties?.StateMachineName ?? '')?.[1];
    if (r.Type === 'AWS::StepFunctions::StateMachine' && name) found[name] = { id, properties: r.Properties };
  }
  return found;
}

/** Every Task (and ItemReader) resource of a parsed definition, nested Map states included. */
function resources(states: Record<string, any>): string[] {
  return Object.values(states).flatMap((s) => [
    ...(s.Type === 'Task' ? [s.Resource] : []),
    ...(s.ItemReader ? [s.ItemReader.Resource] : []),
    ...(s.ItemProcessor ? resources(s.ItemProcessor.States) : []),
  ]);
}

test('every workflow file found at synth time is a Standard state machine', () => {
  expect(Object.keys(machines()).sort()).toEqual(workflowFiles.map((f) => f.replace('.asl.json', '')).sort());
  for (const { properties } of Object.values(machines())) expect(properties.StateMachineType).toBe('STANDARD');
});

test('each definition is its workflow file, with every placeholder given by DefinitionSubstitutions', () => {
  for (const [name, { properties }] of Object.entries(machines())) {
    const file = fs.readFileSync(path.join(WORKFLOWS_DIR, `${name}.asl.json`), 'utf8');
    expect(JSON.parse(properties.DefinitionString)).toEqual(JSON.parse(file));
    const needed = [...new Set([...file.matchAll(/\$\{(\w+)\}/g)].map((m) => m[1]))].sort();
    expect(Object.keys(properties.DefinitionSubstitutions).sort()).toEqual(needed);
  }
});

test("every Task resource is a function of the stack running that step's handler, or an integration the role grants", () => {
  const fnById = Object.fromEntries(Object.entries(appFunctions(template)).map(([handler, fn]) => [fn.id, handler]));
  for (const [name, { properties }] of Object.entries(machines())) {
    const roleId = properties.RoleArn['Fn::GetAtt'][0];
    const granted = statementsOfRole(template, roleId);
    for (const resource of resources(JSON.parse(properties.DefinitionString).States)) {
      const placeholder = /^\$\{(\w+)FunctionArn\}$/.exec(resource);
      if (placeholder) {
        const target = properties.DefinitionSubstitutions[`${placeholder[1]}FunctionArn`]['Fn::GetAtt'][0];
        const step = placeholder[1].charAt(0).toLowerCase() + placeholder[1].slice(1);
        expect([name, fnById[target]]).toEqual([name, step]);
        expect(granted).toContainEqual(
          expect.objectContaining({ Action: 'lambda:InvokeFunction', Resource: { 'Fn::GetAtt': [target, 'Arn'] } }),
        );
      } else if (resource === 'arn:aws:states:::sagemaker:createTransformJob.sync') {
        expect(name).toBe('detect-inspection-batch');
        expect(actionsOf(granted)).toEqual(expect.arrayContaining(['sagemaker:CreateTransformJob', 'sagemaker:DescribeTransformJob']));
        const jobs = granted.find((s) => actionsOf([s]).includes('sagemaker:CreateTransformJob'));
        expect(JSON.stringify(jobs?.Resource)).toMatch(/:transform-job\/vigil-\*"/);
      } else {
        expect([name, resource]).toEqual([name, 'arn:aws:states:::s3:getObject']);
        expect(actionsOf(granted)).toContain('s3:GetObject');
      }
    }
  }
});

test("the survey's Distributed Map may start and watch child executions of its own machine and read its manifest", () => {
  const survey = machines()['detect-survey'];
  const statements = statementsOfRole(template, survey.properties.RoleArn['Fn::GetAtt'][0]);
  const own = JSON.stringify(statements.find((s) => s.Action === 'states:StartExecution')?.Resource);
  expect(own).toContain(':stateMachine:Vigil-detect-survey');
  expect(JSON.stringify(statements.find((s) => [s.Action].flat().includes('states:DescribeExecution'))?.Resource)).toContain(
    ':execution:Vigil-detect-survey/*',
  );
  expect(JSON.stringify(statements.find((s) => s.Action === 's3:GetObject')?.Resource)).toContain('/workflows/surveys/*');
  // The inspection workflow has no Distributed Map: it starts nothing.
  const inspection = statementsOfRole(template, machines()['detect-inspection'].properties.RoleArn['Fn::GetAtt'][0]);
  expect(actionsOf(inspection)).not.toContain('states:StartExecution');
});

test('state machines log every event and are traced', () => {
  for (const { properties } of Object.values(machines())) {
    expect(properties.LoggingConfiguration.Level).toBe('ALL');
    expect(properties.TracingConfiguration).toEqual({ Enabled: true });
  }
});

test('each handler of src/app/lambda.ts is one image-based function of the stack, with that handler as its command', () => {
  const exported = [...fs.readFileSync(path.resolve(__dirname, '../../src/app/lambda.ts'), 'utf8').matchAll(/^export const (\w+) =/gm)].map(
    (m) => m[1],
  );
  expect(Object.keys(ALL_HANDLERS).sort()).toEqual(exported.sort());
  const functions = appFunctions(template);
  expect(Object.keys(functions).sort()).toEqual(exported.sort());
  for (const [handler, { properties }] of Object.entries(functions)) {
    expect(properties.PackageType).toBe('Image');
    expect(properties.ImageConfig.Command).toEqual([`dist/src/app/lambda.${handler}`]);
    // The runtime is the image's (public.ecr.aws/lambda/nodejs:22): an image function names no runtime or handler.
    expect(properties.Runtime).toBeUndefined();
    expect(properties.Handler).toBeUndefined();
    expect(properties.Architectures).toEqual(['x86_64']);
    expect(properties.VpcConfig.SubnetIds.length).toBeGreaterThan(0);
  }
  // The deploy-time migration runner is the stack's own zip code, on Node.js 22.
  const migrations = Object.values(resourcesOf(template)).filter((r) => /^index\.(onEvent|isComplete)$/.test(r.Properties?.Handler ?? ''));
  expect(migrations.map((r) => r.Properties.Runtime)).toEqual(['nodejs22.x', 'nodejs22.x']);
});

test('all functions share one image asset, built from Dockerfile.lambda at deploy and never copied at synth', () => {
  const uris = new Set(Object.values(appFunctions(template)).map(({ properties }) => JSON.stringify(properties.Code.ImageUri)));
  expect(uris.size).toBe(1);
  const images = app
    .synth()
    .artifacts.filter((a): a is cxapi.AssetManifestArtifact => a instanceof cxapi.AssetManifestArtifact)
    .flatMap((a) => Object.entries(a.contents.dockerImages ?? {}));
  const lambdaImages = images.filter(([, image]) => image.source.dockerFile === 'Dockerfile.lambda');
  expect(lambdaImages).toHaveLength(1);
  const [hash, image] = lambdaImages[0];
  expect([...uris][0]).toContain(`:${hash}`);
  // Staging is off in tests: the context is the repository itself, hashed in place (cdk synth stages a filtered copy).
  expect(image.source.directory).toBe(path.resolve(__dirname, '../..'));
  expect(image.source.platform).toBe('linux/amd64');
  // The API's image is another asset (the Dockerfile), which the migration task runs too.
  expect(images.filter(([, i]) => i.source.dockerFile === undefined)).toHaveLength(1);
});

test("Dockerfile.lambda builds vigil as the Dockerfile does and runs it on Lambda's Node.js 22 base image", () => {
  const read = (file: string) => fs.readFileSync(path.resolve(__dirname, '../..', file), 'utf8');
  const lambdaFile = read('Dockerfile.lambda');
  const steps = (dockerfile: string) => dockerfile.split(/^FROM .* AS runtime$/m)[0].match(/^(COPY|RUN) .*$/gm) ?? [];
  const apiBuild = steps(read('Dockerfile'));
  const lambdaBuild = lambdaFile.split(/^FROM public\.ecr\.aws\/lambda\/nodejs:22$/m)[0].match(/^(COPY|RUN) .*$/gm) ?? [];
  expect(lambdaBuild.slice(0, -1)).toEqual(apiBuild.slice(0, -1));
  expect(lambdaBuild.at(-1)).toBe('RUN npx tsc -p tsconfig.image.json && npm prune --omit=dev --ignore-scripts');
  for (const part of ['node_modules', 'dist', 'prisma', 'workflows'])
    expect(lambdaFile).toMatch(new RegExp(`^COPY .*${part} \\$\\{LAMBDA_TASK_ROOT\\}/${part}$`, 'm'));
});

describe('permissions', () => {
  const TRACING = ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'];
  // What each handler calls under AWS_CONTEXT, from the adapters it reaches (src/adapters/*).
  const EXPECTED: Record<string, string[]> = {
    beginRun: [],
    preprocessImage: ['s3:DeleteObject', 's3:GetObject', 's3:PutObject'],
    screenImage: ['rekognition:DetectCustomLabels', 's3:GetObject', 'sagemaker:StartHumanLoop'],
    inspectImage: ['s3:GetObject', 's3:PutObject', 'sagemaker:InvokeEndpoint', 'sagemaker:StartHumanLoop'],
    prepareBatch: ['s3:GetObject', 's3:PutObject'],
    recordBatchResult: ['s3:GetObject', 'sagemaker:StartHumanLoop'],
    recordAnomalies: ['sagemaker:StartHumanLoop'],
    requestReview: ['sagemaker:StartHumanLoop'],
    finishRun: ['sagemaker:StartHumanLoop'],
    markFailed: [],
    beginTraining: ['s3:GetObject', 's3:PutObject'],
    startTraining: ['iam:PassRole', 's3:GetObject', 's3:PutObject', 'sagemaker:AddTags', 'sagemaker:CreateTrainingJob'],
    checkTraining: ['sagemaker:DescribeTrainingJob'],
    evaluateModel: ['s3:GetObject'],
    finishTraining: [
      'iam:PassRole',
      's3:GetObject',
      'sagemaker:AddTags',
      'sagemaker:CreateEndpoint',
      'sagemaker:CreateEndpointConfig',
      'sagemaker:CreateModel',
      'sagemaker:DescribeEndpoint',
      'sagemaker:UpdateEndpoint',
    ],
    markTrainingFailed: [],
    // Events that still fail after Lambda's retries go to the handler's dead-letter queue.
    // An ended survey map's open runs are settled by their own children, listed through its Map Runs.
    executionStatusChange: ['sqs:SendMessage', 'states:DescribeExecution', 'states:ListExecutions', 'states:ListMapRuns'],
    humanLoopStatusChange: ['s3:GetObject', 's3:PutObject', 'sagemaker:StartHumanLoop', 'sqs:SendMessage'],
  };

  const statementsOf = (handler: string) => statementsOfRole(template, appFunctions(template)[handler].properties.Role['Fn::GetAtt'][0]);
  const grantOf = (handler: string, action: string) => statementsOf(handler).find((s) => [s.Action].flat().includes(action));

  test('each function role holds exactly the actions its handler calls, none with a wildcard', () => {
    const actual = Object.fromEntries(
      Object.keys(appFunctions(template)).map((h) => [
        h,
        [...new Set(actionsOf(statementsOf(h)).filter((a) => !TRACING.includes(a)))].sort(),
      ]),
    );
    expect(actual).toEqual(EXPECTED);
    for (const h of Object.keys(actual)) for (const action of actionsOf(statementsOf(h))) expect(action).not.toContain('*');
  });

  test('detector and review grants name the configured model, endpoint and flow definition', () => {
    expect(grantOf('screenImage', 'rekognition:DetectCustomLabels')?.Resource).toBe(AWS_CONTEXT.rekognitionProjectVersionArn);
    expect(JSON.stringify(grantOf('inspectImage', 'sagemaker:InvokeEndpoint')?.Resource)).toMatch(/:endpoint\/vigil-inspect"/);
    expect(JSON.stringify(grantOf('requestReview', 'sagemaker:StartHumanLoop')?.Resource)).toMatch(
      /:flow-definition\/vigil-review-[0-9a-f]{10}"/,
    );
    expect(grantOf('startTraining', 'iam:PassRole')?.Condition).toEqual({
      StringEquals: { 'iam:PassedToService': 'sagemaker.amazonaws.com' },
    });
  });

  test('S3 grants stop at the key prefixes each handler uses', () => {
    const prefixes = (handler: string, action: string) =>
      [grantOf(handler, action)?.Resource]
        .flat()
        .map((r) => /\/([a-z0-9/]+)\/\*"\]\]\}$/.exec(JSON.stringify(r))?.[1])
        .sort();
    expect(prefixes('preprocessImage', 's3:GetObject')).toEqual(['uploads']);
    expect(prefixes('preprocessImage', 's3:PutObject')).toEqual(['derived']);
    expect(prefixes('preprocessImage', 's3:DeleteObject')).toEqual(['uploads']);
    expect(prefixes('humanLoopStatusChange', 's3:GetObject')).toEqual(['a2i', 'datasets', 'derived']);
    expect(prefixes('inspectImage', 's3:PutObject')).toEqual(['derived']);
    expect(prefixes('prepareBatch', 's3:PutObject')).toEqual(['batch']);
    expect(prefixes('recordBatchResult', 's3:GetObject')).toEqual(['batch', 'derived']);
  });

  test('the API task may start and describe executions of every state machine only', () => {
    const task = Object.values(resourcesOf(template)).find(
      (r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.ContainerDefinitions[0].Name === 'Api',
    )!;
    const statements = statementsOfRole(template, task.Properties.TaskRoleArn['Fn::GetAtt'][0]);
    const start = statements.find((s) => s.Action === 'states:StartExecution')!;
    expect(
      JSON.stringify(start.Resource)
        .match(/stateMachine:Vigil-[a-z-]+/g)
        ?.sort(),
    ).toEqual(workflowFiles.map((f) => `stateMachine:Vigil-${f.replace('.asl.json', '')}`).sort());
    for (const action of actionsOf(statements)) expect(action).not.toContain('*');
  });

  test.each(['the API task', 'executionStatusChange'])(
    "%s may list the survey map's Map Runs and their child executions, and describe those children only",
    (who) => {
      const task = Object.values(resourcesOf(template)).find(
        (r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.ContainerDefinitions[0].Name === 'Api',
      )!;
      const statements =
        who === 'the API task' ? statementsOfRole(template, task.Properties.TaskRoleArn['Fn::GetAtt'][0]) : statementsOf(who);
      const resourcesFor = (action: string) =>
        statements.filter((s) => [s.Action].flat().includes(action)).map((s) => JSON.stringify(s.Resource));
      expect(resourcesFor('states:ListMapRuns')).toEqual([expect.stringContaining(':execution:Vigil-detect-survey:*')]);
      expect(resourcesFor('states:ListMapRuns')[0]).not.toContain('detect-inspection');
      expect(resourcesFor('states:ListExecutions')).toEqual([expect.stringContaining(':mapRun:Vigil-detect-survey/*')]);
      expect(resourcesFor('states:ListExecutions')[0]).not.toContain(':stateMachine:');
      expect(resourcesFor('states:DescribeExecution').some((r) => r.includes(':execution:Vigil-detect-survey/*'))).toBe(true);
    },
  );
});

describe('storage, data and the API', () => {
  test('the bucket is encrypted, versioned, private, TLS-only, with lifecycle rules and CORS for uploads and the A2I worker UI', () => {
    const [id, bucket] = Object.entries(resourcesOf(template)).find(
      ([k, r]) => r.Type === 'AWS::S3::Bucket' && k.startsWith('StorageObjects'),
    )!;
    const p = bucket.Properties;
    expect(p.BucketEncryption.ServerSideEncryptionConfiguration[0].ServerSideEncryptionByDefault.SSEAlgorithm).toBe('AES256');
    expect(p.VersioningConfiguration).toEqual({ Status: 'Enabled' });
    expect(p.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(p.LifecycleConfiguration.Rules.map((r: any) => r.Id)).toEqual(
      expect.arrayContaining(['abort-incomplete-uploads', 'old-versions', 'survey-manifests', 'originals-infrequent-access']),
    );
    expect(p.CorsConfiguration.CorsRules[0].AllowedMethods).toEqual(expect.arrayContaining(['PUT', 'GET']));
    expect(JSON.stringify(p.CorsConfiguration.CorsRules[1].AllowedOrigins)).toContain('.labeling.');
    expect(p.LoggingConfiguration.LogFilePrefix).toBe('objects/');
    const policy = Object.values(resourcesOf(template)).find((r) => r.Type === 'AWS::S3::BucketPolicy' && r.Properties.Bucket.Ref === id)!;
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
  });

  test('PostgreSQL is Aurora Serverless v2 in isolated subnets with a generated secret; Redis encrypts at rest and in transit', () => {
    template.hasResourceProperties('AWS::RDS::DBCluster', {
      Engine: 'aurora-postgresql',
      StorageEncrypted: true,
      DeletionProtection: true,
    });
    template.hasResourceProperties('AWS::RDS::DBInstance', { DBInstanceClass: 'db.serverless' });
    template.hasResourceProperties('AWS::ElastiCache::ReplicationGroup', { AtRestEncryptionEnabled: true, TransitEncryptionEnabled: true });
    const subnetGroup = Object.values(resourcesOf(template)).find((r) => r.Type === 'AWS::RDS::DBSubnetGroup')!;
    for (const subnet of subnetGroup.Properties.SubnetIds) expect(subnet.Ref).toMatch(/dataSubnet/);
  });

  test('the API runs on Fargate behind the load balancer, checked on /readyz, scaled, with secrets injected and none in plain text', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/readyz',
      Port: 4000,
      TargetType: 'ip',
    });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 6 });
    const api = Object.values(resourcesOf(template)).find(
      (r) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.ContainerDefinitions[0].Name === 'Api',
    )!;
    const container = api.Properties.ContainerDefinitions[0];
    expect(container.Secrets.map((s: any) => s.Name).sort()).toEqual(['DB_PASSWORD', 'UPLOAD_SIGNING_SECRET', 'VIGIL_ADMIN_API_KEY']);
    const env = Object.fromEntries(container.Environment.map((e: any) => [e.Name, e.Value]));
    expect(env).toMatchObject({
      OBJECT_STORE: 's3',
      WORKFLOW_ENGINE: 'stepfunctions',
      HUMAN_REVIEW: 'a2i',
      INSPECT_DETECTOR: 'sagemaker',
      HOST: '0.0.0.0',
    });
    expect(env.DATABASE_URL).toBeUndefined();
    expect(container.Command[0]).toMatch(/DATABASE_URL=.*exec node dist\/src\/main\.js$/);
  });

  test('Lambdas get the database password as a deploy-time Secrets Manager reference, never a literal', () => {
    for (const { properties } of Object.values(appFunctions(template))) {
      expect(JSON.stringify(properties.Environment.Variables.DATABASE_URL)).toContain('{{resolve:secretsmanager:');
      expect(properties.Environment.Variables.DATA_DIR).toBe('/tmp/vigil');
    }
  });

  test('migrations run as a one-off task on deploy, before the API service and the functions are updated', () => {
    const [migrationId, migration] = Object.entries(resourcesOf(template)).find(([, r]) => r.Type === 'Custom::VigilMigrations')!;
    const migrate = Object.entries(resourcesOf(template)).find(
      ([, r]) => r.Type === 'AWS::ECS::TaskDefinition' && r.Properties.ContainerDefinitions[0].Name === 'Migrate',
    )!;
    expect(migration.Properties.TaskDefinition).toEqual({ Ref: migrate[0] });
    expect(migrate[1].Properties.ContainerDefinitions[0].Command[0]).toMatch(/exec node bin\/vigil\.js migrate$/);
    const service = Object.values(resourcesOf(template)).find((r) => r.Type === 'AWS::ECS::Service')!;
    expect(service.DependsOn).toContain(migrationId);
    // New function code never meets an unmigrated database either.
    for (const { id } of Object.values(appFunctions(template))) expect(resourcesOf(template)[id].DependsOn).toContain(migrationId);
  });
});

describe('events, review and alarms', () => {
  const rules = () => Object.values(resourcesOf(template)).filter((r) => r.Type === 'AWS::Events::Rule');
  const functionOfTarget = (rule: any) => appFunctionName(rule.Properties.Targets[0].Arn['Fn::GetAtt'][0]);
  const appFunctionName = (id: string) => Object.entries(appFunctions(template)).find(([, fn]) => fn.id === id)?.[0];

  test('execution status changes of every state machine reach executionStatusChange, with a dead-letter queue', () => {
    const rule = rules().find((r) => r.Properties.EventPattern.source[0] === 'aws.states')!;
    const pattern = rule.Properties.EventPattern;
    expect(pattern['detail-type']).toEqual(['Step Functions Execution Status Change']);
    expect(pattern.detail.status).toEqual(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']);
    expect(JSON.stringify(pattern.detail.stateMachineArn).match(/stateMachine:Vigil-[a-z-]+/g)).toHaveLength(workflowFiles.length);
    expect(functionOfTarget(rule)).toBe('executionStatusChange');
    expect(rule.Properties.Targets[0].DeadLetterConfig.Arn['Fn::GetAtt'][0]).toMatch(/executionStatusChangedlq/);
  });

  test("A2I human-loop status changes of vigil's flow definition reach humanLoopStatusChange", () => {
    const rule = rules().find((r) => r.Properties.EventPattern.source[0] === 'aws.sagemaker')!;
    expect(rule.Properties.EventPattern['detail-type']).toEqual(['SageMaker A2I HumanLoop Status Change']);
    expect(JSON.stringify(rule.Properties.EventPattern.detail.flowDefinitionArn)).toMatch(/flow-definition\/vigil-review-/);
    expect(functionOfTarget(rule)).toBe('humanLoopStatusChange');
  });

  test('the flow definition is created with the work team, the worker template and output under a2i/', () => {
    const calls = Object.values(resourcesOf(template))
      .filter((r) => r.Type === 'Custom::AWS')
      .map((r) => JSON.stringify(r.Properties.Create));
    const flow = calls.find((c) => c.includes('createFlowDefinition'))!;
    expect(flow).toContain(AWS_CONTEXT.a2iWorkteamArn);
    expect(flow).toContain('/a2i/');
    const ui = JSON.parse(JSON.parse(calls.find((c) => c.includes('createHumanTaskUi'))!));
    expect(ui.parameters.UiTemplate.Content).toBe(fs.readFileSync(path.join(WORKFLOWS_DIR, 'a2i/anomaly-review.liquid.html'), 'utf8'));
  });

  test('failed and timed-out executions, dead letters and unhealthy API tasks raise alarms', () => {
    const alarms = Object.values(resourcesOf(template)).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    const metrics = alarms.map((a) => `${a.Properties.Namespace}/${a.Properties.MetricName}`);
    expect(metrics.filter((m) => m === 'AWS/States/ExecutionsFailed')).toHaveLength(workflowFiles.length);
    expect(metrics.filter((m) => m === 'AWS/States/ExecutionsTimedOut')).toHaveLength(workflowFiles.length);
    expect(metrics.filter((m) => m === 'AWS/SQS/ApproximateNumberOfMessagesVisible')).toHaveLength(2);
    expect(metrics).toContain('AWS/ApplicationELB/UnHealthyHostCount');
    for (const a of alarms) expect(a.Properties.AlarmActions).toHaveLength(1);
  });

  test('the data lake catalog is part of the stack', () => {
    template.resourceCountIs('AWS::Glue::Database', 1);
    expect(Object.values(resourcesOf(template)).filter((r) => r.Type === 'AWS::Glue::Table').length).toBeGreaterThan(0);
  });
});

describe('other configurations', () => {
  // Synthesized once each, on first use.
  let defaults: ReturnType<typeof synth> | undefined;
  let concrete: ReturnType<typeof synth> | undefined;
  const withDefaults = () => (defaults ??= synth({}));
  const inEuWest1 = () => (concrete ??= synth({}, { env: { account: '123456789012', region: 'eu-west-1' } }));
  const findings = (stack: Stack) =>
    new AwsSolutionsChecks()
      .validateScope(stack)
      .violations.flatMap((v) => v.violatingResources.map((r) => `${v.ruleName} at ${r.constructPath}`));

  test('with the defaults there is no A2I: no flow definition, no human-loop rule, no StartHumanLoop grant', () => {
    const { template: t } = withDefaults();
    expect(Object.values(resourcesOf(t)).filter((r) => r.Type === 'Custom::AWS')).toEqual([]);
    t.resourceCountIs('AWS::Events::Rule', 1);
    for (const fn of Object.values(appFunctions(t)))
      expect(actionsOf(statementsOfRole(t, roleIdOf(fn)))).not.toContain('sagemaker:StartHumanLoop');
  });

  test('batch stage 2: its machine and settings only with batchStage2=true', () => {
    const names = (t: Template) =>
      Object.values(resourcesOf(t))
        .filter((r) => r.Type === 'AWS::StepFunctions::StateMachine')
        .map((r) => r.Properties.StateMachineName);
    expect(names(template)).toContain('Vigil-detect-inspection-batch');
    expect(names(withDefaults().template)).not.toContain('Vigil-detect-inspection-batch');
    const env = appFunctions(template).recordBatchResult.properties.Environment.Variables;
    expect(env).toMatchObject({
      INSPECT_DETECTOR: 'sagemaker',
      INSPECT_MODE: 'batch',
      SAGEMAKER_BATCH_MODEL_NAME: AWS_CONTEXT.batchModelName,
      SAGEMAKER_BATCH_INSTANCE_TYPE: 'ml.m5.xlarge',
    });
    expect(JSON.stringify(env.SFN_DETECT_INSPECTION_BATCH_ARN)).toContain('stateMachine:Vigil-detect-inspection-batch');
    expect(appFunctions(withDefaults().template).recordBatchResult.properties.Environment.Variables.INSPECT_MODE).toBeUndefined();
  });

  test('synth looks nothing up, even for a concrete account and region', () => {
    const { app, template: t } = inEuWest1();
    expect(app.synth().manifest.missing ?? []).toEqual([]);
    const subnets = Object.values(resourcesOf(t)).filter((r) => r.Type === 'AWS::EC2::Subnet');
    expect([...new Set(subnets.map((s) => s.Properties.AvailabilityZone))].sort()).toEqual(['eu-west-1a', 'eu-west-1b']);
  });

  test('cdk-nag leaves no finding unacknowledged, with every option on, with the defaults, and in a concrete environment', () => {
    expect(findings(stack)).toEqual([]);
    expect(findings(withDefaults().stack)).toEqual([]);
    expect(findings(inEuWest1().stack)).toEqual([]);
  });

  test('every acknowledgment carries the reason of the entry that covers it', () => {
    for (const a of ACCEPTED) expect(a.reason.length).toBeGreaterThan(40);
    const acknowledged = withDefaults()
      .stack.node.findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY).map((m) => m.data));
    // Each is recorded as { "<finding id>": "<reason>" } on the construct it is about (CDK records a few of its own).
    const ours = acknowledged.flatMap((a) => Object.entries(a as Record<string, string>)).filter(([id]) => id.includes('AwsSolutions-'));
    expect(ours.length).toBeGreaterThan(20);
    for (const [, reason] of ours) expect(ACCEPTED.map((e) => e.reason)).toContain(reason);
  });

  test('a finding no entry covers stays a finding: a bucket without logs, encryption or TLS', () => {
    const careless = new Stack(new App(), 'Careless');
    new s3.CfnBucket(careless, 'Bucket', {});
    acknowledgeFindings(careless);
    expect(findings(careless)).toEqual(
      expect.arrayContaining(['AwsSolutions-S1 at Careless/Bucket', 'AwsSolutions-S10 at Careless/Bucket']),
    );
  });
});
