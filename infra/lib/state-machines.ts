import { ArnFormat, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type IFunction } from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { type IBucket } from 'aws-cdk-lib/aws-s3';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  functionPlaceholder,
  hasDistributedMap,
  loadWorkflows,
  placeholders,
  serviceIntegration,
  taskResources,
  type WorkflowFile,
} from './asl';
import { handlerOfTask } from './handlers';
import { SERVICE_INTEGRATIONS } from './service-integrations';

export interface StateMachinesProps {
  /** The folder of `*.asl.json` files: every one found becomes a state machine. */
  workflowsDir: string;
  bucket: IBucket;
  /** The Lambda of each handler, by its export name in src/app/lambda.ts. */
  functions: Record<string, IFunction>;
  /** Values of the other `${Name}` placeholders a workflow may use, and which context values provide the missing ones. */
  substitutions: Record<string, string>;
  substitutionSources: Record<string, string>;
  /** The workflows to deploy (default: every file); a workflow of an option not chosen is left out. */
  workflows?: string[];
}

/** The name a workflow's state machine gets in a stack, so ARNs are known before the machines exist (no dependency cycles). */
export const stateMachineName = (stack: Stack, workflow: string) => `${stack.stackName}-${workflow}`;

export const stateMachineArn = (stack: Stack, workflow: string) =>
  stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: stateMachineName(stack, workflow),
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/** The executions of a workflow's state machine. */
export const executionsArn = (stack: Stack, workflow: string) =>
  stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${stateMachineName(stack, workflow)}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });

/** One Standard state machine per workflow file, with `DefinitionSubstitutions` and a role granting exactly what its Tasks call. */
export class StateMachines extends Construct {
  readonly machines: Record<string, sfn.StateMachine> = {};

  constructor(scope: Construct, id: string, props: StateMachinesProps) {
    super(scope, id);
    const workflows = loadWorkflows(props.workflowsDir).filter((w) => !props.workflows || props.workflows.includes(w.name));
    if (workflows.length === 0) throw new Error(`no *.asl.json workflow in ${props.workflowsDir}`);
    for (const workflow of workflows) this.machines[workflow.name] = this.machineFor(workflow, props);
  }

  private machineFor(workflow: WorkflowFile, props: StateMachinesProps): sfn.StateMachine {
    const stack = Stack.of(this);
    const role = new iam.Role(this, `${workflow.name}-role`, { assumedBy: new iam.ServicePrincipal('states.amazonaws.com') });
    // One grant per resource, however many states call it.
    const granted = new Set<string>();
    for (const { state, resource } of taskResources(workflow)) {
      if (granted.has(resource)) continue;
      granted.add(resource);
      for (const s of this.statementsFor(workflow, state, resource, props)) role.addToPolicy(s);
    }
    const substitutions: Record<string, string> = {};
    for (const name of placeholders(workflow)) substitutions[name] = this.substitution(workflow, name, props);
    const name = stateMachineName(stack, workflow.name);
    if (hasDistributedMap(workflow)) {
      // Child executions of the map run as executions of this same machine.
      role.addToPolicy(new iam.PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachineArn(stack, workflow.name)] }));
      role.addToPolicy(
        new iam.PolicyStatement({
          actions: ['states:DescribeExecution', 'states:StopExecution'],
          resources: [
            stack.formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${name}/*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }
    const logGroup = new logs.LogGroup(this, `${workflow.name}-logs`, {
      retention: logs.RetentionDays.THREE_MONTHS,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    return new sfn.StateMachine(this, workflow.name, {
      stateMachineName: name,
      stateMachineType: sfn.StateMachineType.STANDARD,
      definitionBody: sfn.DefinitionBody.fromString(workflow.text),
      definitionSubstitutions: substitutions,
      role,
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
  }

  private substitution(workflow: WorkflowFile, name: string, props: StateMachinesProps): string {
    const task = /^([A-Za-z0-9]+)FunctionArn$/.exec(name)?.[1];
    if (task) return this.functionOf(workflow, `\${${name}}`, task, props).functionArn;
    const value = props.substitutions[name];
    if (value !== undefined) return value;
    const source = props.substitutionSources[name];
    throw new Error(
      `workflows/${workflow.file} uses \${${name}}, which has no value${source ? `: set ${source}` : ` (known: ${Object.keys(props.substitutions).join(', ')})`}`,
    );
  }

  private functionOf(workflow: WorkflowFile, where: string, task: string, props: StateMachinesProps): IFunction {
    const fn = props.functions[handlerOfTask(task)];
    if (!fn) {
      throw new Error(
        `workflows/${workflow.file}: ${where} names the handler "${handlerOfTask(task)}", which has no Lambda function: export it from src/app/lambda.ts and list it in infra/lib/handlers.ts`,
      );
    }
    return fn;
  }

  private statementsFor(workflow: WorkflowFile, state: string, resource: string, props: StateMachinesProps): iam.PolicyStatement[] {
    const task = functionPlaceholder(resource);
    if (task) {
      const fn = this.functionOf(workflow, `Task state "${state}"`, task, props);
      return [new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [fn.functionArn] })];
    }
    const integration = serviceIntegration(resource);
    const grant = integration ? SERVICE_INTEGRATIONS[integration] : undefined;
    if (!grant) {
      throw new Error(
        `workflows/${workflow.file}: state "${state}" calls ${resource}, which is neither a \${<Name>FunctionArn} nor a service integration infra/lib/service-integrations.ts grants`,
      );
    }
    return grant({ stack: Stack.of(this), bucket: props.bucket });
  }
}
