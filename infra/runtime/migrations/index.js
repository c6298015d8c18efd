// A deploy-time custom resource: runs vigil's migrations as a one-off ECS task and waits for it,
// so a failed migration fails the deployment before new API tasks and functions start (Lambdas never migrate).
// The AWS SDK v3 comes with the Node.js 22 Lambda runtime.
const { DescribeTasksCommand, ECSClient, RunTaskCommand } = require('@aws-sdk/client-ecs');
const { migrationHandlers } = require('./handlers');

module.exports = migrationHandlers(new ECSClient({}), { DescribeTasksCommand, RunTaskCommand });
