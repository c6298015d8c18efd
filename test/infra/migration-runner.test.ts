// The deploy-time migration runner (infra/runtime/migrations) against a fake ECS: it starts one task, waits for it
// to stop, and fails the deployment when `vigil migrate` exits non-zero.
const { migrationHandlers } = require('../../infra/runtime/migrations/handlers');

class RunTaskCommand {
  constructor(readonly input: any) {}
}
class DescribeTasksCommand {
  constructor(readonly input: any) {}
}

function fakeEcs(answers: any[]) {
  const sent: any[] = [];
  const send = async (command: any) => {
    sent.push(command);
    return answers.shift();
  };
  return { sent, send };
}

const properties = {
  Cluster: 'arn:cluster/vigil',
  TaskDefinition: 'arn:task-definition/migrate:7',
  Subnets: ['subnet-1'],
  SecurityGroups: ['sg-1'],
};
const TASK = 'arn:aws:ecs:eu-west-1:123456789012:task/vigil/abc';

test('a create or update starts one Fargate task of the migration task definition, in private subnets', async () => {
  const ecs = fakeEcs([{ tasks: [{ taskArn: TASK }] }]);
  const { onEvent } = migrationHandlers(ecs, { RunTaskCommand, DescribeTasksCommand });
  expect(await onEvent({ RequestType: 'Update', ResourceProperties: properties })).toEqual({ PhysicalResourceId: TASK });
  expect(ecs.sent).toHaveLength(1);
  expect(ecs.sent[0]).toBeInstanceOf(RunTaskCommand);
  expect(ecs.sent[0].input).toEqual({
    cluster: 'arn:cluster/vigil',
    taskDefinition: 'arn:task-definition/migrate:7',
    launchType: 'FARGATE',
    count: 1,
    startedBy: 'vigil-migrations',
    networkConfiguration: { awsvpcConfiguration: { subnets: ['subnet-1'], securityGroups: ['sg-1'], assignPublicIp: 'DISABLED' } },
  });
});

test('a task ECS could not place fails the deployment with its reasons', async () => {
  const { onEvent } = migrationHandlers(fakeEcs([{ tasks: [], failures: [{ reason: 'RESOURCE:ENI' }] }]), {
    RunTaskCommand,
    DescribeTasksCommand,
  });
  await expect(onEvent({ RequestType: 'Create', ResourceProperties: properties })).rejects.toThrow(/did not start: .*RESOURCE:ENI/);
});

test('the deployment waits while the task runs, goes on when it exits 0, and fails when migrate exits non-zero', async () => {
  const event = { RequestType: 'Create', PhysicalResourceId: TASK, ResourceProperties: properties };
  const ecs = fakeEcs([
    { tasks: [{ lastStatus: 'RUNNING' }] },
    { tasks: [{ lastStatus: 'STOPPED', containers: [{ exitCode: 0 }] }] },
    { tasks: [{ lastStatus: 'STOPPED', containers: [{ exitCode: 1 }], stoppedReason: 'Essential container in task exited' }] },
  ]);
  const { isComplete } = migrationHandlers(ecs, { RunTaskCommand, DescribeTasksCommand });
  expect(await isComplete(event)).toEqual({ IsComplete: false });
  expect(ecs.sent[0].input).toEqual({ cluster: 'arn:cluster/vigil', tasks: [TASK] });
  expect(await isComplete(event)).toEqual({ IsComplete: true });
  await expect(isComplete(event)).rejects.toThrow('vigil migrate failed (exit code 1: Essential container in task exited)');
});

test('deleting the resource runs nothing', async () => {
  const ecs = fakeEcs([]);
  const { onEvent, isComplete } = migrationHandlers(ecs, { RunTaskCommand, DescribeTasksCommand });
  expect(await onEvent({ RequestType: 'Delete', PhysicalResourceId: TASK })).toEqual({ PhysicalResourceId: TASK });
  expect(await isComplete({ RequestType: 'Delete', PhysicalResourceId: TASK })).toEqual({ IsComplete: true });
  expect(ecs.sent).toEqual([]);
});
