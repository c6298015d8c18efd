import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface AlarmsProps {
  stateMachines: Record<string, sfn.StateMachine>;
  deadLetters: Record<string, sqs.IQueue>;
  targetGroup: elbv2.ApplicationTargetGroup;
  email: string | null;
}

/** Someone hears of failed executions, events that never reached their handler, and an API without healthy tasks. */
export class Alarms extends Construct {
  readonly topic: sns.Topic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = new sns.Topic(this, 'Topic', { displayName: 'vigil alarms', enforceSSL: true });
    if (props.email) this.topic.addSubscription(new subscriptions.EmailSubscription(props.email));
    const notify = new actions.SnsAction(this.topic);
    const alarm = (name: string, metric: cloudwatch.IMetric, description: string) => {
      const a = new cloudwatch.Alarm(this, name, {
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(notify);
      return a;
    };
    const period = Duration.minutes(5);
    for (const [workflow, machine] of Object.entries(props.stateMachines)) {
      alarm(`${workflow}-failed`, machine.metricFailed({ period }), `vigil: ${workflow} executions failed`);
      alarm(`${workflow}-timed-out`, machine.metricTimedOut({ period }), `vigil: ${workflow} executions timed out`);
    }
    for (const [handler, queue] of Object.entries(props.deadLetters)) {
      alarm(
        `${handler}-dead-letters`,
        queue.metricApproximateNumberOfMessagesVisible({ period }),
        `vigil: ${handler} events were not handled`,
      );
    }
    const unhealthy = props.targetGroup.metrics.unhealthyHostCount({ period, statistic: 'Maximum' });
    alarm('api-unhealthy', unhealthy, 'vigil: an API task fails /readyz');
  }
}
