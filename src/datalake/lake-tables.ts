// The data lake's tables, named once: the Parquet writer and the Glue tables (infra/lib/data-lake.ts) both read these.
// This module imports nothing, so the CDK app can use it without loading the service.

/** A column's type, mapped to a Parquet type by the writer and to a Hive type by the Glue table. */
export type LakeColumnType = 'string' | 'timestamp' | 'double' | 'int' | 'boolean';

export interface LakeColumn {
  name: string;
  type: LakeColumnType;
  /** The SQL expression that reads it (JSON columns are cast to text). */
  sql: string;
  comment?: string;
}

export interface LakeTable {
  name: LakeTableName;
  description: string;
  /** FROM and JOIN clauses; the main table is `t`. */
  from: string;
  /** The keyset the export follows: rows are taken in (cursor, t.id) order, and `dt` is the cursor's UTC date. */
  cursor: string;
  columns: LakeColumn[];
}

export const LAKE_TABLE_NAMES = ['inspections', 'detections', 'anomalies', 'defects', 'review_outcomes'] as const;
export type LakeTableName = (typeof LAKE_TABLE_NAMES)[number];

/** The Hive-style partition every table has: `dt=YYYY-MM-DD`, the UTC date of the row's cursor. */
export const PARTITION_KEY = { name: 'dt', type: 'string', comment: 'UTC date (YYYY-MM-DD) of the row version' } as const;

const col = (name: string, type: LakeColumnType, sql = `t.${name}`, comment?: string): LakeColumn => ({ name, type, sql, comment });
const text = (name: string, sql = `t.${name}`, comment?: string) => col(name, 'string', `(${sql})::text`, comment);
const at = (name: string, sql?: string, comment?: string) => col(name, 'timestamp', sql, comment);

const BOX = [col('box_x', 'double'), col('box_y', 'double'), col('box_width', 'double'), col('box_height', 'double')];

export const LAKE_TABLES: readonly LakeTable[] = [
  {
    name: 'inspections',
    description: 'One row per inspection version: a changed inspection appears again with its new updated_at.',
    from: 'inspections t JOIN devices d ON d.id = t.device_id',
    cursor: 't.updated_at',
    columns: [
      text('id'),
      text('device_id'),
      text('device_external_id', 'd.external_id'),
      text('device_type', 'd.type'),
      text('source'),
      text('status'),
      at('captured_at'),
      text('requested_by'),
      at('created_at'),
      at('updated_at'),
    ],
  },
  {
    name: 'detections',
    description: 'One row per detector judgement of an image (stage SCREEN or INSPECT); detections never change.',
    from: 'detections t JOIN images i ON i.id = t.image_id LEFT JOIN inspections n ON n.id = i.inspection_id',
    cursor: 't.created_at',
    columns: [
      text('id'),
      text('image_id'),
      text('inspection_id', 'i.inspection_id'),
      text('device_id', 'n.device_id'),
      text('survey_id', 'i.survey_id'),
      text('stage'),
      text('detector'),
      text('model_version'),
      col('is_anomalous', 'boolean'),
      col('confidence', 'double'),
      col('cost_usd', 'double'),
      col('calls', 'int'),
      col('inspect_all_cost_usd', 'double', undefined, 'what stage 2 on every image would have cost for this one'),
      text('workflow_run_id'),
      text('result', 't.result', "the detector's output as JSON"),
      at('created_at'),
    ],
  },
  {
    name: 'anomalies',
    description: 'One row per anomaly version (status, severity, defect link); boxes are shares of the image from its top-left corner.',
    from: 'anomalies t',
    cursor: 't.updated_at',
    columns: [
      text('id'),
      text('image_id'),
      text('inspection_id'),
      text('device_id'),
      text('detection_id'),
      text('review_task_id'),
      text('defect_id'),
      col('region_index', 'int'),
      text('type'),
      col('confidence', 'double'),
      ...BOX,
      text('status'),
      text('source'),
      text('severity', 'COALESCE(t.severity_override, t.severity)', 'the override when set, else what the severity rules said'),
      at('created_at'),
      at('updated_at'),
    ],
  },
  {
    name: 'defects',
    description: 'One row per defect version: a defect is a confirmed anomaly followed across surveys until it is resolved.',
    from: 'defects t',
    cursor: 't.updated_at',
    columns: [
      text('id'),
      text('device_id'),
      text('type'),
      text('status'),
      text('severity'),
      col('confirmed', 'boolean'),
      col('confidence', 'double'),
      at('first_seen_at'),
      at('last_seen_at'),
      col('observation_count', 'int'),
      col('first_area', 'double'),
      col('last_area', 'double'),
      ...BOX,
      at('fixed_at'),
      at('resolved_at'),
      col('reopen_count', 'int'),
      at('created_at'),
      at('updated_at'),
    ],
  },
  {
    name: 'review_outcomes',
    description: "One row per reviewer's answer to a review task, with the task's reason; answers never change.",
    from: 'review_answers t JOIN review_tasks r ON r.id = t.task_id',
    cursor: 't.created_at',
    columns: [
      text('id'),
      text('task_id'),
      text('image_id', 'r.image_id'),
      text('inspection_id', 'r.inspection_id'),
      text('detection_id', 'r.detection_id'),
      text('reason', 'r.reason'),
      col('uncertainty', 'double', 'r.uncertainty', '1 = the model could not tell, 0 = it was sure'),
      text('reviewer'),
      text('verdict'),
      text('regions', 't.regions', 'JSON: [{ box: { x, y, width, height }, type }]'),
      at('answered_at', 't.created_at'),
    ],
  },
];

export function lakeTable(name: string): LakeTable {
  const table = LAKE_TABLES.find((t) => t.name === name);
  if (!table) throw new Error(`no data-lake table ${JSON.stringify(name)}; the tables are ${LAKE_TABLE_NAMES.join(', ')}`);
  return table;
}
