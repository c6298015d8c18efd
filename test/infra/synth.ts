import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { VigilStack, type VigilStackProps } from '../../infra/lib/vigil-stack';

// Synthesizing vigil's stack in tests: offline, no credentials, no Docker, and fast — assets (the API image, the
// functions' image, the migration runner) are hashed where they are, never copied: `aws:cdk:disable-asset-staging`.

const made: string[] = [];

/** A temporary folder, removed by removeTempDirs. */
export function tempDir(prefix: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  made.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
}

/** Every AWS choice turned on: Rekognition Custom Labels, a SageMaker endpoint trained in SageMaker, batch stage 2, A2I. */
export const AWS_CONTEXT = {
  screenDetector: 'rekognition-custom-labels',
  rekognitionProjectVersionArn: 'arn:aws:rekognition:eu-west-1:123456789012:project/insulators/version/insulators.2026-11-02/1730000000000',
  inspectDetector: 'sagemaker',
  sagemakerEndpointName: 'vigil-inspect',
  sagemakerTrainingImage: '123456789012.dkr.ecr.eu-west-1.amazonaws.com/vigil-anomaly:1',
  batchStage2: 'true',
  batchModelName: 'vigil-anomaly-batch',
  humanReview: 'a2i',
  a2iWorkteamArn: 'arn:aws:sagemaker:eu-west-1:123456789012:workteam/private-crowd/linemen',
};

export function newApp(context: Record<string, unknown> = {}): App {
  return new App({ context: { 'aws:cdk:disable-asset-staging': true, ...context } });
}

export function synth(context: Record<string, unknown> = {}, props: VigilStackProps = {}) {
  const app = newApp(context);
  const stack = new VigilStack(app, 'Vigil', props);
  return { app, stack, template: Template.fromStack(stack) };
}

type Resources = Record<string, { Type: string; Properties?: any; DependsOn?: string[] }>;

export const resourcesOf = (template: Template): Resources => template.toJSON().Resources;

/** The Lambda functions of src/app/lambda.ts in a template (their image's command), by handler export name, with their logical ids. */
export function appFunctions(template: Template): Record<string, { id: string; properties: any }> {
  const found: Record<string, { id: string; properties: any }> = {};
  for (const [id, r] of Object.entries(resourcesOf(template))) {
    const handler = /^dist\/src\/app\/lambda\.(\w+)$/.exec(r.Properties?.ImageConfig?.Command?.[0] ?? '')?.[1];
    if (r.Type === 'AWS::Lambda::Function' && handler) found[handler] = { id, properties: r.Properties };
  }
  return found;
}

/** Every statement of every inline policy attached to a role (by its logical id). */
export function statementsOfRole(
  template: Template,
  roleId: string,
): { Action: string | string[]; Resource: unknown; Condition?: unknown }[] {
  return Object.values(resourcesOf(template))
    .filter((r) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((role: any) => role.Ref === roleId))
    .flatMap((r) => r.Properties.PolicyDocument.Statement);
}

export const actionsOf = (statements: { Action: string | string[] }[]) => statements.flatMap((s) => [s.Action].flat());

/** The role of a Lambda function resource. */
export const roleIdOf = (fn: { properties: any }): string => fn.properties.Role['Fn::GetAtt'][0];
