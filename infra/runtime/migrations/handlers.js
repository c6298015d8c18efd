// What the migration runner does, apart from the SDK client so a test can drive it with a fake ECS.

/** onEvent starts `vigil migrate` as a Fargate task; isComplete waits for it and fails on a non-zero exit. */
exports.migrationHandlers = (ecs, { RunTaskCommand, DescribeTasksCommand }) => ({
  onEvent: async (event) => {
    if (event.RequestType === 'Delete') return { PhysicalResourceId: event.PhysicalResourceId };
    const p = event.ResourceProperties;
    const started = await ecs.send(
      new RunTaskCommand({
        cluster: p.Cluster,
        taskDefinition: p.TaskDefinition,
        launchType: 'FARGATE',
        count: 1,
        startedBy: 'vigil-migrations',
        networkConfiguration: { awsvpcConfiguration: { subnets: p.Subnets, securityGroups: p.SecurityGroups, assignPublicIp: 'DISABLED' } },
      }),
    );
    const task = started.tasks?.[0];
    if (!task) throw new Error(`the migration task did not start: ${JSON.stringify(started.failures ?? [])}`);
    // Each run is its own physical resource; the previous one's Delete is a no-op.
    return { PhysicalResourceId: task.taskArn };
  },

  isComplete: async (event) => {
    if (event.RequestType === 'Delete') return { IsComplete: true };
    const cluster = event.ResourceProperties.Cluster;
    const { tasks } = await ecs.send(new DescribeTasksCommand({ cluster, tasks: [event.PhysicalResourceId] }));
    const task = tasks?.[0];
    if (task?.lastStatus !== 'STOPPED') return { IsComplete: false };
    const exitCode = task.containers?.[0]?.exitCode;
    if (exitCode !== 0) {
      throw new Error(
        `vigil migrate failed (exit code ${exitCode ?? 'none'}: ${task.stoppedReason ?? 'no reason given'}); its output is in the Migrate log group`,
      );
    }
    return { IsComplete: true };
  },
});
