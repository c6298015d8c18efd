-- CreateEnum
CREATE TYPE "RejectionReason" AS ENUM ('EMPTY', 'TOO_LARGE', 'UNSUPPORTED_TYPE', 'TOO_MANY_PIXELS', 'TOO_SMALL', 'CORRUPT', 'NOT_UPLOADED', 'SIZE_MISMATCH', 'CHECKSUM_MISMATCH');

-- AlterTable
ALTER TABLE "images" ADD COLUMN "filename" VARCHAR(255),
ADD COLUMN "camera" VARCHAR(200),
ADD COLUMN "rejection_reason" "RejectionReason",
ADD COLUMN "rejection_message" VARCHAR(500),
ADD COLUMN "normalized_key" VARCHAR(500),
ADD COLUMN "thumbnail_key" VARCHAR(500);

-- CreateTable
CREATE TABLE "image_tiles" (
    "id" UUID NOT NULL,
    "image_id" UUID NOT NULL,
    "index" INTEGER NOT NULL,
    "x" INTEGER NOT NULL,
    "y" INTEGER NOT NULL,
    "width" INTEGER NOT NULL,
    "height" INTEGER NOT NULL,
    "object_key" VARCHAR(500) NOT NULL,

    CONSTRAINT "image_tiles_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "image_tiles_image_id_index_key" ON "image_tiles"("image_id", "index");

-- AddForeignKey
ALTER TABLE "image_tiles" ADD CONSTRAINT "image_tiles_image_id_fkey" FOREIGN KEY ("image_id") REFERENCES "images"("id") ON DELETE CASCADE ON UPDATE CASCADE;
