#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { VigilStack } from '../lib/vigil-stack';

// `cd infra && npx cdk synth`: offline, no lookups. Without `-c account=… -c region=…` the stack is environment-agnostic.
const app = new App();
const account = app.node.tryGetContext('account');
const region = app.node.tryGetContext('region');
new VigilStack(app, app.node.tryGetContext('stackName') ?? 'Vigil', {
  env: account || region ? { account, region } : undefined,
  description: 'vigil: watch field devices through photographs (GraphQL API, Step Functions workflows, A2I review)',
});
// Any finding not acknowledged with a reason (lib/nag-acknowledgements.ts) stops synth.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
