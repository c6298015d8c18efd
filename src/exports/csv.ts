import { pipeline, Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import { toGlobalId } from '../common/global-id';
import { rank } from '../repairs/severity';
import { toRepairId } from '../repairs/repair-ids';
import { type DefectRow, type DeviceColumns, type WorkOrderRow } from './export-rows';

type Cell = string | number | boolean | Date | null;
type Columns<T> = Record<string, (row: T) => Cell>;

const deviceColumns = <T extends { device: DeviceColumns }>(): Columns<T> => ({
  device_id: (r) => toGlobalId('Device', r.device.id),
  device_external_id: (r) => r.device.externalId,
  device_name: (r) => r.device.name,
  device_type: (r) => r.device.type,
  device_status: (r) => r.device.status,
  device_criticality: (r) => r.device.criticality,
  latitude: (r) => r.device.latitude,
  longitude: (r) => r.device.longitude,
});

export const DEFECT_COLUMNS: Columns<DefectRow> = {
  defect_id: (d) => toRepairId('Defect', d.id),
  ...deviceColumns<DefectRow>(),
  type: (d) => d.type,
  status: (d) => d.status,
  severity: (d) => d.severity,
  confirmed: (d) => d.confirmed,
  confidence: (d) => d.confidence,
  first_seen_at: (d) => d.firstSeenAt,
  last_seen_at: (d) => d.lastSeenAt,
  observation_count: (d) => d.observationCount,
  first_area: (d) => d.firstArea,
  last_area: (d) => d.lastArea,
  growth: (d) => (d.firstArea > 0 ? d.lastArea / d.firstArea : 1),
  reopen_count: (d) => d.reopenCount,
  work_order_id: (d) => (d.activeWorkOrderId ? toRepairId('WorkOrder', d.activeWorkOrderId) : null),
  fixed_at: (d) => d.fixedAt,
  resolved_at: (d) => d.resolvedAt,
  resolved_by: (d) => d.resolvedBy,
  resolution: (d) => d.resolution,
};

export const WORK_ORDER_COLUMNS: Columns<WorkOrderRow> = {
  work_order_id: (w) => toRepairId('WorkOrder', w.id),
  status: (w) => w.status,
  priority: (w) => w.priority,
  due_at: (w) => w.dueAt,
  assignee: (w) => w.assignee,
  notes: (w) => w.notes,
  automatic: (w) => w.automatic,
  flagged: (w) => w.flagged,
  flag_reason: (w) => w.flagReason,
  created_by: (w) => w.createdBy,
  created_at: (w) => w.createdAt,
  updated_at: (w) => w.updatedAt,
  completed_at: (w) => w.completedAt,
  ...deviceColumns<WorkOrderRow>(),
  defect_count: (w) => w.defects.length,
  // Space-separated, in the same order: the defects, their types and what the crew found at each.
  defect_ids: (w) => w.defects.map((d) => toRepairId('Defect', d.defectId)).join(' '),
  defect_types: (w) => w.defects.map((d) => d.defect.type).join(' '),
  findings: (w) => w.defects.map((d) => d.finding ?? 'PENDING').join(' '),
  worst_severity: (w) => w.defects.map((d) => d.defect.severity).sort((a, b) => rank(b) - rank(a))[0] ?? null,
};

/**
 * One CSV record per row, through csv-stringify's stream (which waits for the reader). escape_formulas
 * puts a ' before any text cell starting with = + - @ tab or CR, so a spreadsheet never runs one as a formula.
 */
export function csvStream<T>(pages: AsyncIterable<T[]>, columns: Columns<T>): Readable {
  const entries = Object.entries(columns);
  async function* records() {
    for await (const page of pages) {
      for (const row of page) yield Object.fromEntries(entries.map(([name, value]) => [name, value(row)]));
    }
  }
  const out = stringify({
    header: true,
    columns: Object.keys(columns),
    bom: true,
    escape_formulas: true,
    cast: { boolean: (v) => (v ? 'true' : 'false'), date: (v) => v.toISOString() },
  });
  // pipeline passes a reader that goes away back to the source, which then stops reading the database.
  return pipeline(Readable.from(records()), out, () => undefined);
}
