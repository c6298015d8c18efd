import { Prisma, type PrismaClient } from '../generated/prisma/client';
import { badInput } from '../common/errors';

export interface StageSpend {
  usd: number;
  calls: number;
  images: number;
}

export interface Spend {
  screen: StageSpend;
  inspect: StageSpend;
  totalUsd: number;
  /** What stage 2 on every picture it judged or the screen cleared would have cost: the price of no cascade. */
  withoutCascadeUsd: number;
  /** withoutCascadeUsd − totalUsd. */
  savedUsd: number;
  /** Share of screened calls the screen cleared, so stage 2 never ran (0..1). Pictures passed on with no stage-2 model yet (COLD_START) are not avoided calls. */
  inspectCallsAvoided: number;
}

export interface DetectorSpend {
  detector: string;
  stage: 'SCREEN' | 'INSPECT';
  usd: number;
  calls: number;
}

interface Row {
  key: string;
  stage: 'SCREEN' | 'INSPECT';
  detector: string;
  usd: number;
  calls: bigint | number;
  images: bigint | number;
  inspect_all: number;
  cleared_calls: bigint | number;
  cleared_usd: number;
}

// What the screen cleared (stage 2 never ran on it): its calls, and what stage 2 on it would have cost.
const CLEARED = Prisma.sql`SUM(CASE WHEN d.stage = 'SCREEN' AND NOT d.is_anomalous THEN d.calls ELSE 0 END) AS cleared_calls,
  SUM(CASE WHEN d.stage = 'SCREEN' AND NOT d.is_anomalous THEN d.inspect_all_cost_usd ELSE 0 END)::float8 AS cleared_usd`;

const MAX_REPORT_DAYS = 366 * 5;
const cents = (v: number) => Math.round(v * 1e6) / 1e6;

function spendOf(rows: Row[]): Spend {
  const stage = (s: Row['stage']): StageSpend => {
    const of = rows.filter((r) => r.stage === s);
    return {
      usd: cents(of.reduce((t, r) => t + r.usd, 0)),
      calls: of.reduce((t, r) => t + Number(r.calls), 0),
      images: of.reduce((t, r) => t + Number(r.images), 0),
    };
  };
  const screen = stage('SCREEN');
  const inspect = stage('INSPECT');
  const totalUsd = cents(screen.usd + inspect.usd);
  const cleared = rows.reduce((t, r) => t + Number(r.cleared_calls), 0);
  const withoutCascadeUsd = cents(inspect.usd + rows.reduce((t, r) => t + r.cleared_usd, 0));
  return {
    screen,
    inspect,
    totalUsd,
    withoutCascadeUsd,
    savedUsd: cents(withoutCascadeUsd - totalUsd),
    inspectCallsAvoided: screen.calls ? cleared / screen.calls : 0,
  };
}

/**
 * The cost ledger: every detection records what its calls cost (price table in config; built-in
 * models record what the AWS call they stand in for would cost), so spend is a sum over detections.
 */
export class CostService {
  constructor(
    private readonly prisma: PrismaClient,
    readonly pricing: { prices: Record<string, number>; screen: string; inspect: string },
  ) {}

  async ofInspections(inspectionIds: readonly string[]): Promise<Map<string, Spend>> {
    const rows = await this.prisma.$queryRaw<Row[]>`
      SELECT i.inspection_id::text AS key, d.stage::text AS stage, d.detector, SUM(d.cost_usd)::float8 AS usd,
             SUM(d.calls) AS calls, COUNT(*) AS images, SUM(d.inspect_all_cost_usd)::float8 AS inspect_all, ${CLEARED}
      FROM detections d JOIN images i ON i.id = d.image_id
      WHERE i.inspection_id = ANY(${[...inspectionIds]}::uuid[])
      GROUP BY 1, 2, 3`;
    return new Map(inspectionIds.map((id) => [id, spendOf(rows.filter((r) => r.key === id))]));
  }

  async report(from: Date, to: Date): Promise<Spend & { from: Date; to: Date; byDetector: DetectorSpend[] }> {
    if (!(from < to)) throw badInput('to', 'must be later than from');
    if (to.getTime() - from.getTime() > MAX_REPORT_DAYS * 86_400_000)
      throw badInput('to', `a report covers at most ${MAX_REPORT_DAYS} days`);
    const rows = await this.prisma.$queryRaw<Row[]>(Prisma.sql`
      SELECT '' AS key, d.stage::text AS stage, d.detector, SUM(d.cost_usd)::float8 AS usd,
             SUM(d.calls) AS calls, COUNT(*) AS images, SUM(d.inspect_all_cost_usd)::float8 AS inspect_all, ${CLEARED}
      FROM detections d
      WHERE d.created_at >= ${from} AND d.created_at < ${to}
      GROUP BY 1, 2, 3
      ORDER BY 2, 3`);
    return {
      from,
      to,
      ...spendOf(rows),
      byDetector: rows.map((r) => ({ detector: r.detector, stage: r.stage, usd: cents(r.usd), calls: Number(r.calls) })),
    };
  }
}
