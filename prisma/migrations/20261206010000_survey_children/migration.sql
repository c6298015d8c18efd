-- A survey run names its Distributed Map execution in its own column; its execution_id is its child execution's ARN,
-- recorded by the child's first step (or found through the Map Run when the map ends).
ALTER TABLE "workflow_runs" ADD COLUMN "parent_execution_id" VARCHAR(500);
CREATE INDEX "workflow_runs_parent_execution_id_idx" ON "workflow_runs"("parent_execution_id");

-- Runs started before this: "<map execution ARN>|<run id>" was a placeholder, not an execution.
UPDATE "workflow_runs"
SET "parent_execution_id" = split_part("execution_id", '|', 1), "execution_id" = NULL
WHERE "execution_id" LIKE '%|%';
