import { type AutoWorkOrderRule, type PrismaClient } from '../generated/prisma/client';
import { type Severity, type WorkOrderPriority } from '../generated/prisma/enums';
import { badInput } from '../common/errors';
import { ANY, rulesFor, type SeverityRuleShape } from './severity';

export interface SeverityRuleSetView {
  deviceType: string;
  source: 'OWN' | 'FALLBACK' | 'DEFAULT';
  rules: SeverityRuleShape[];
}

export interface AutoRuleInput {
  deviceType: string;
  minSeverity: Severity;
  priority: WorkOrderPriority;
  dueInDays?: number | null;
  enabled: boolean;
}

const byThreshold = (a: SeverityRuleShape, b: SeverityRuleShape) =>
  a.anomalyType.localeCompare(b.anomalyType) || a.minAreaShare - b.minAreaShare || a.minConfidence - b.minConfidence;

/** The severity rules and the automatic work-order rules, kept in the database and set through the API. */
export class RepairRules {
  constructor(private readonly prisma: PrismaClient) {}

  /** The rules a device type's anomalies are rated with, and where they come from. */
  async severityRules(deviceType: string): Promise<SeverityRuleSetView> {
    const stored = await this.prisma.severityRule.findMany({ where: { deviceType: { in: [deviceType, ANY] } } });
    const rules = [...rulesFor(stored, deviceType)].sort(byThreshold);
    const source = stored.some((r) => r.deviceType === deviceType) ? 'OWN' : stored.length ? 'FALLBACK' : 'DEFAULT';
    return { deviceType, source, rules: rules.map((r) => ({ ...r, deviceType: source === 'OWN' ? deviceType : ANY })) };
  }

  /** Device types (and "*") that have rules of their own. */
  async ruledTypes(): Promise<string[]> {
    const rows = await this.prisma.severityRule.findMany({
      distinct: ['deviceType'],
      select: { deviceType: true },
      orderBy: { deviceType: 'asc' },
    });
    return rows.map((r) => r.deviceType);
  }

  /** Replaces a device type's rules in one transaction; they rate anomalies found from now on. */
  async setSeverityRules(deviceType: string, rules: Omit<SeverityRuleShape, 'deviceType'>[]): Promise<SeverityRuleSetView> {
    const keys = new Set<string>();
    for (const [i, r] of rules.entries()) {
      const key = `${r.anomalyType}|${r.minAreaShare}|${r.minConfidence}`;
      if (keys.has(key)) throw badInput(`rules[${i}]`, 'repeats the thresholds of an earlier rule');
      keys.add(key);
    }
    await this.prisma.$transaction(async (tx) => {
      await tx.severityRule.deleteMany({ where: { deviceType } });
      if (rules.length) await tx.severityRule.createMany({ data: rules.map((r) => ({ ...r, deviceType })) });
    });
    return this.severityRules(deviceType);
  }

  autoWorkOrderRules(): Promise<AutoWorkOrderRule[]> {
    return this.prisma.autoWorkOrderRule.findMany({ orderBy: { deviceType: 'asc' } });
  }

  setAutoWorkOrderRule(input: AutoRuleInput): Promise<AutoWorkOrderRule> {
    const data = { minSeverity: input.minSeverity, priority: input.priority, dueInDays: input.dueInDays ?? null, enabled: input.enabled };
    return this.prisma.autoWorkOrderRule.upsert({
      where: { deviceType: input.deviceType },
      create: { deviceType: input.deviceType, ...data },
      update: data,
    });
  }
}
