-- CreateEnum
CREATE TYPE "DeviceStatus" AS ENUM ('OK', 'NEEDS_ATTENTION', 'UNKNOWN', 'DECOMMISSIONED');

-- CreateEnum
CREATE TYPE "InspectionSource" AS ENUM ('MANUAL', 'VEHICLE', 'DRONE');

-- CreateEnum
CREATE TYPE "InspectionStatus" AS ENUM ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED');

-- CreateEnum
CREATE TYPE "ImageStatus" AS ENUM ('PENDING_UPLOAD', 'UPLOADED', 'READY', 'REJECTED');

-- CreateEnum
CREATE TYPE "DetectionStage" AS ENUM ('SCREEN', 'INSPECT');

-- CreateEnum
CREATE TYPE "AnomalyStatus" AS ENUM ('SUSPECTED', 'CONFIRMED', 'REJECTED', 'RESOLVED');

-- CreateEnum
CREATE TYPE "AnomalySource" AS ENUM ('MODEL', 'HUMAN');

-- CreateEnum
CREATE TYPE "Role" AS ENUM ('ADMIN', 'OPERATOR', 'REVIEWER', 'INTEGRATOR');

-- CreateTable
CREATE TABLE "devices" (
    "id" UUID NOT NULL,
    "external_id" VARCHAR(200) NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "type" VARCHAR(100) NOT NULL,
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "status" "DeviceStatus" NOT NULL DEFAULT 'UNKNOWN',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "inspections" (
    "id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "source" "InspectionSource" NOT NULL,
    "status" "InspectionStatus" NOT NULL DEFAULT 'PENDING',
    "captured_at" TIMESTAMPTZ(3) NOT NULL,
    "requested_by" VARCHAR(200) NOT NULL,
    "notes" VARCHAR(2000),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "inspections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "images" (
    "id" UUID NOT NULL,
    "inspection_id" UUID NOT NULL,
    "object_key" VARCHAR(500) NOT NULL,
    "sha256" CHAR(64) NOT NULL,
    "content_type" VARCHAR(100) NOT NULL,
    "bytes" INTEGER NOT NULL,
    "width" INTEGER,
    "height" INTEGER,
    "captured_at" TIMESTAMPTZ(3),
    "latitude" DOUBLE PRECISION,
    "longitude" DOUBLE PRECISION,
    "altitude" DOUBLE PRECISION,
    "status" "ImageStatus" NOT NULL DEFAULT 'PENDING_UPLOAD',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "images_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "detections" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "stage" "DetectionStage" NOT NULL,
    "detector" VARCHAR(100) NOT NULL,
    "model_version" VARCHAR(100) NOT NULL,
    "is_anomalous" BOOLEAN NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "result" JSONB NOT NULL DEFAULT '{}',
    "cost_usd" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "detections_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "anomalies" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "inspection_id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "detection_id" UUID,
    "region_index" INTEGER NOT NULL DEFAULT 0,
    "type" VARCHAR(100) NOT NULL,
    "confidence" DOUBLE PRECISION NOT NULL,
    "box_x" DOUBLE PRECISION NOT NULL,
    "box_y" DOUBLE PRECISION NOT NULL,
    "box_width" DOUBLE PRECISION NOT NULL,
    "box_height" DOUBLE PRECISION NOT NULL,
    "status" "AnomalyStatus" NOT NULL DEFAULT 'SUSPECTED',
    "source" "AnomalySource" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "anomalies_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_keys" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "role" "Role" NOT NULL,
    "prefix" VARCHAR(16) NOT NULL,
    "secret_hash" CHAR(64) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_keys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "devices_external_id_key" ON "devices"("external_id");

-- CreateIndex
CREATE INDEX "devices_status_id_idx" ON "devices"("status", "id");

-- CreateIndex
CREATE INDEX "devices_type_id_idx" ON "devices"("type", "id");

-- CreateIndex
CREATE INDEX "devices_name_id_idx" ON "devices"("name", "id");

-- CreateIndex
CREATE INDEX "devices_created_at_id_idx" ON "devices"("created_at", "id");

-- CreateIndex
CREATE INDEX "devices_latitude_longitude_idx" ON "devices"("latitude", "longitude");

-- CreateIndex
CREATE INDEX "inspections_device_id_captured_at_id_idx" ON "inspections"("device_id", "captured_at", "id");

-- CreateIndex
CREATE INDEX "inspections_status_captured_at_id_idx" ON "inspections"("status", "captured_at", "id");

-- CreateIndex
CREATE INDEX "inspections_captured_at_id_idx" ON "inspections"("captured_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "images_object_key_key" ON "images"("object_key");

-- CreateIndex
CREATE INDEX "images_inspection_id_created_at_id_idx" ON "images"("inspection_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "images_status_id_idx" ON "images"("status", "id");

-- CreateIndex
CREATE UNIQUE INDEX "images_inspection_id_sha256_key" ON "images"("inspection_id", "sha256");

-- CreateIndex
CREATE INDEX "detections_created_at_id_idx" ON "detections"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "detections_image_id_stage_model_version_key" ON "detections"("image_id", "stage", "model_version");

-- CreateIndex
CREATE INDEX "anomalies_device_id_status_created_at_id_idx" ON "anomalies"("device_id", "status", "created_at", "id");

-- CreateIndex
CREATE INDEX "anomalies_inspection_id_created_at_id_idx" ON "anomalies"("inspection_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "anomalies_image_id_created_at_id_idx" ON "anomalies"("image_id", "created_at", "id");

-- CreateIndex
CREATE INDEX "anomalies_status_created_at_id_idx" ON "anomalies"("status", "created_at", "id");

-- CreateIndex
CREATE INDEX "anomalies_status_confidence_id_idx" ON "anomalies"("status", "confidence", "id");

-- CreateIndex
CREATE INDEX "anomalies_type_created_at_id_idx" ON "anomalies"("type", "created_at", "id");

-- CreateIndex
CREATE INDEX "anomalies_created_at_id_idx" ON "anomalies"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "anomalies_detection_id_region_index_key" ON "anomalies"("detection_id", "region_index");

-- CreateIndex
CREATE UNIQUE INDEX "api_keys_secret_hash_key" ON "api_keys"("secret_hash");

-- CreateIndex
CREATE INDEX "api_keys_created_at_id_idx" ON "api_keys"("created_at", "id");

-- AddForeignKey
ALTER TABLE "inspections" ADD CONSTRAINT "inspections_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "images" ADD CONSTRAINT "images_inspection_id_fkey" FOREIGN KEY ("inspection_id") REFERENCES "inspections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "detections" ADD CONSTRAINT "detections_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_inspection_id_fkey" FOREIGN KEY ("inspection_id") REFERENCES "inspections"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_detection_id_fkey" FOREIGN KEY ("detection_id") REFERENCES "detections"("id") ON DELETE SET NULL ON UPDATE CASCADE;
