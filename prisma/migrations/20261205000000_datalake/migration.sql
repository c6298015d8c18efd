-- The data-lake export's progress, one row per exported table; an export locks its table's row while it writes a batch.
CREATE TABLE "datalake_watermarks" (
    "table" VARCHAR(50) NOT NULL,
    "cursor_at" TIMESTAMPTZ(3),
    "cursor_id" UUID,
    "batches" INTEGER NOT NULL DEFAULT 0,
    "rows" BIGINT NOT NULL DEFAULT 0,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "datalake_watermarks_pkey" PRIMARY KEY ("table")
);

-- The export reads each table in keyset order (its cursor column, then id; detections have that index already):
-- without these, every batch of a large first export would scan the table.
CREATE INDEX "inspections_updated_at_id_idx" ON "inspections"("updated_at", "id");
CREATE INDEX "anomalies_updated_at_id_idx" ON "anomalies"("updated_at", "id");
CREATE INDEX "defects_updated_at_id_idx" ON "defects"("updated_at", "id");
CREATE INDEX "review_answers_created_at_id_idx" ON "review_answers"("created_at", "id");
