import fs from 'node:fs';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { STEP_HANDLERS } from '../../infra/lib/handlers';
import { handlerStatements } from '../../infra/lib/permissions';
import { readSettings, SettingsError } from '../../infra/lib/settings';
import { StateMachines } from '../../infra/lib/state-machines';
import { VigilStack } from '../../infra/lib/vigil-stack';
import { actionsOf, AWS_CONTEXT, newApp, removeTempDirs, tempDir } from './synth';

// Bad input fails synth with a message naming the value; workflow files are checked against the functions and grants.

afterAll(removeTempDirs);

const settingsFrom = (context: Record<string, unknown>) => readSettings((name) => context[name]);
const problemsOf = (context: Record<string, unknown>) => {
  try {
    settingsFrom(context);
  } catch (err) {
    if (err instanceof SettingsError) return err.problems;
    throw err;
  }
  return [];
};

describe('context values', () => {
  test('the defaults need no context: built-in detectors and reviewer page', () => {
    expect(settingsFrom({})).toMatchObject({
      screen: { kind: 'builtin' },
      inspect: { kind: 'builtin' },
      batch: null,
      humanReview: { kind: 'builtin' },
    });
  });

  test('missing values are named with the choice that needs them', () => {
    expect(problemsOf({ batchStage2: 'true' })).toEqual(['batchStage2=true needs batchModelName']);
    expect(problemsOf({ humanReview: 'a2i' })).toEqual(['humanReview=a2i (the A2I workforce) needs a2iWorkteamArn']);
    expect(problemsOf({ inspectDetector: 'sagemaker' })).toEqual(['inspectDetector=sagemaker needs sagemakerEndpointName']);
    expect(problemsOf({ screenDetector: 'rekognition-custom-labels' })).toEqual([
      'screenDetector=rekognition-custom-labels needs rekognitionProjectVersionArn',
    ]);
    expect(problemsOf({ inspectDetector: 'lookout-for-vision', lookoutProjectName: 'poles' })).toEqual([
      'inspectDetector=lookout-for-vision needs lookoutModelVersion',
    ]);
  });

  test('contradictory values are refused, naming both', () => {
    expect(problemsOf({ batchModelName: 'vigil-batch' })).toEqual([
      'batchModelName is set but batchStage2=true is not: remove batchModelName or set batchStage2=true',
    ]);
    expect(problemsOf({ a2iWorkteamArn: AWS_CONTEXT.a2iWorkteamArn })).toEqual([
      'a2iWorkteamArn is set but humanReview=a2i is not: remove a2iWorkteamArn or set humanReview=a2i',
    ]);
    expect(problemsOf({ apiMinTasks: '4', apiMaxTasks: '2' })).toEqual(['apiMaxTasks=2 is below apiMinTasks=4']);
  });

  test('malformed values say what was expected, and every problem is reported at once', () => {
    expect(problemsOf({ humanReview: 'mturk', batchStage2: 'yes' })).toEqual([
      'batchStage2="yes": expected true or false',
      'humanReview="mturk": expected one of builtin, a2i',
    ]);
    expect(problemsOf({ a2iWorkteamArn: 'team-7', humanReview: 'a2i' })).toEqual([
      'a2iWorkteamArn="team-7": expected a SageMaker workteam ARN',
      'humanReview=a2i (the A2I workforce) needs a2iWorkteamArn',
    ]);
  });

  test('synth stops with the message naming the value', () => {
    const app = newApp({ batchStage2: 'true' });
    expect(() => new VigilStack(app, 'Vigil')).toThrow(/batchStage2=true needs batchModelName/);
    const a2i = newApp({ humanReview: 'a2i' });
    expect(() => new VigilStack(a2i, 'Vigil')).toThrow(/needs a2iWorkteamArn/);
  });
});

describe('workflow files', () => {
  const task = (resource: string, extra: object = {}) => ({ Type: 'Task', Resource: resource, End: true, ...extra });
  /** An ASL placeholder, `${Name}`, as the workflow files write it. */
  const placeholder = (name: string) => `\${${name}}`;

  function workflowsDir(files: Record<string, object>): string {
    const dir = tempDir('vigil-workflows-');
    for (const [name, definition] of Object.entries(files))
      fs.writeFileSync(path.join(dir, `${name}.asl.json`), JSON.stringify(definition, null, 2));
    return dir;
  }

  /** The state machines construct alone, with a stand-in function per step handler. */
  function machinesFor(dir: string, substitutions: Record<string, string> = {}) {
    const stack = new Stack(new App(), 'Test');
    const bucket = new s3.Bucket(stack, 'Bucket');
    const functions = Object.fromEntries(
      Object.keys(STEP_HANDLERS).map((h) => [
        h,
        lambda.Function.fromFunctionArn(stack, h, `arn:aws:lambda:eu-west-1:123456789012:function:${h}`),
      ]),
    );
    const machines = new StateMachines(stack, 'Workflows', {
      workflowsDir: dir,
      bucket,
      functions,
      substitutions,
      substitutionSources: { BatchModelName: 'batchStage2=true and batchModelName' },
    });
    return { stack, machines };
  }

  const roleActions = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy')).flatMap((p: any) =>
      actionsOf(p.Properties.PolicyDocument.Statement),
    );

  test('a Task naming a handler with no function fails, naming the file, the state and the handler', () => {
    const dir = workflowsDir({ 'grade-rust': { StartAt: 'Grade', States: { Grade: task(placeholder('GradeRustFunctionArn')) } } });
    expect(() => machinesFor(dir)).toThrow(
      /workflows\/grade-rust\.asl\.json: .*names the handler "gradeRust", which has no Lambda function/,
    );
  });

  test('a handler reached through lambda:invoke inside a Map counts too', () => {
    const inner = {
      StartAt: 'Grade',
      States: { Grade: task('arn:aws:states:::lambda:invoke', { Parameters: { FunctionName: placeholder('GradeFunctionArn') } }) },
    };
    const dir = workflowsDir({ nested: { StartAt: 'Each', States: { Each: { Type: 'Map', ItemProcessor: inner, End: true } } } });
    expect(() => machinesFor(dir)).toThrow(/Task state "Grade" names the handler "grade"/);
  });

  test('a SageMaker Batch Transform .sync Task gets exactly the actions that integration calls', () => {
    const dir = workflowsDir({
      'inspect-batch': {
        StartAt: 'Transform',
        States: {
          Transform: task('arn:aws:states:::sagemaker:createTransformJob.sync', {
            Parameters: { ModelName: placeholder('BatchModelName') },
            Next: 'Record',
            End: undefined,
          }),
          Record: task(placeholder('RecordAnomaliesFunctionArn')),
        },
      },
    });
    const { stack } = machinesFor(dir, { BatchModelName: 'vigil-anomaly-batch' });
    // Logging and tracing aside (every machine has those), the role holds the integration's actions and the Lambda's.
    const own = roleActions(stack).filter((a) => !/^(logs|xray):/.test(a));
    expect(own.sort()).toEqual([
      'events:DescribeRule',
      'events:PutRule',
      'events:PutTargets',
      'lambda:InvokeFunction',
      'sagemaker:AddTags',
      'sagemaker:CreateTransformJob',
      'sagemaker:DescribeTransformJob',
      'sagemaker:StopTransformJob',
    ]);
    const definition = Object.values(Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine'))[0] as any;
    expect(definition.Properties.DefinitionSubstitutions.BatchModelName).toBe('vigil-anomaly-batch');
  });

  test('a placeholder with no value names the context values that provide it', () => {
    const dir = workflowsDir({
      'inspect-batch': {
        StartAt: 'T',
        States: {
          T: task('arn:aws:states:::sagemaker:createTransformJob.sync', { Parameters: { ModelName: placeholder('BatchModelName') } }),
        },
      },
    });
    expect(() => machinesFor(dir)).toThrow(
      `workflows/inspect-batch.asl.json uses ${placeholder('BatchModelName')}, which has no value: set batchStage2=true and batchModelName`,
    );
  });

  test('a service integration no one has granted fails instead of deploying a machine that cannot run', () => {
    const dir = workflowsDir({ mail: { StartAt: 'Send', States: { Send: task('arn:aws:states:::sns:publish') } } });
    expect(() => machinesFor(dir)).toThrow(/state "Send" calls arn:aws:states:::sns:publish, which is neither/);
  });

  test('an empty workflows folder fails', () => {
    expect(() => machinesFor(workflowsDir({}))).toThrow(/no \*\.asl\.json workflow/);
  });
});

describe('detector permissions under other settings', () => {
  const stack = new Stack(new App(), 'Perms', { env: { account: '123456789012', region: 'eu-west-1' } });
  const bucket = new s3.Bucket(stack, 'Bucket');
  const grants = (context: Record<string, unknown>, handler: string) =>
    handlerStatements(STEP_HANDLERS[handler], {
      stack,
      bucket,
      settings: settingsFrom(context),
      flowDefinitionArn: null,
      sagemakerRole: null,
      mapWorkflows: [],
    }).map((s) => stack.resolve(s.toStatementJson()));

  test('Rekognition labels: DetectLabels, which has no resource-level permissions', () => {
    expect(grants({ screenDetector: 'rekognition-labels' }, 'screenImage')).toContainEqual({
      Action: 'rekognition:DetectLabels',
      Effect: 'Allow',
      Resource: '*',
    });
  });

  test('Lookout for Vision: DetectAnomalies on the one model version, and dataset updates on its project', () => {
    const lookout = { inspectDetector: 'lookout-for-vision', lookoutProjectName: 'poles', lookoutModelVersion: '3' };
    const detect = grants(lookout, 'inspectImage').find((s) => s.Action === 'lookoutvision:DetectAnomalies');
    expect(JSON.stringify(detect.Resource)).toMatch(/":lookoutvision:eu-west-1:123456789012:model\/poles\/3"/);
    expect(actionsOf(grants(lookout, 'beginTraining'))).toContain('lookoutvision:UpdateDatasetEntries');
    expect(actionsOf(grants(lookout, 'checkTraining'))).toEqual(['lookoutvision:DescribeModel']);
  });

  test('built-in detectors call no AWS model service and no human loop without A2I', () => {
    for (const handler of ['screenImage', 'inspectImage', 'requestReview', 'finishTraining']) {
      expect(actionsOf(grants({}, handler)).filter((a) => !a.startsWith('s3:'))).toEqual([]);
    }
  });

  test('the built-in trainer needs no PassRole', () => {
    expect(actionsOf(grants({}, 'startTraining'))).not.toContain('iam:PassRole');
  });
});
