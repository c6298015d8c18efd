-- One box shape: stored region boxes become the API's Box {x, y, width, height} (shares of the image
-- from its top-left corner); they were {left, top, width, height}. Review answers and dataset entries
-- keep their regions as JSON, [{ "box": {…}, "type": "…" }, …]. Only boxes that still have "left" are
-- rewritten, so a second run changes nothing. Detection results keep the detectors' own boxes.
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
