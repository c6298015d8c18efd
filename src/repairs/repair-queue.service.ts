import { type Defect, type PrismaClient } from '../generated/prisma/client';
import { type Criticality, type Severity } from '../generated/prisma/enums';
import { badInput } from '../common/errors';
import { type Connection, makeConnection } from '../common/pagination/connection.type';
import { byId, decodeCursor, encodeCursor, type Ordering, type PageLimits, listOrdering } from '../common/pagination/keyset';
import { AGE_DAYS_CAP, AGE_DAYS_PER_STEP, CRITICALITY_WEIGHT, MAX_GROWTH, rank, SEVERITY_ORDER, SEVERITY_WEIGHT } from './severity';

export interface RepairQueueQuery {
  deviceIds?: string[];
  deviceType?: string;
  types?: string[];
  minSeverity?: Severity | null;
  unplanned?: boolean;
}

export interface RiskFactorValues {
  severity: number;
  confidence: number;
  criticality: number;
  growth: number;
  age: number;
}

export interface RepairQueueEntry {
  defect: Defect;
  score: number;
  factors: RiskFactorValues;
  reasons: string[];
}

// The cursor keeps the moment the first page was ranked at, so the age factor (and the order) holds across pages.
const CURSOR: Ordering = listOrdering('RepairQueue', [
  { field: 'asOf', column: 'as_of', kind: 'date', direction: 'desc' },
  { field: 'score', column: 'score', kind: 'number', direction: 'desc' },
  byId('asc'),
]);

const weightSql = (column: string, weights: Record<string, number>) =>
  `(CASE ${column} ${Object.entries(weights)
    .map(([k, w]) => `WHEN '${k}' THEN ${w}`)
    .join(' ')} END)::float8`;

/** The documented score (src/repairs/README.md); $1 is the moment it is computed at. */
const SCORE_SQL = [
  weightSql('d.severity::text', SEVERITY_WEIGHT),
  'd.confidence',
  weightSql('v.criticality::text', CRITICALITY_WEIGHT),
  `LEAST(GREATEST(COALESCE(d.last_area / NULLIF(d.first_area, 0), 1), 1), ${MAX_GROWTH})`,
  `(1 + LEAST(GREATEST(EXTRACT(EPOCH FROM ($1::timestamptz - d.first_seen_at))::float8 / 86400, 0), ${AGE_DAYS_CAP}) / ${AGE_DAYS_PER_STEP})`,
].join(' * ');

export function riskFactors(d: Defect, criticality: Criticality, asOf: Date): RiskFactorValues {
  const days = Math.min(Math.max((asOf.getTime() - d.firstSeenAt.getTime()) / 86_400_000, 0), AGE_DAYS_CAP);
  return {
    severity: SEVERITY_WEIGHT[d.severity],
    confidence: d.confidence,
    criticality: CRITICALITY_WEIGHT[criticality],
    growth: Math.min(Math.max(d.firstArea > 0 ? d.lastArea / d.firstArea : 1, 1), MAX_GROWTH),
    age: 1 + days / AGE_DAYS_PER_STEP,
  };
}

export function reasonsFor(d: Defect, criticality: Criticality, f: RiskFactorValues, asOf: Date): string[] {
  const days = Math.floor((asOf.getTime() - d.firstSeenAt.getTime()) / 86_400_000);
  const x = (n: number) => `×${Number(n.toFixed(2))}`;
  const reasons: [number, string][] = [
    [f.severity, `severity ${d.severity} (${x(f.severity)})`],
    [f.criticality, `device criticality ${criticality} (${x(f.criticality)})`],
    [f.growth, f.growth > 1 ? `grew ${x(f.growth)} in area since first seen (${x(f.growth)})` : 'no growth since first seen (×1)'],
    [f.age, `open ${days} day${days === 1 ? '' : 's'} (${x(f.age)})`],
    [f.confidence, `confidence ${d.confidence.toFixed(2)} (${x(f.confidence)})`],
  ];
  const ordered = reasons.sort((a, b) => b[0] - a[0]).map(([, r]) => r);
  if (d.reopenCount) ordered.push(`seen again after ${d.reopenCount === 1 ? 'a fix' : `${d.reopenCount} fixes`}`);
  return ordered;
}

/** Open defects ranked by risk: one SQL scan ordered by the score, paged by (score, id) at a fixed moment. */
export class RepairQueueService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly limits: PageLimits,
  ) {}

  async list(
    filter: RepairQueueQuery,
    first: number | null | undefined,
    after: string | null | undefined,
  ): Promise<Connection<RepairQueueEntry>> {
    const take = first ?? this.limits.defaultPageSize;
    if (take < 0) throw badInput('first', 'must not be negative');
    if (take > this.limits.maxPageSize) throw badInput('first', `must be at most ${this.limits.maxPageSize}`);
    const cursor = after ? decodeCursor(after, CURSOR, 'after') : null;
    const asOf = (cursor?.[0] as Date | undefined) ?? new Date();
    const params: unknown[] = [asOf];
    const where = this.where(filter, params);
    const base = `FROM defects d JOIN devices v ON v.id = d.device_id WHERE ${where.join(' AND ')}`;
    const countParams = [...params];
    let range = '';
    if (cursor) {
      params.push(cursor[1], cursor[2]);
      range = `WHERE t.score < $${params.length - 1}::float8 OR (t.score = $${params.length - 1}::float8 AND t.id > $${params.length}::uuid)`;
    }
    params.push(take + 1);
    const rows = await this.prisma.$queryRawUnsafe<{ id: string; score: number; criticality: Criticality }[]>(
      `SELECT t.id::text AS id, t.score, t.criticality FROM (
         SELECT d.id, v.criticality::text AS criticality, ${SCORE_SQL} AS score ${base}
       ) t ${range} ORDER BY t.score DESC, t.id ASC LIMIT $${params.length}::int`,
      ...params,
    );
    const page = rows.slice(0, take);
    const defects = new Map((await this.prisma.defect.findMany({ where: { id: { in: page.map((r) => r.id) } } })).map((d) => [d.id, d]));
    const entries = page.map((r) => {
      const defect = defects.get(r.id)!;
      const factors = riskFactors(defect, r.criticality, asOf);
      return { defect, score: r.score, factors, reasons: reasonsFor(defect, r.criticality, factors, asOf) };
    });
    const cursorOf = (e: RepairQueueEntry) => encodeCursor({ asOf, score: e.score, id: e.defect.id }, CURSOR);
    const edges = entries.map((node) => ({ node, cursor: cursorOf(node) }));
    const count = async () => {
      // Through the score, so the statement uses every parameter it is given.
      const [{ n }] = await this.prisma.$queryRawUnsafe<{ n: number }[]>(
        `SELECT count(*)::int AS n FROM (SELECT ${SCORE_SQL} AS score ${base}) t`,
        ...countParams,
      );
      return n;
    };
    return makeConnection(
      edges,
      {
        hasNextPage: rows.length > take,
        hasPreviousPage: cursor !== null,
        startCursor: edges[0]?.cursor ?? null,
        endCursor: edges.at(-1)?.cursor ?? null,
      },
      count,
    );
  }

  private where(f: RepairQueueQuery, params: unknown[]): string[] {
    const where = [`d.status = 'OPEN'`, `v.status <> 'DECOMMISSIONED'`];
    const add = (value: unknown, clause: (p: string) => string) => {
      params.push(value);
      where.push(clause(`$${params.length}`));
    };
    if (f.deviceIds?.length) add(f.deviceIds, (p) => `d.device_id = ANY(${p}::uuid[])`);
    if (f.deviceType) add(f.deviceType, (p) => `v.type = ${p}`);
    if (f.types?.length) add(f.types, (p) => `d.type = ANY(${p}::text[])`);
    if (f.minSeverity)
      add(
        SEVERITY_ORDER.filter((s) => rank(s) >= rank(f.minSeverity!)),
        (p) => `d.severity::text = ANY(${p}::text[])`,
      );
    if (f.unplanned) where.push('NOT EXISTS (SELECT 1 FROM work_order_defects w WHERE w.defect_id = d.id AND w.active)');
    return where;
  }
}
