import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { WorkflowEngine, WorkflowRunStatus } from '../generated/prisma/enums';
import { Node } from '../graphql/node.type';

export { WorkflowEngine, WorkflowRunStatus };

registerEnumType(WorkflowEngine, {
  name: 'WorkflowEngine',
  valuesConfig: {
    LOCAL: { description: 'In-process, running the same ASL files (aws-local-stepfunctions).' },
    STEP_FUNCTIONS: { description: 'AWS Step Functions.' },
  },
});
registerEnumType(WorkflowRunStatus, { name: 'WorkflowRunStatus' });

@ObjectType('WorkflowProgress')
export class WorkflowProgress {
  @Field(() => Int, { description: 'Images whose judgement is finished (cleared, normal, anomaly, sent to review or skipped).' })
  done: number;

  @Field(() => Int)
  total: number;
}

@ObjectType('WorkflowRun', { implements: Node, description: 'One execution of a workflow definition over an inspection.' })
export class WorkflowRunType extends Node {
  @Field({ description: 'The ASL file it runs, e.g. detect-inspection.' })
  workflow: string;

  @Field(() => WorkflowEngine)
  engine: WorkflowEngine;

  @Field(() => String, { nullable: true, description: "The engine's execution id (a Step Functions execution ARN on AWS)." })
  executionId: string | null;

  @Field(() => WorkflowRunStatus)
  status: WorkflowRunStatus;

  @Field(() => String, { nullable: true, description: 'When FAILED: the error name, e.g. Vigil.DetectorError.' })
  error: string | null;

  @Field(() => String, { nullable: true, description: 'When FAILED: what went wrong, for people.' })
  cause: string | null;

  @Field(() => Date, { nullable: true })
  startedAt: Date | null;

  @Field(() => Date, { nullable: true })
  finishedAt: Date | null;

  @Field()
  createdAt: Date;
}
