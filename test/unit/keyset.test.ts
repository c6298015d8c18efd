import { DomainError } from '../../src/common/errors';
import {
  byId,
  decodeCursor,
  encodeCursor,
  listOrdering,
  type Ordering,
  pageRequest,
  prismaAfter,
  sqlCount,
  sqlRange,
  toConnection,
} from '../../src/common/pagination/keyset';

const ORDER: Ordering = [{ field: 'capturedAt', column: 'captured_at', kind: 'date', direction: 'desc' }, byId('desc')];
const ID = '019aaaaa-aaaa-7aaa-8aaa-aaaaaaaaaaaa';
const limits = { defaultPageSize: 50, maxPageSize: 500 };

describe('keyset cursors', () => {
  it('round-trip the sort values of a row', () => {
    const row = { capturedAt: new Date('2026-01-02T03:04:05.678Z'), id: ID };
    expect(decodeCursor(encodeCursor(row, ORDER), ORDER, 'after')).toEqual([row.capturedAt, ID]);
  });

  // The tag a real cursor of ORDER starts with, so the cases below fail on their values.
  const tag = JSON.parse(Buffer.from(encodeCursor({ capturedAt: new Date(0), id: ID }, ORDER), 'base64url').toString())[0];
  const raw = (values: unknown[]) => Buffer.from(JSON.stringify([tag, ...values])).toString('base64url');

  it.each([
    ['not base64url', '***'],
    ['not JSON', Buffer.from('nope').toString('base64url')],
    ['wrong arity', raw([ID])],
    ['wrong kinds', raw([12, ID])],
    ['no uuid', raw(['2026-01-01T00:00:00Z', "x' OR 1=1"])],
    ['an invalid date', raw(['someday', ID])],
  ])('refuse a cursor that is %s', (_what, cursor) => {
    expect(() => decodeCursor(cursor, ORDER, 'after')).toThrow(DomainError);
    expect(() => decodeCursor(cursor, ORDER, 'after')).toThrow('after: malformed cursor');
  });

  it('refuse a cursor made for another order or another list, even with values of the right kinds', () => {
    const row = { capturedAt: new Date(0), createdAt: new Date(0), id: ID };
    const ascending: Ordering = [{ field: 'capturedAt', column: 'captured_at', kind: 'date', direction: 'asc' }, byId('asc')];
    const inspections = listOrdering('Inspection', [...ORDER]);
    const anomalies = listOrdering('Anomaly', [...ORDER]);
    for (const [from, to] of [
      [ascending, ORDER],
      [inspections, anomalies],
    ]) {
      expect(() => decodeCursor(encodeCursor(row, from), to, 'after')).toThrow(
        'after: this cursor belongs to another list or another orderBy',
      );
    }
    expect(decodeCursor(encodeCursor(row, anomalies), anomalies, 'after')).toEqual([new Date(0), ID]);
  });
});

describe('page requests', () => {
  it('default to the configured page size going forward', () => {
    expect(pageRequest({}, ORDER, limits)).toEqual({ take: 50, backward: false, cursor: null, bound: null });
  });

  it('go backward for last/before and bound the scan by after', () => {
    const c = encodeCursor({ capturedAt: new Date(0), id: ID }, ORDER);
    const req = pageRequest({ last: 3, before: c, after: c }, ORDER, limits);
    expect(req).toMatchObject({ take: 3, backward: true });
    expect(req.cursor).toEqual([new Date(0), ID]);
    expect(req.bound).toEqual([new Date(0), ID]);
  });

  it.each([
    [{ first: 501 }, 'first: must be at most 500'],
    [{ last: 501 }, 'last: must be at most 500'],
    [{ first: -1 }, 'first: must not be negative'],
    [{ first: 1, last: 1 }, 'last: pass either first or last, not both'],
  ])('refuse %j', (args, message) => {
    expect(() => pageRequest(args, ORDER, limits)).toThrow(message);
  });
});

describe('range conditions', () => {
  it('express "after this row" for a descending order in Prisma', () => {
    const d = new Date(0);
    expect(prismaAfter(ORDER, [d, ID])).toEqual({ OR: [{ capturedAt: { lt: d } }, { capturedAt: d, id: { lt: ID } }] });
  });

  it('express the same range in SQL with typed parameters', () => {
    const params: unknown[] = [];
    const [clause] = sqlRange(ORDER, { take: 1, backward: false, cursor: [new Date(0), ID], bound: null }, params);
    expect(clause).toBe('((t."captured_at" < $1::timestamptz) OR (t."captured_at" = $2::timestamptz AND t."id" < $3::uuid))');
    expect(params).toEqual(['1970-01-01T00:00:00.000Z', '1970-01-01T00:00:00.000Z', ID]);
  });
});

describe('connections over rows read', () => {
  const rows = [
    { id: '00000000-0000-4000-8000-000000000001', name: 'a' },
    { id: '00000000-0000-4000-8000-000000000002', name: 'b' },
    { id: '00000000-0000-4000-8000-000000000003', name: 'c' },
  ];
  const ordering = listOrdering('Thing', [{ field: 'name', column: 'name', kind: 'string', direction: 'asc' }, byId('asc')]);

  it('counts only when totalCount is read, once however often it is read', async () => {
    const count = jest.fn(async () => 42);
    const c = toConnection(rows, { take: 2, backward: false, cursor: null, bound: null }, ordering, count);
    expect(c.nodes.map((n) => n.name)).toEqual(['a', 'b']);
    expect(count).not.toHaveBeenCalled();
    expect(await c.totalCount).toBe(42);
    expect(await c.totalCount).toBe(42);
    expect(count).toHaveBeenCalledTimes(1);
  });

  it('edges carry the nodes and cursors that page on from where they stand', () => {
    const c = toConnection(rows, { take: 2, backward: false, cursor: null, bound: null }, ordering, async () => 0);
    expect(c.edges.map((e) => e.node)).toEqual(c.nodes);
    expect(c.edges).toBe(c.edges);
    expect(c.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    expect(c.pageInfo.endCursor).toBe(c.edges[1].cursor);
    const next = pageRequest({ first: 2, after: c.pageInfo.endCursor }, ordering, { defaultPageSize: 50, maxPageSize: 500 });
    expect(next.cursor).toEqual(['b', rows[1].id]);
  });

  it('a backward page is in list order, and says there is more before it', () => {
    const c = toConnection([rows[2], rows[1], rows[0]], { take: 2, backward: true, cursor: null, bound: null }, ordering, async () => 0);
    expect(c.nodes.map((n) => n.name)).toEqual(['b', 'c']);
    expect(c.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    expect(c.pageInfo.startCursor).toBe(c.edges[0].cursor);
  });
});

describe('cursor dates', () => {
  it('a cursor whose date PostgreSQL cannot hold is refused as malformed, not sent to the database', () => {
    const ordering = listOrdering('Thing', [{ field: 'at', column: 'at', kind: 'date', direction: 'asc' }, byId('asc')]);
    const good = encodeCursor({ at: new Date('2026-01-01T00:00:00Z'), id: ID }, ordering);
    expect(decodeCursor(good, ordering, 'after')[0]).toEqual(new Date('2026-01-01T00:00:00Z'));
    const far = encodeCursor({ at: new Date(-8.64e15), id: ID }, ordering);
    expect(() => decodeCursor(far, ordering, 'after')).toThrow(DomainError);
  });
});

describe('row counts in SQL', () => {
  it('writes a page size into the statement as digits and refuses anything but a whole count', () => {
    expect(sqlCount(51)).toBe('51');
    expect(sqlCount(0)).toBe('0');
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53]) {
      expect(() => sqlCount(bad)).toThrow(`not a row count: ${bad}`);
    }
  });
});
