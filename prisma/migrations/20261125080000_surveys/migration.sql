-- CreateEnum
CREATE TYPE "DeviceMatch" AS ENUM ('PENDING', 'MATCHED', 'ASSIGNED', 'NO_GPS', 'OUT_OF_RANGE', 'AMBIGUOUS');

-- CreateTable
CREATE TABLE "surveys" (
    "id" UUID NOT NULL,
    "name" VARCHAR(200) NOT NULL,
    "source" "InspectionSource" NOT NULL,
    "requested_by" VARCHAR(200) NOT NULL,
    "idempotency_key" VARCHAR(100),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "surveys_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "surveys_idempotency_key_key" ON "surveys"("idempotency_key");
CREATE INDEX "surveys_created_at_id_idx" ON "surveys"("created_at", "id");

-- AlterTable
ALTER TABLE "images" ALTER COLUMN "inspection_id" DROP NOT NULL,
ADD COLUMN "survey_id" UUID,
ADD COLUMN "device_match" "DeviceMatch",
ADD COLUMN "match_distance_m" DOUBLE PRECISION;

-- Every image belongs to an inspection, or to a survey until it finds its device.
ALTER TABLE "images" ADD CONSTRAINT "images_inspection_or_survey_check" CHECK ("inspection_id" IS NOT NULL OR "survey_id" IS NOT NULL);

-- CreateIndex
CREATE UNIQUE INDEX "images_survey_id_sha256_key" ON "images"("survey_id", "sha256");
CREATE INDEX "images_device_match_created_at_id_idx" ON "images"("device_match", "created_at", "id");

-- AddForeignKey
ALTER TABLE "images" ADD CONSTRAINT "images_survey_id_fkey" FOREIGN KEY ("survey_id") REFERENCES "surveys"("id") ON DELETE CASCADE ON UPDATE CASCADE;
