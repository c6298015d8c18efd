-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- AlterTable
ALTER TABLE "inspections" ADD COLUMN "idempotency_key" VARCHAR(100);

-- CreateIndex
CREATE INDEX "devices_name_idx" ON "devices" USING GIN ("name" gin_trgm_ops);

-- CreateIndex
CREATE INDEX "devices_external_id_idx" ON "devices" USING GIN ("external_id" gin_trgm_ops);

-- CreateIndex
CREATE UNIQUE INDEX "inspections_device_id_idempotency_key_key" ON "inspections"("device_id", "idempotency_key");
