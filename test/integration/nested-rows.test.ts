import { byId, pageRequest } from '../../src/common/pagination/keyset';
import { nestedPages } from '../../src/common/pagination/nested';
import { startTestApp, type TestApp } from '../support/app';
import { seedFleet } from '../support/seed';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
  await seedFleet(t.app.db.prisma, { devices: 2, inspectionsPerDevice: 2, anomaliesPerInspection: 2 });
});
afterAll(() => t.stop());

const limits = { defaultPageSize: 50, maxPageSize: 500 };
const ORDER = [{ field: 'createdAt', column: 'created_at', kind: 'date' as const, direction: 'asc' as const }, byId('asc')];

describe('rows loaded by the nested LATERAL query', () => {
  it.each([
    ['inspections', 'device_id', 'inspection'],
    ['images', 'inspection_id', 'image'],
    ['anomalies', 'inspection_id', 'anomaly'],
  ] as const)('%s are exactly what Prisma returns for the same rows', async (table, parentColumn, model) => {
    const prisma = t.app.db.prisma;
    const parentField = parentColumn === 'device_id' ? 'deviceId' : 'inspectionId';
    const all = await (prisma[model] as any).findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    const parents = [...new Set(all.map((r: any) => r[parentField]))] as string[];
    const pages = await nestedPages<Record<string, unknown>>(
      prisma,
      { table, parentColumn },
      ORDER,
      pageRequest({ first: 100 }, ORDER, limits),
      parents,
    );
    const raw = [...pages.values()].flat();
    expect(raw).toHaveLength(all.length);
    for (const row of raw) {
      const expected = all.find((r: any) => r.id === row.id);
      expect(row).toEqual(expected);
      expect(Object.keys(row).sort()).toEqual(Object.keys(expected).sort());
    }
  });
});
