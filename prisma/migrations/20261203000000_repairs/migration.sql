-- Repairs: severity, defects followed across surveys, work orders and what crews found.
CREATE TYPE "Severity" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
CREATE TYPE "Criticality" AS ENUM ('LOW', 'MEDIUM', 'HIGH', 'CRITICAL');
CREATE TYPE "DefectStatus" AS ENUM ('OPEN', 'FIXED', 'RESOLVED', 'DISMISSED');
CREATE TYPE "WorkOrderStatus" AS ENUM ('OPEN', 'SCHEDULED', 'IN_PROGRESS', 'DONE', 'CANCELLED');
CREATE TYPE "WorkOrderPriority" AS ENUM ('LOW', 'NORMAL', 'HIGH', 'URGENT');
CREATE TYPE "FieldFinding" AS ENUM ('FIXED', 'NOTHING_FOUND', 'DIFFERENT_PROBLEM');

ALTER TABLE "devices" ADD COLUMN "criticality" "Criticality" NOT NULL DEFAULT 'MEDIUM';

ALTER TABLE "anomalies"
ADD COLUMN "defect_id" UUID,
ADD COLUMN "severity" "Severity",
ADD COLUMN "severity_override" "Severity",
ADD COLUMN "severity_reason" VARCHAR(1000),
ADD COLUMN "severity_set_by" VARCHAR(200),
ADD COLUMN "severity_set_at" TIMESTAMPTZ(3);

CREATE TABLE "severity_rules" (
    "id" UUID NOT NULL,
    "device_type" VARCHAR(100) NOT NULL,
    "anomaly_type" VARCHAR(100) NOT NULL,
    "min_area_share" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "min_confidence" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "severity" "Severity" NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "severity_rules_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "defects" (
    "id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "type" VARCHAR(100) NOT NULL,
    "status" "DefectStatus" NOT NULL DEFAULT 'OPEN',
    "severity" "Severity" NOT NULL,
    "confirmed" BOOLEAN NOT NULL DEFAULT false,
    "confidence" DOUBLE PRECISION NOT NULL,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL,
    "observation_count" INTEGER NOT NULL DEFAULT 1,
    "first_area" DOUBLE PRECISION NOT NULL,
    "last_area" DOUBLE PRECISION NOT NULL,
    "box_x" DOUBLE PRECISION NOT NULL,
    "box_y" DOUBLE PRECISION NOT NULL,
    "box_width" DOUBLE PRECISION NOT NULL,
    "box_height" DOUBLE PRECISION NOT NULL,
    "fixed_at" TIMESTAMPTZ(3),
    "resolved_at" TIMESTAMPTZ(3),
    "resolved_by" VARCHAR(200),
    "resolution" VARCHAR(1000),
    "reopen_count" INTEGER NOT NULL DEFAULT 0,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "defects_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "work_orders" (
    "id" UUID NOT NULL,
    "device_id" UUID NOT NULL,
    "status" "WorkOrderStatus" NOT NULL DEFAULT 'OPEN',
    "priority" "WorkOrderPriority" NOT NULL DEFAULT 'NORMAL',
    "due_at" TIMESTAMPTZ(3),
    "assignee" VARCHAR(200),
    "notes" VARCHAR(4000),
    "idempotency_key" VARCHAR(200),
    "automatic" BOOLEAN NOT NULL DEFAULT false,
    "flagged" BOOLEAN NOT NULL DEFAULT false,
    "flag_reason" VARCHAR(1000),
    "created_by" VARCHAR(200) NOT NULL,
    "completed_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "work_orders_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "work_order_defects" (
    "work_order_id" UUID NOT NULL,
    "defect_id" UUID NOT NULL,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "finding" "FieldFinding",
    "corrected_type" VARCHAR(100),
    "note" VARCHAR(1000),
    "dataset_entry_id" UUID,

    CONSTRAINT "work_order_defects_pkey" PRIMARY KEY ("work_order_id", "defect_id")
);

CREATE TABLE "work_order_transitions" (
    "id" UUID NOT NULL,
    "work_order_id" UUID NOT NULL,
    "from_status" "WorkOrderStatus",
    "to_status" "WorkOrderStatus" NOT NULL,
    "by" VARCHAR(200) NOT NULL,
    "note" VARCHAR(1000),
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "work_order_transitions_pkey" PRIMARY KEY ("id")
);

CREATE TABLE "auto_work_order_rules" (
    "device_type" VARCHAR(100) NOT NULL,
    "min_severity" "Severity" NOT NULL,
    "priority" "WorkOrderPriority" NOT NULL DEFAULT 'NORMAL',
    "due_in_days" INTEGER,
    "enabled" BOOLEAN NOT NULL DEFAULT true,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "auto_work_order_rules_pkey" PRIMARY KEY ("device_type")
);

CREATE INDEX "anomalies_defect_id_created_at_id_idx" ON "anomalies"("defect_id", "created_at", "id");
CREATE UNIQUE INDEX "severity_rules_device_type_anomaly_type_min_area_share_min_confidence_key" ON "severity_rules"("device_type", "anomaly_type", "min_area_share", "min_confidence");
CREATE INDEX "defects_device_id_status_type_idx" ON "defects"("device_id", "status", "type");
CREATE INDEX "defects_status_created_at_id_idx" ON "defects"("status", "created_at", "id");
CREATE INDEX "defects_created_at_id_idx" ON "defects"("created_at", "id");
CREATE UNIQUE INDEX "work_orders_idempotency_key_key" ON "work_orders"("idempotency_key");
CREATE INDEX "work_orders_status_created_at_id_idx" ON "work_orders"("status", "created_at", "id");
CREATE INDEX "work_orders_device_id_created_at_id_idx" ON "work_orders"("device_id", "created_at", "id");
CREATE INDEX "work_orders_created_at_id_idx" ON "work_orders"("created_at", "id");
CREATE INDEX "work_order_defects_defect_id_idx" ON "work_order_defects"("defect_id");
CREATE INDEX "work_order_defects_dataset_entry_id_idx" ON "work_order_defects"("dataset_entry_id");
-- A defect is in at most one active work order: a second plan for it collides here.
CREATE UNIQUE INDEX "work_order_defects_one_active" ON "work_order_defects"("defect_id") WHERE "active";
CREATE INDEX "work_order_transitions_work_order_id_at_idx" ON "work_order_transitions"("work_order_id", "at");

ALTER TABLE "anomalies" ADD CONSTRAINT "anomalies_defect_id_fkey" FOREIGN KEY ("defect_id") REFERENCES "defects"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "defects" ADD CONSTRAINT "defects_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "work_orders" ADD CONSTRAINT "work_orders_device_id_fkey" FOREIGN KEY ("device_id") REFERENCES "devices"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "work_order_defects" ADD CONSTRAINT "work_order_defects_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;
ALTER TABLE "work_order_defects" ADD CONSTRAINT "work_order_defects_defect_id_fkey" FOREIGN KEY ("defect_id") REFERENCES "defects"("id") ON DELETE RESTRICT ON UPDATE CASCADE;
ALTER TABLE "work_order_defects" ADD CONSTRAINT "work_order_defects_dataset_entry_id_fkey" FOREIGN KEY ("dataset_entry_id") REFERENCES "dataset_entries"("id") ON DELETE SET NULL ON UPDATE CASCADE;
ALTER TABLE "work_order_transitions" ADD CONSTRAINT "work_order_transitions_work_order_id_fkey" FOREIGN KEY ("work_order_id") REFERENCES "work_orders"("id") ON DELETE CASCADE ON UPDATE CASCADE;
