import { type Logger } from 'pino';
import { type PrismaClient } from '../generated/prisma/client';
import { type WorkflowRunStatus } from '../generated/prisma/enums';
import { type ChildExecution, type ExecutionOutcome, type WorkflowEngine } from '../adapters/workflow-engine/workflow-engine.port';

export interface SettleDeps {
  prisma: PrismaClient;
  engine: WorkflowEngine | null;
  log: Logger;
  fail(runId: string, error: string, cause: string): Promise<unknown>;
}

/**
 * A Distributed Map ended. A child that failed before its MarkFailed state (a catch on States.ALL does not catch
 * States.Runtime) left its run open, and the map tolerated it: the Map Run's children are listed, each open run gets
 * its child's ARN and fails with its child's error. A run no child ran (the map failed before it got there) fails
 * too. Listing errors other than a denial are thrown, so the outcome is reported again (next poll, event retry).
 */
export async function settleSurveyChildren(deps: SettleDeps, outcome: ExecutionOutcome, active: WorkflowRunStatus[]): Promise<void> {
  const open = await deps.prisma.workflowRun.findMany({ where: { parentExecutionId: outcome.executionId, status: { in: active } } });
  if (open.length === 0) return;
  let children: ChildExecution[] = [];
  if (deps.engine?.children) {
    try {
      children = await deps.engine.children(outcome.executionId);
    } catch (err) {
      const name = (err as { name?: string }).name;
      if (name !== 'AccessDeniedException' && name !== 'AccessDenied') throw err;
      deps.log.error(
        { err, executionId: outcome.executionId },
        'Step Functions denied listing the Map Run children (states:ListMapRuns, states:ListExecutions, states:DescribeExecution): their runs fail without their own errors',
      );
    }
  }
  const byRun = new Map(open.map((r) => [r.id, r]));
  const byExecution = new Map(open.filter((r) => r.executionId).map((r) => [r.executionId!, r]));
  const settled = new Set<string>();
  for (const child of children) {
    const run = byExecution.get(child.executionId) ?? (child.runId ? byRun.get(child.runId) : undefined);
    if (!run || child.status === 'SUCCEEDED' || child.status === 'RUNNING') continue;
    settled.add(run.id);
    if (!run.executionId) {
      await deps.prisma.workflowRun.updateMany({ where: { id: run.id, executionId: null }, data: { executionId: child.executionId } });
    }
    await deps.fail(
      run.id,
      child.error ?? `Execution.${child.status}`,
      child.cause ?? `this inspection's child execution ${child.executionId} ended ${child.status} before its MarkFailed state`,
    );
  }
  for (const run of open.filter((r) => !settled.has(r.id))) {
    await deps.fail(
      run.id,
      'Vigil.ChildLost',
      `the survey's execution ended ${outcome.status}${outcome.error ? ` (${outcome.error})` : ''} but this inspection's child execution never settled its run${run.executionId ? ` (${run.executionId})` : ': no child execution of its Map Run ran it'}`,
    );
  }
}
