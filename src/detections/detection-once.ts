import { v7 as uuidv7 } from 'uuid';
import { type Detection, type PrismaClient } from '../generated/prisma/client';
import { type DetectionStage, type ImageOutcome } from '../generated/prisma/enums';
import { createOnce } from '../db/prisma-errors';
import { jsonModelOf } from '../common/pagination/json-models';
import { toRow } from '../common/pagination/json-model';

const DETECTION = jsonModelOf('detections')!;

// The detection, and the run's outcome for its image only if the detection was made here: on the unique key's
// conflict (another attempt made it) `d` is empty, nothing is written and no row comes back.
const SQL = `WITH d AS (
  INSERT INTO "detections" ("id", "image_id", "stage", "detector", "model_version", "is_anomalous", "confidence", "result",
    "cost_usd", "calls", "inspect_all_cost_usd", "workflow_run_id")
  VALUES ($1::uuid, $2::uuid, $3::text::"DetectionStage", $4, $5, $6::boolean, $7::double precision, $8::jsonb,
    $9::double precision, $10::int, $11::double precision, $12::uuid)
  ON CONFLICT ("image_id", "stage", "model_version") DO NOTHING
  RETURNING *
), o AS (
  INSERT INTO "workflow_run_images" ("run_id", "image_id", "outcome", "screen_model_version", "inspect_model_version")
  SELECT $12::uuid, $2::uuid, $13::text::"ImageOutcome", $14, $15 FROM d
  ON CONFLICT ("run_id", "image_id") DO UPDATE SET "outcome" = EXCLUDED."outcome",
    "screen_model_version" = EXCLUDED."screen_model_version", "inspect_model_version" = EXCLUDED."inspect_model_version"
)
SELECT ${DETECTION.select}::text AS row FROM d t`;

/** A judgement as a detection stores it. */
export type JudgedDetection = Pick<
  Detection,
  'detector' | 'modelVersion' | 'isAnomalous' | 'confidence' | 'costUsd' | 'calls' | 'inspectAllCostUsd'
> & { result: object };

/** The run's outcome for an image whose path the judgement ends (a screen that clears it, an inspection that finds it normal). */
export interface FinalOutcome {
  outcome: ImageOutcome;
  screenModelVersion: string | null;
  inspectModelVersion: string | null;
}

/**
 * Creates a detection and the run's outcome for its image in one statement, where they took two (the step that
 * clears an image writes nothing else). Null, with nothing written, when the image already has a detection of this
 * stage and model version: the caller reads that one and records the outcome itself, as a replayed step does.
 */
export async function createDetectionWithOutcome(
  prisma: PrismaClient,
  at: { imageId: string; stage: DetectionStage; runId: string },
  judged: JudgedDetection,
  final: FinalOutcome,
): Promise<Detection | null> {
  const [made] = await prisma.$queryRawUnsafe<{ row: string }[]>(
    SQL,
    uuidv7(),
    at.imageId,
    at.stage,
    judged.detector,
    judged.modelVersion,
    judged.isAnomalous,
    judged.confidence,
    JSON.stringify(judged.result),
    judged.costUsd,
    judged.calls,
    judged.inspectAllCostUsd,
    at.runId,
    final.outcome,
    final.screenModelVersion,
    final.inspectModelVersion,
  );
  return made ? toRow<Detection>(JSON.parse(made.row) as unknown[], DETECTION) : null;
}

/**
 * The detection of this (image, stage, version), judged now only if it does not exist yet. `read`: the image's
 * detections of this stage as read with it, where the earlier judgement is looked for before the detector is
 * called (and paid); an attempt that wins a race to create it is then found on the unique key. `final`: the run's
 * outcome for the image when this verdict ends its path, written with the detection (`outcomeRecorded`); a detection
 * found instead of made leaves the outcome to the caller.
 */
export async function detectionOnce(
  prisma: PrismaClient,
  at: { imageId: string; stage: DetectionStage; modelVersion: string; runId: string },
  read: Detection[],
  judge: () => Promise<JudgedDetection>,
  final?: (judged: JudgedDetection) => FinalOutcome | null,
): Promise<{ detection: Detection; outcomeRecorded: boolean }> {
  const { imageId, stage, modelVersion, runId } = at;
  const key = { imageId_stage_modelVersion: { imageId, stage, modelVersion } };
  let first = true;
  let outcomeRecorded = false;
  const detection = await createOnce(
    modelVersion,
    async () => {
      if (!first) return prisma.detection.findUnique({ where: key });
      first = false;
      return read.find((d) => d.modelVersion === modelVersion) ?? null;
    },
    async () => {
      const judged = await judge();
      const outcome = final?.(judged);
      if (outcome) {
        const made = await createDetectionWithOutcome(prisma, { imageId, stage, runId }, judged, outcome);
        outcomeRecorded = made !== null;
        // Another attempt made it: read on the key the insert met (the version the detector gave).
        return (
          made ??
          prisma.detection.findUniqueOrThrow({
            where: { imageId_stage_modelVersion: { imageId, stage, modelVersion: judged.modelVersion } },
          })
        );
      }
      return prisma.detection.create({ data: { ...judged, imageId, stage, workflowRunId: runId, result: judged.result as never } });
    },
  );
  return { detection, outcomeRecorded };
}
