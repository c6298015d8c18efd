-- A run started by itself (after an upload completed, or as the follow-up of a run that ended) judges only the images
-- no run has judged yet; a run an operator starts judges every image again.
ALTER TABLE "workflow_runs" ADD COLUMN "only_unjudged" BOOLEAN NOT NULL DEFAULT false;
