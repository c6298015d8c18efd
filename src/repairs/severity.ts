import { Criticality, Severity } from '../generated/prisma/enums';

export { Criticality, Severity };

export const SEVERITY_ORDER: Severity[] = [Severity.LOW, Severity.MEDIUM, Severity.HIGH, Severity.CRITICAL];
export const rank = (s: Severity) => SEVERITY_ORDER.indexOf(s);
export const maxSeverity = (a: Severity, b: Severity) => (rank(a) >= rank(b) ? a : b);

/** "*": every anomaly type, or every device type without rules of its own. */
export const ANY = '*';

export interface SeverityRuleShape {
  deviceType: string;
  anomalyType: string;
  minAreaShare: number;
  minConfidence: number;
  severity: Severity;
}

/** Used while the database holds no rule for the device type nor for "*". */
export const DEFAULT_RULES: readonly SeverityRuleShape[] = [
  { deviceType: ANY, anomalyType: ANY, minAreaShare: 0, minConfidence: 0, severity: Severity.LOW },
  { deviceType: ANY, anomalyType: ANY, minAreaShare: 0.02, minConfidence: 0.5, severity: Severity.MEDIUM },
  { deviceType: ANY, anomalyType: ANY, minAreaShare: 0.1, minConfidence: 0.7, severity: Severity.HIGH },
  { deviceType: ANY, anomalyType: ANY, minAreaShare: 0.25, minConfidence: 0.9, severity: Severity.CRITICAL },
];

/**
 * The device type's own rules, else the "*" rules, else DEFAULT_RULES; the most severe rule that
 * matches wins, and an anomaly no rule matches is LOW.
 */
export function rulesFor(all: readonly SeverityRuleShape[], deviceType: string): readonly SeverityRuleShape[] {
  const own = all.filter((r) => r.deviceType === deviceType);
  if (own.length) return own;
  const fallback = all.filter((r) => r.deviceType === ANY);
  return fallback.length ? fallback : DEFAULT_RULES;
}

export function rate(
  rules: readonly SeverityRuleShape[],
  anomaly: { type: string; confidence: number; boxWidth: number; boxHeight: number },
): Severity {
  const area = anomaly.boxWidth * anomaly.boxHeight;
  let severity: Severity = Severity.LOW;
  for (const r of rules) {
    const matches =
      (r.anomalyType === ANY || r.anomalyType === anomaly.type) && area >= r.minAreaShare && anomaly.confidence >= r.minConfidence;
    if (matches) severity = maxSeverity(severity, r.severity);
  }
  return severity;
}

/** The risk score's weights: see src/repairs/README.md. */
export const SEVERITY_WEIGHT: Record<Severity, number> = { LOW: 1, MEDIUM: 2, HIGH: 4, CRITICAL: 8 };
export const CRITICALITY_WEIGHT: Record<Criticality, number> = { LOW: 0.5, MEDIUM: 1, HIGH: 2, CRITICAL: 4 };
export const MAX_GROWTH = 4;
export const AGE_DAYS_CAP = 365;
export const AGE_DAYS_PER_STEP = 90;
