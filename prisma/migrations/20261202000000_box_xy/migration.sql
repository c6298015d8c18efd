-- One box shape: stored region boxes become the API's Box {x, y, width, height} (shares of the image
-- from its top-left corner); they were {left, top, width, height}. Review answers and dataset entries
-- keep their regions as JSON, [{ "box": {…}, "type": "…" }, …]; detection results keep boxes at three
-- places (below). Only boxes that still have "left" are rewritten, so a second run changes nothing.
UPDATE "review_answers" AS t
SET "regions" = (
    SELECT jsonb_agg(
        CASE WHEN jsonb_typeof(r -> 'box') = 'object' AND (r -> 'box' -> 'left') IS NOT NULL
            THEN jsonb_set(r, '{box}', ((r -> 'box') - 'left' - 'top') || jsonb_build_object('x', r -> 'box' -> 'left', 'y', r -> 'box' -> 'top'))
            ELSE r
        END ORDER BY i)
    FROM jsonb_array_elements(t."regions") WITH ORDINALITY AS e(r, i)
)
WHERE jsonb_typeof(t."regions") = 'array' AND jsonb_path_exists(t."regions", '$[*].box.left');

UPDATE "dataset_entries" AS t
SET "regions" = (
    SELECT jsonb_agg(
        CASE WHEN jsonb_typeof(r -> 'box') = 'object' AND (r -> 'box' -> 'left') IS NOT NULL
            THEN jsonb_set(r, '{box}', ((r -> 'box') - 'left' - 'top') || jsonb_build_object('x', r -> 'box' -> 'left', 'y', r -> 'box' -> 'top'))
            ELSE r
        END ORDER BY i)
    FROM jsonb_array_elements(t."regions") WITH ORDINALITY AS e(r, i)
)
WHERE jsonb_typeof(t."regions") = 'array' AND jsonb_path_exists(t."regions", '$[*].box.left');

-- Detection results ("detections"."result", written by src/detections/detection.service.ts):
--   stage 2 (INSPECT): $.regions[*].box   the regions found, in the whole image
--                      $.pictures[*].frame each judged picture's (tile's) place in the image, also the heatmap's frame
--   stage 1 (SCREEN):  $.pictures[*].labels[*].boxes[*]   the screen's label boxes, in the whole image
-- Each picture's "raw" is the detector's own answer (Rekognition's BoundingBox has Left/Top) and stays as it is.
UPDATE "detections" AS t
SET "result" = t."result"
    || CASE WHEN jsonb_typeof(t."result" -> 'regions') = 'array' THEN jsonb_build_object('regions', (
        SELECT COALESCE(jsonb_agg(
            CASE WHEN jsonb_typeof(r -> 'box') = 'object' AND (r -> 'box' -> 'left') IS NOT NULL
                THEN jsonb_set(r, '{box}', ((r -> 'box') - 'left' - 'top') || jsonb_build_object('x', r -> 'box' -> 'left', 'y', r -> 'box' -> 'top'))
                ELSE r
            END ORDER BY i), '[]'::jsonb)
        FROM jsonb_array_elements(t."result" -> 'regions') WITH ORDINALITY AS e(r, i)
    )) ELSE '{}'::jsonb END
    || CASE WHEN jsonb_typeof(t."result" -> 'pictures') = 'array' THEN jsonb_build_object('pictures', (
        SELECT COALESCE(jsonb_agg(
            CASE WHEN jsonb_typeof(p) = 'object' THEN p
                || CASE WHEN jsonb_typeof(p -> 'frame') = 'object' AND (p -> 'frame' -> 'left') IS NOT NULL
                    THEN jsonb_build_object('frame', ((p -> 'frame') - 'left' - 'top') || jsonb_build_object('x', p -> 'frame' -> 'left', 'y', p -> 'frame' -> 'top'))
                    ELSE '{}'::jsonb
                END
                || CASE WHEN jsonb_typeof(p -> 'labels') = 'array' THEN jsonb_build_object('labels', (
                    SELECT COALESCE(jsonb_agg(
                        CASE WHEN jsonb_typeof(l) = 'object' AND jsonb_typeof(l -> 'boxes') = 'array' THEN l || jsonb_build_object('boxes', (
                            SELECT COALESCE(jsonb_agg(
                                CASE WHEN jsonb_typeof(b) = 'object' AND (b -> 'left') IS NOT NULL
                                    THEN (b - 'left' - 'top') || jsonb_build_object('x', b -> 'left', 'y', b -> 'top')
                                    ELSE b
                                END ORDER BY k), '[]'::jsonb)
                            FROM jsonb_array_elements(l -> 'boxes') WITH ORDINALITY AS g(b, k)
                        ))
                        ELSE l
                    END ORDER BY j), '[]'::jsonb)
                    FROM jsonb_array_elements(p -> 'labels') WITH ORDINALITY AS f(l, j)
                )) ELSE '{}'::jsonb END
            ELSE p
            END ORDER BY i), '[]'::jsonb)
        FROM jsonb_array_elements(t."result" -> 'pictures') WITH ORDINALITY AS e(p, i)
    )) ELSE '{}'::jsonb END
WHERE jsonb_typeof(t."result") = 'object' AND (
    jsonb_path_exists(t."result", '$.regions[*].box.left')
    OR jsonb_path_exists(t."result", '$.pictures[*].frame.left')
    OR jsonb_path_exists(t."result", '$.pictures[*].labels[*].boxes[*].left'));
