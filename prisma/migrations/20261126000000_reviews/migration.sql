-- CreateEnum
CREATE TYPE "ReviewVerdict" AS ENUM ('NORMAL', 'ANOMALOUS');
CREATE TYPE "DatasetSplit" AS ENUM ('TRAIN', 'TEST');

-- AlterTable
ALTER TABLE "review_tasks" ADD COLUMN "priority" DOUBLE PRECISION NOT NULL DEFAULT 1,
ADD COLUMN "required_answers" INTEGER NOT NULL DEFAULT 1,
ADD COLUMN "escalated" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "claimed_by_key_id" UUID,
ADD COLUMN "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN "verdict" "ReviewVerdict",
ADD COLUMN "completed_at" TIMESTAMPTZ(3),
ADD COLUMN "human_loop_name" VARCHAR(63),
ADD COLUMN "human_loop_count" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN "note" VARCHAR(1000);
UPDATE "review_tasks" SET "priority" = "uncertainty";

ALTER TABLE "anomalies" ADD COLUMN "review_task_id" UUID;

-- CreateTable
CREATE TABLE "review_answers" (
    "id" UUID NOT NULL,
    "task_id" UUID NOT NULL,
    "reviewer" VARCHAR(200) NOT NULL,
    "api_key_id" UUID,
    "verdict" "ReviewVerdict" NOT NULL,
    "regions" JSONB NOT NULL DEFAULT '[]',
    "comment" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "review_answers_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "datasets" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "device_type" VARCHAR(100) NOT NULL,
    "manifest_key" VARCHAR(500),
    "manifest_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "datasets_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "dataset_entries" (
    "id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "review_task_id" UUID,
    "label" "ReviewVerdict" NOT NULL,
    "regions" JSONB NOT NULL DEFAULT '[]',
    "mask_key" VARCHAR(500),
    "split" "DatasetSplit" NOT NULL,
    "synced_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "dataset_entries_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
DROP INDEX "review_tasks_status_uncertainty_created_at_idx";
CREATE INDEX "review_tasks_status_escalated_priority_created_at_idx" ON "review_tasks"("status", "escalated", "priority", "created_at");
CREATE INDEX "review_tasks_completed_at_idx" ON "review_tasks"("completed_at");
CREATE UNIQUE INDEX "review_tasks_human_loop_name_key" ON "review_tasks"("human_loop_name");
CREATE UNIQUE INDEX "anomalies_review_task_id_region_index_key" ON "anomalies"("review_task_id", "region_index");
CREATE UNIQUE INDEX "review_answers_task_id_reviewer_key" ON "review_answers"("task_id", "reviewer");
CREATE INDEX "review_answers_api_key_id_created_at_idx" ON "review_answers"("api_key_id", "created_at");
CREATE INDEX "review_answers_created_at_idx" ON "review_answers"("created_at");
CREATE UNIQUE INDEX "datasets_name_key" ON "datasets"("name");
CREATE INDEX "datasets_device_type_idx" ON "datasets"("device_type");
CREATE UNIQUE INDEX "dataset_entries_dataset_id_image_id_key" ON "dataset_entries"("dataset_id", "image_id");
CREATE INDEX "dataset_entries_dataset_id_created_at_id_idx" ON "dataset_entries"("dataset_id", "created_at", "id");
CREATE INDEX "dataset_entries_dataset_id_synced_at_idx" ON "dataset_entries"("dataset_id", "synced_at");

-- AddForeignKey
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_review_task_id_fkey" FOREIGN KEY ("review_task_id") REFERENCES "review_tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "review_answers" ADD CONSTRAINT "review_answers_task_id_fkey" FOREIGN KEY ("task_id") REFERENCES "review_tasks"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "review_answers" ADD CONSTRAINT "review_answers_api_key_id_fkey" FOREIGN KEY ("api_key_id") REFERENCES "api_keys"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "dataset_entries" ADD CONSTRAINT "dataset_entries_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dataset_entries" ADD CONSTRAINT "dataset_entries_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "dataset_entries" ADD CONSTRAINT "dataset_entries_review_task_id_fkey" FOREIGN KEY ("review_task_id") REFERENCES "review_tasks"("id") ON DELETE SET NULL ON UPDATE CASCADE;
