import path from 'node:path';
import { CfnOutput, ContextProvider, Stack, type StackProps, Token } from 'aws-cdk-lib';
import * as cxschema from 'aws-cdk-lib/cloud-assembly-schema';
import { type Construct } from 'constructs';
import { Alarms } from './alarms';
import { DataLake } from './data-lake';
import { apiStatements } from './api-permissions';
import { ApiService, repositoryImage } from './api-service';
import { appEnvironment } from './app-environment';
import { hasDistributedMap, loadWorkflows } from './asl';
import { EventRules } from './events';
import { Functions } from './functions';
import { PREFIX } from './handlers';
import { HumanReview } from './human-review';
import { Migrations } from './migrations';
import { DATABASE_NAME, DATABASE_USER, Network } from './network';
import { type PermissionContext } from './permissions';
import { REPO_ROOT } from './paths';
import { SageMakerRole } from './sagemaker-role';
import { readSettings, type VigilSettings } from './settings';
import { stateMachineArn, StateMachines } from './state-machines';
import { Storage } from './storage';
import { acknowledgeFindings } from './nag-acknowledgements';

/** The workflow of stage 2 as a SageMaker Batch Transform job (src/app reads INSPECT_MODE=batch). */
export const BATCH_WORKFLOW = 'detect-inspection-batch';

export interface VigilStackProps extends StackProps {
  /** Read from CDK context when not given. */
  settings?: VigilSettings;
  /** Default: the repository's workflows/ folder. */
  workflowsDir?: string;
}

/** vigil's whole AWS deployment: storage, data, the API, one Lambda per handler, the state machines, events, review and alarms. */
export class VigilStack extends Stack {
  readonly settings: VigilSettings;
  readonly functions: Functions;
  readonly stateMachines: StateMachines;

  constructor(scope: Construct, id: string, props: VigilStackProps = {}) {
    super(scope, id, props);
    const settings = props.settings ?? readSettings((name) => this.node.tryGetContext(name));
    this.settings = settings;
    this.nameAvailabilityZones(settings.availabilityZones);
    const workflowsDir = props.workflowsDir ?? path.join(REPO_ROOT, 'workflows');
    // Batch stage 2's workflow runs only with batchStage2=true: without it, no machine may start transform jobs.
    const workflows = loadWorkflows(workflowsDir)
      .map((w) => w.name)
      .filter((w) => settings.batch || w !== BATCH_WORKFLOW);
    // The API and the executionStatusChange handler settle a Distributed Map's runs by the map's own children when it ends.
    const mapWorkflows = loadWorkflows(workflowsDir)
      .filter(hasDistributedMap)
      .map((w) => w.name)
      .filter((w) => workflows.includes(w));

    const { bucket, accessLogs } = new Storage(this, 'Storage', { corsOrigins: settings.corsOrigins });
    new DataLake(this, 'DataLake', { bucket, prefix: PREFIX.datalake.replace(/\/$/, '') });
    const network = new Network(this, 'Network');
    const review =
      settings.humanReview.kind === 'a2i'
        ? new HumanReview(this, 'HumanReview', {
            bucket,
            workteamArn: settings.humanReview.workteamArn,
            templateFile: path.join(workflowsDir, 'a2i', 'anomaly-review.liquid.html'),
          })
        : null;
    const sagemakerRole = this.sagemakerRole(settings, bucket);
    const permissions: PermissionContext = {
      stack: this,
      bucket,
      settings,
      flowDefinitionArn: review?.flowDefinitionArn ?? null,
      sagemakerRole,
      mapWorkflows,
    };
    const environment = appEnvironment({ ...permissions, redisUrl: network.redisUrl, workflows });

    const password = network.database.secret!.secretValueFromJson('password').unsafeUnwrap();
    const endpoint = network.database.clusterEndpoint;
    this.functions = new Functions(this, 'Functions', {
      repoRoot: REPO_ROOT,
      vpc: network.vpc,
      securityGroup: network.clients,
      // Resolved by CloudFormation at deploy time: the password is in no template, only in the functions' encrypted configuration.
      environment: {
        ...environment,
        DATABASE_URL: `postgresql://${DATABASE_USER}:${password}@${endpoint.hostname}:${endpoint.port}/${DATABASE_NAME}`,
      },
      permissions,
    });

    const substitutions: Record<string, string> = { BucketName: bucket.bucketName };
    if (settings.batch)
      Object.assign(substitutions, { BatchModelName: settings.batch.modelName, BatchInstanceType: settings.batch.instanceType });
    this.stateMachines = new StateMachines(this, 'Workflows', {
      workflowsDir,
      bucket,
      functions: this.functions.byHandler,
      substitutions,
      substitutionSources: { BatchModelName: 'batchStage2=true and batchModelName', BatchInstanceType: 'batchStage2=true' },
      workflows,
    });
    const machineArns = workflows.map((w) => stateMachineArn(this, w));
    new EventRules(this, 'Events', {
      stateMachineArns: machineArns,
      executionStatusChange: {
        fn: this.functions.byHandler.executionStatusChange,
        deadLetters: this.functions.deadLetters.executionStatusChange,
      },
      humanLoopStatusChange: review
        ? {
            fn: this.functions.byHandler.humanLoopStatusChange,
            deadLetters: this.functions.deadLetters.humanLoopStatusChange,
            flowDefinitionArn: review.flowDefinitionArn,
          }
        : null,
    });

    const { api, migrations } = this.api(settings, network, environment, permissions, accessLogs, workflows);
    // New function code runs only against a migrated database, and human loops only once their flow exists.
    this.functions.node.addDependency(migrations);
    if (review) this.functions.node.addDependency(review.flowDefinition);
    new Alarms(this, 'Alarms', {
      stateMachines: this.stateMachines.machines,
      deadLetters: this.functions.deadLetters,
      targetGroup: api.targetGroup,
      email: settings.alarmEmail,
    });
    new CfnOutput(this, 'ApiUrl', {
      value: `${settings.certificateArn ? 'https' : 'http'}://${api.loadBalancer.loadBalancerDnsName}/graphql`,
    });
    new CfnOutput(this, 'BucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'AdminApiKeySecret', { value: api.adminKey.secretArn });
    if (review) new CfnOutput(this, 'FlowDefinitionArn', { value: review.flowDefinitionArn });
    if (sagemakerRole) new CfnOutput(this, 'SageMakerRoleArn', { value: sagemakerRole.roleArn });
    acknowledgeFindings(this);
  }

  /** A stack with a known account and region would look its zones up in the account: name them, so synth stays offline. */
  private nameAvailabilityZones(zones: string[] | null) {
    if (Token.isUnresolved(this.region) || Token.isUnresolved(this.account)) return;
    const { key } = ContextProvider.getKey(this, { provider: cxschema.ContextProvider.AVAILABILITY_ZONE_PROVIDER });
    this.node.setContext(key, zones ?? [`${this.region}a`, `${this.region}b`]);
  }

  private sagemakerRole(settings: VigilSettings, bucket: PermissionContext['bucket']) {
    const training = settings.inspect.kind === 'sagemaker' ? settings.inspect.training : null;
    if (!training && !settings.batch) return null;
    const images = training ? [training.trainingImage, training.inferenceImage] : [];
    return new SageMakerRole(this, 'SageMaker', { bucket, images }).role;
  }

  private api(
    settings: VigilSettings,
    network: Network,
    environment: Record<string, string>,
    permissions: PermissionContext,
    accessLogs: Storage['accessLogs'],
    workflows: string[],
  ) {
    const api = new ApiService(this, 'Api', {
      vpc: network.vpc,
      securityGroup: network.clients,
      image: repositoryImage(REPO_ROOT),
      database: network.database,
      environment: { ...environment, AWS_REGION: this.region },
      statements: apiStatements(permissions, workflows),
      accessLogs,
      certificateArn: settings.certificateArn,
      publicUrl: settings.publicUrl,
      minTasks: settings.api.minTasks,
      maxTasks: settings.api.maxTasks,
    });
    const migrations = new Migrations(this, 'Migrations', {
      cluster: api.cluster,
      task: api.migrationTask,
      vpc: network.vpc,
      securityGroup: network.clients,
    });
    migrations.node.addDependency(network.database);
    api.service.node.addDependency(migrations.resource);
    return { api, migrations: migrations.resource };
  }
}
