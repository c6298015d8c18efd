import { jsonModelOf } from '../../src/common/pagination/json-models';
import { jsonRowsByIds, paginateJson } from '../../src/common/pagination/json-page';
import { byId, listOrdering, pageRequest } from '../../src/common/pagination/keyset';
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

describe('pages read as one JSON text', () => {
  it('anomalies: the same rows, fields and types as Prisma, dates included, in the same order', async () => {
    const prisma = t.app.db.prisma;
    const first = await prisma.anomaly.findFirstOrThrow({ orderBy: { id: 'asc' } });
    await prisma.anomaly.update({
      where: { id: first.id },
      data: {
        confidence: 0.1 + 0.2,
        severityOverride: 'HIGH',
        severityReason: 'r',
        severitySetBy: 'k',
        severitySetAt: new Date('2026-02-03T04:05:06.789Z'),
      },
    });
    const ordering = listOrdering('Anomaly', [...ORDER]);
    const page = await paginateJson<Record<string, unknown>>({
      prisma,
      model: jsonModelOf('anomalies')!,
      page: { first: 100 },
      ordering,
      limits,
      filters: [],
      count: () => prisma.anomaly.count(),
    });
    const expected = await prisma.anomaly.findMany({ orderBy: [{ createdAt: 'asc' }, { id: 'asc' }] });
    expect(page.nodes).toEqual(expected);
    expect(page.nodes.find((a) => a.id === first.id)?.severitySetAt).toEqual(new Date('2026-02-03T04:05:06.789Z'));
    expect(page.nodes.find((a) => a.id === first.id)?.confidence).toBe(0.1 + 0.2);
  });

  it('devices by id: exactly what Prisma returns', async () => {
    const prisma = t.app.db.prisma;
    const expected = await prisma.device.findMany({ orderBy: { id: 'asc' } });
    const rows = await jsonRowsByIds<Record<string, unknown>>(
      prisma,
      jsonModelOf('devices')!,
      expected.map((d) => d.id),
    );
    expect([...rows].sort((a, b) => String(a.id).localeCompare(String(b.id)))).toEqual(expected);
  });
});
