import { Prisma } from '../../generated/prisma/client';
import { type JsonModel, jsonModel } from './json-model';

// The tables whose pages the read paths take as JSON text (src/common/pagination/json-page.ts), each with its
// model's DateTime fields. Only models of plain scalars: no Decimal or BigInt field. A Json field (detections'
// result) comes back parsed, as Prisma gives it (test/integration/image-to-judge.test.ts holds that).
const MODELS: JsonModel[] = [
  jsonModel('detections', Prisma.DetectionScalarFieldEnum, ['createdAt']),
  jsonModel('anomalies', Prisma.AnomalyScalarFieldEnum, ['severitySetAt', 'createdAt', 'updatedAt']),
  jsonModel('devices', Prisma.DeviceScalarFieldEnum, ['createdAt', 'updatedAt']),
  jsonModel('inspections', Prisma.InspectionScalarFieldEnum, ['capturedAt', 'createdAt', 'updatedAt']),
  jsonModel('images', Prisma.ImageScalarFieldEnum, ['capturedAt', 'createdAt', 'updatedAt']),
  jsonModel('image_tiles', Prisma.ImageTileScalarFieldEnum, []),
  jsonModel('defects', Prisma.DefectScalarFieldEnum, ['firstSeenAt', 'lastSeenAt', 'fixedAt', 'resolvedAt', 'createdAt', 'updatedAt']),
];

const BY_TABLE = new Map(MODELS.map((m) => [m.table, m]));

/** The JSON reading of a table, when it has one. */
export const jsonModelOf = (table: string): JsonModel | undefined => BY_TABLE.get(table);
