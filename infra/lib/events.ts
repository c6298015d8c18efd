import { Duration } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { type IFunction } from 'aws-cdk-lib/aws-lambda';
import { type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

export interface EventRulesProps {
  stateMachineArns: string[];
  executionStatusChange: { fn: IFunction; deadLetters: IQueue };
  /** Only with humanReview=a2i. */
  humanLoopStatusChange: { fn: IFunction; deadLetters: IQueue; flowDefinitionArn: string } | null;
}

/** Events the reconciler and the review service act on, from the default bus to their handlers. */
export class EventRules extends Construct {
  readonly executionStatus: events.Rule;
  readonly humanLoopStatus: events.Rule | null = null;

  constructor(scope: Construct, id: string, props: EventRulesProps) {
    super(scope, id);
    const target = ({ fn, deadLetters }: { fn: IFunction; deadLetters: IQueue }) =>
      new targets.LambdaFunction(fn, { deadLetterQueue: deadLetters, retryAttempts: 8, maxEventAge: Duration.hours(6) });
    this.executionStatus = new events.Rule(this, 'ExecutionStatusChange', {
      description: 'vigil: a workflow execution ended; its run or training is brought up to date',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: { stateMachineArn: props.stateMachineArns, status: ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'] },
      },
      targets: [target(props.executionStatusChange)],
    });
    const loops = props.humanLoopStatusChange;
    if (loops) {
      this.humanLoopStatus = new events.Rule(this, 'HumanLoopStatusChange', {
        description: 'vigil: an A2I human loop ended; its answers reach the review task',
        eventPattern: {
          source: ['aws.sagemaker'],
          detailType: ['SageMaker A2I HumanLoop Status Change'],
          detail: { flowDefinitionArn: [loops.flowDefinitionArn], humanLoopStatus: ['Completed', 'Failed', 'Stopped'] },
        },
        targets: [target(loops)],
      });
    }
  }
}
