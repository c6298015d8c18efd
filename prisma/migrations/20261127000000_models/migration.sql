-- CreateEnum
CREATE TYPE "ModelProfile" AS ENUM ('SCREEN', 'INSPECT');
CREATE TYPE "ModelStatus" AS ENUM ('TRAINING', 'TRAINED', 'FAILED');
CREATE TYPE "ModelTrigger" AS ENUM ('MANUAL', 'AUTO_LABELS', 'AUTO_SCHEDULE');
CREATE TYPE "DeploymentAction" AS ENUM ('DEPLOY', 'ROLLBACK');

-- Imported entries have no vigil image: their picture is at source_key.
ALTER TABLE "dataset_entries" ALTER COLUMN "image_id" DROP NOT NULL,
ADD COLUMN "source_key" VARCHAR(500);
ALTER TABLE "dataset_entries" ADD CONSTRAINT "dataset_entries_image_or_source" CHECK ("image_id" IS NOT NULL OR "source_key" IS NOT NULL);

-- A run judges each device type with the versions it started with.
ALTER TABLE "workflow_runs" ADD COLUMN "model_versions" JSONB;

-- CreateTable
CREATE TABLE "model_versions" (
    "id" UUID NOT NULL,
    "dataset_id" UUID NOT NULL,
    "device_type" VARCHAR(100) NOT NULL,
    "profile" "ModelProfile" NOT NULL,
    "status" "ModelStatus" NOT NULL DEFAULT 'TRAINING',
    "trainer" VARCHAR(50) NOT NULL,
    "trigger" "ModelTrigger" NOT NULL DEFAULT 'MANUAL',
    "params" JSONB NOT NULL DEFAULT '{}',
    "version" VARCHAR(100),
    "external_id" VARCHAR(500),
    "external_version" VARCHAR(500),
    "artifact_key" VARCHAR(500),
    "artifact_uri" VARCHAR(1000),
    "artifact_bytes" INTEGER,
    "artifact_sha256" VARCHAR(64),
    "trained_on" JSONB,
    "metrics" JSONB,
    "thresholds" JSONB,
    "execution_id" VARCHAR(500),
    "error" VARCHAR(200),
    "cause" VARCHAR(4000),
    "requested_by" VARCHAR(200),
    "started_at" TIMESTAMPTZ(3),
    "finished_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "model_versions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "model_deployments" (
    "id" UUID NOT NULL,
    "device_type" VARCHAR(100) NOT NULL,
    "profile" "ModelProfile" NOT NULL,
    "model_version_id" UUID NOT NULL,
    "previous_version_id" UUID,
    "action" "DeploymentAction" NOT NULL,
    "overridden" BOOLEAN NOT NULL DEFAULT false,
    "reason" VARCHAR(1000),
    "gate" JSONB NOT NULL DEFAULT '{}',
    "deployed_by" VARCHAR(200),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "model_deployments_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "active_models" (
    "device_type" VARCHAR(100) NOT NULL,
    "profile" "ModelProfile" NOT NULL,
    "model_version_id" UUID NOT NULL,
    "deployment_id" UUID NOT NULL,
    "drifting" BOOLEAN NOT NULL DEFAULT false,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "active_models_pkey" PRIMARY KEY ("device_type", "profile")
);

-- CreateIndex
CREATE UNIQUE INDEX "dataset_entries_dataset_id_source_key_key" ON "dataset_entries"("dataset_id", "source_key");
CREATE UNIQUE INDEX "model_versions_execution_id_key" ON "model_versions"("execution_id");
CREATE INDEX "model_versions_device_type_profile_created_at_id_idx" ON "model_versions"("device_type", "profile", "created_at", "id");
CREATE INDEX "model_versions_dataset_id_profile_created_at_idx" ON "model_versions"("dataset_id", "profile", "created_at");
CREATE INDEX "model_versions_status_idx" ON "model_versions"("status");
-- Never two trainings of one dataset's model at once: a second start collides here.
CREATE UNIQUE INDEX "model_versions_one_training" ON "model_versions"("dataset_id", "profile") WHERE "status" = 'TRAINING';
CREATE INDEX "model_deployments_device_type_profile_created_at_id_idx" ON "model_deployments"("device_type", "profile", "created_at", "id");
CREATE INDEX "model_deployments_model_version_id_idx" ON "model_deployments"("model_version_id");
CREATE INDEX "active_models_model_version_id_idx" ON "active_models"("model_version_id");
CREATE INDEX "active_models_deployment_id_idx" ON "active_models"("deployment_id");

-- AddForeignKey
ALTER TABLE "model_versions" ADD CONSTRAINT "model_versions_dataset_id_fkey" FOREIGN KEY ("dataset_id") REFERENCES "datasets"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "model_deployments" ADD CONSTRAINT "model_deployments_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "model_deployments" ADD CONSTRAINT "model_deployments_previous_version_id_fkey" FOREIGN KEY ("previous_version_id") REFERENCES "model_versions"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "active_models" ADD CONSTRAINT "active_models_model_version_id_fkey" FOREIGN KEY ("model_version_id") REFERENCES "model_versions"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "active_models" ADD CONSTRAINT "active_models_deployment_id_fkey" FOREIGN KEY ("deployment_id") REFERENCES "model_deployments"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
