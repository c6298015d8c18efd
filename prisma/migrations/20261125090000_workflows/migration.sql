-- CreateEnum
CREATE TYPE "WorkflowEngine" AS ENUM ('LOCAL', 'STEP_FUNCTIONS');
CREATE TYPE "WorkflowRunStatus" AS ENUM ('QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED');
CREATE TYPE "ImageOutcome" AS ENUM ('SKIPPED', 'CLEAR', 'NORMAL', 'ANOMALY', 'UNCERTAIN', 'COLD_START');
CREATE TYPE "ReviewReason" AS ENUM ('COLD_START', 'LOW_CONFIDENCE', 'SAMPLED_QA');
CREATE TYPE "ReviewTaskStatus" AS ENUM ('PENDING', 'CLAIMED', 'COMPLETED', 'EXPIRED', 'CANCELLED');

-- CreateTable
CREATE TABLE "workflow_runs" (
    "id" UUID NOT NULL,
    "inspection_id" UUID NOT NULL,
    "workflow" VARCHAR(50) NOT NULL,
    "engine" "WorkflowEngine" NOT NULL,
    "execution_id" VARCHAR(500),
    "status" "WorkflowRunStatus" NOT NULL DEFAULT 'QUEUED',
    "images_total" INTEGER NOT NULL DEFAULT 0,
    "error" VARCHAR(200),
    "cause" VARCHAR(4000),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "workflow_runs_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "workflow_run_images" (
    "run_id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "outcome" "ImageOutcome" NOT NULL,
    "screen_model_version" VARCHAR(100),
    "inspect_model_version" VARCHAR(100),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "workflow_run_images_pkey" PRIMARY KEY ("run_id", "image_id")
);

CREATE TABLE "review_tasks" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "inspection_id" UUID NOT NULL,
    "detection_id" UUID,
    "reason" "ReviewReason" NOT NULL,
    "status" "ReviewTaskStatus" NOT NULL DEFAULT 'PENDING',
    "uncertainty" DOUBLE PRECISION NOT NULL DEFAULT 1,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "review_tasks_pkey" PRIMARY KEY ("id")
);

-- AlterTable
ALTER TABLE "detections" ADD COLUMN "calls" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "inspect_all_cost_usd" DOUBLE PRECISION NOT NULL DEFAULT 0,
ADD COLUMN "workflow_run_id" UUID;

-- CreateIndex
CREATE UNIQUE INDEX "workflow_runs_execution_id_key" ON "workflow_runs"("execution_id");
CREATE INDEX "workflow_runs_inspection_id_created_at_id_idx" ON "workflow_runs"("inspection_id", "created_at", "id");
CREATE INDEX "workflow_runs_status_engine_idx" ON "workflow_runs"("status", "engine");
CREATE INDEX "workflow_run_images_image_id_idx" ON "workflow_run_images"("image_id");
CREATE UNIQUE INDEX "review_tasks_image_id_reason_key" ON "review_tasks"("image_id", "reason");
CREATE INDEX "review_tasks_status_uncertainty_created_at_idx" ON "review_tasks"("status", "uncertainty", "created_at");
CREATE INDEX "review_tasks_inspection_id_created_at_id_idx" ON "review_tasks"("inspection_id", "created_at", "id");
CREATE INDEX "detections_workflow_run_id_idx" ON "detections"("workflow_run_id");

-- AddForeignKey
ALTER TABLE "workflow_runs" ADD CONSTRAINT "workflow_runs_inspection_id_fkey" FOREIGN KEY ("inspection_id") REFERENCES "inspections"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "workflow_run_images" ADD CONSTRAINT "workflow_run_images_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "workflow_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "workflow_run_images" ADD CONSTRAINT "workflow_run_images_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "review_tasks" ADD CONSTRAINT "review_tasks_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "review_tasks" ADD CONSTRAINT "review_tasks_inspection_id_fkey" FOREIGN KEY ("inspection_id") REFERENCES "inspections"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "review_tasks" ADD CONSTRAINT "review_tasks_detection_id_fkey" FOREIGN KEY ("detection_id") REFERENCES "detections"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "detections" ADD CONSTRAINT "detections_workflow_run_id_fkey" FOREIGN KEY ("workflow_run_id") REFERENCES "workflow_runs"("id") ON DELETE SET NULL ON UPDATE CASCADE;
