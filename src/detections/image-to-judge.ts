import { type Detection, type Image, type ImageTile, type PrismaClient } from '../generated/prisma/client';
import { type DetectionStage } from '../generated/prisma/enums';
import { jsonModelOf } from '../common/pagination/json-models';
import { toRow } from '../common/pagination/json-model';
import { type ImageWithDevice } from './pictures';

const IMAGE = jsonModelOf('images')!;
const TILE = jsonModelOf('image_tiles')!;
const DETECTION = jsonModelOf('detections')!;

// Inside the tiles' subquery `t` is the tile: the image is named by the parameter, not by the outer row.
const SQL = `SELECT json_build_object(
  'image', ${IMAGE.select},
  'tiles', (SELECT coalesce(json_agg(${TILE.select} ORDER BY t."index"), '[]'::json) FROM "image_tiles" t WHERE t."image_id" = $1::uuid),
  'detections', (SELECT coalesce(json_agg(${DETECTION.select} ORDER BY t."created_at" DESC, t."id" DESC), '[]'::json)
    FROM "detections" t WHERE t."image_id" = $1::uuid AND t."stage"::text = ANY($2::text[])),
  'inspectionId', i."id", 'deviceId', i."device_id", 'deviceType', d."type"
)::text AS row
FROM "images" t
LEFT JOIN "inspections" i ON i."id" = t."inspection_id"
LEFT JOIN "devices" d ON d."id" = i."device_id"
WHERE t."id" = $1::uuid`;

interface Row {
  image: unknown[];
  tiles: unknown[][];
  detections: unknown[][];
  inspectionId: string | null;
  deviceId: string | null;
  deviceType: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * An image as a workflow step judges it — its tiles in order, the device its inspection is of, and its detections
 * of `stages`, newest first — in one statement: every step of every image reads it, and Prisma's include took four
 * (and the step's own detection lookups one or two more). Null when there is no such image; `owner` is null while
 * a survey image has not found its device.
 */
export async function imageToJudge(
  prisma: PrismaClient,
  id: string,
  stages: readonly DetectionStage[] = [],
): Promise<{
  image: Image & { tiles: ImageTile[] };
  owner: Pick<ImageWithDevice, 'inspectionId' | 'deviceId' | 'deviceType'> | null;
  detections: Detection[];
} | null> {
  if (!UUID.test(id)) return null;
  const [found] = await prisma.$queryRawUnsafe<{ row: string }[]>(SQL, id, stages);
  if (!found) return null;
  const row = JSON.parse(found.row) as Row;
  const image = { ...toRow<Image>(row.image, IMAGE), tiles: row.tiles.map((t) => toRow<ImageTile>(t, TILE)) };
  const owner =
    row.inspectionId && row.deviceId && row.deviceType != null
      ? { inspectionId: row.inspectionId, deviceId: row.deviceId, deviceType: row.deviceType }
      : null;
  return { image, owner, detections: row.detections.map((d) => toRow<Detection>(d, DETECTION)) };
}
