import { Field, Float, ID, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DefectStatus, FieldFinding, WorkOrderPriority, WorkOrderStatus } from '../generated/prisma/enums';
import { Severity } from '../anomalies/anomaly.type';
import { ConnectionType } from '../common/pagination/connection.type';

export { DefectStatus, FieldFinding, WorkOrderPriority, WorkOrderStatus };

registerEnumType(DefectStatus, {
  name: 'DefectStatus',
  valuesConfig: {
    OPEN: { description: 'Seen and not repaired yet (or seen again after a repair).' },
    FIXED: { description: 'A crew reported it fixed; the next inspection of the device confirms it.' },
    RESOLVED: { description: 'Gone: the next inspection showed nothing there, or an operator resolved it with a reason.' },
    DISMISSED: { description: 'Not a problem: reviewers rejected every observation, or a crew found nothing there.' },
  },
});
registerEnumType(WorkOrderStatus, {
  name: 'WorkOrderStatus',
  description: 'OPEN → SCHEDULED → IN_PROGRESS → DONE (completeWorkOrder); CANCELLED from any status before DONE.',
});
registerEnumType(WorkOrderPriority, { name: 'WorkOrderPriority' });
registerEnumType(FieldFinding, {
  name: 'FieldFinding',
  valuesConfig: {
    FIXED: { description: 'The crew repaired it.' },
    NOTHING_FOUND: { description: 'A false positive: the image becomes a NORMAL label in the training dataset.' },
    DIFFERENT_PROBLEM: { description: 'Something else was wrong (correctedType) and was repaired; the image is labelled with it.' },
  },
});

@ObjectType('Defect', { description: 'One problem of a device followed across surveys; its anomalies are its observations.' })
export class DefectType {
  @Field(() => ID)
  id: string;

  @Field({ description: 'Anomaly type, e.g. crack.' })
  type: string;

  @Field(() => DefectStatus)
  status: DefectStatus;

  @Field(() => Severity, { description: 'The highest severity among its observations that were not rejected.' })
  severity: Severity;

  @Field({ description: 'A person confirmed at least one observation.' })
  confirmed: boolean;

  @Field(() => Float, { description: 'The highest confidence among its observations.' })
  confidence: number;

  @Field({ description: 'When the first observation was photographed.' })
  firstSeenAt: Date;

  @Field({ description: 'When the latest observation was photographed.' })
  lastSeenAt: Date;

  @Field(() => Int)
  observationCount: number;

  @Field(() => Float, { description: "The first observation's box area, as a share of the image." })
  firstArea: number;

  @Field(() => Float, { description: "The latest observation's box area, as a share of the image." })
  lastArea: number;

  @Field(() => Date, { nullable: true })
  fixedAt: Date | null;

  @Field(() => Date, { nullable: true })
  resolvedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Who resolved or dismissed it: an API key name, an inspection or a work order.' })
  resolvedBy: string | null;

  @Field(() => String, { nullable: true })
  resolution: string | null;

  @Field(() => Int, { description: 'How often it was seen again after a crew fixed it.' })
  reopenCount: number;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

@ObjectType('WorkOrder', { description: "Repair work on one device's defects." })
export class WorkOrderType {
  @Field(() => ID)
  id: string;

  @Field(() => WorkOrderStatus)
  status: WorkOrderStatus;

  @Field(() => WorkOrderPriority)
  priority: WorkOrderPriority;

  @Field(() => Date, { nullable: true })
  dueAt: Date | null;

  @Field(() => String, { nullable: true, description: "A crew's name or a person's id in the maintenance system." })
  assignee: string | null;

  @Field(() => String, { nullable: true })
  notes: string | null;

  @Field(() => String, { nullable: true })
  idempotencyKey: string | null;

  @Field({ description: 'Created by an automatic work-order rule.' })
  automatic: boolean;

  @Field({ description: 'A defect it fixed was seen again at the next inspection.' })
  flagged: boolean;

  @Field(() => String, { nullable: true })
  flagReason: string | null;

  @Field({ description: "The API key's name, or rule:<deviceType> for an automatic one." })
  createdBy: string;

  @Field(() => Date, { nullable: true })
  completedAt: Date | null;

  @Field()
  createdAt: Date;

  @Field()
  updatedAt: Date;
}

@ObjectType('WorkOrderDefect', { description: 'A defect of a work order and what the crew found there.' })
export class WorkOrderDefectType {
  @Field(() => FieldFinding, { nullable: true })
  finding: FieldFinding | null;

  @Field(() => String, { nullable: true })
  correctedType: string | null;

  @Field(() => String, { nullable: true })
  note: string | null;

  @Field({ description: 'False once the work order is DONE or CANCELLED.' })
  active: boolean;
}

@ObjectType('WorkOrderTransition', { description: 'One status change of a work order.' })
export class WorkOrderTransitionType {
  @Field(() => WorkOrderStatus, { nullable: true, description: 'Null for the creation.' })
  fromStatus: WorkOrderStatus | null;

  @Field(() => WorkOrderStatus)
  toStatus: WorkOrderStatus;

  @Field({ description: "The API key's name, a rule or an inspection." })
  by: string;

  @Field(() => String, { nullable: true })
  note: string | null;

  @Field()
  at: Date;
}

@ObjectType('SeverityRule', {
  description:
    'An anomaly of anomalyType ("*" = any) whose box covers at least minAreaShare of the image and whose confidence is at least minConfidence is at least this severe.',
})
export class SeverityRuleType {
  @Field({ description: '"*" for the rules of every device type without rules of its own.' })
  deviceType: string;

  @Field()
  anomalyType: string;

  @Field(() => Float)
  minAreaShare: number;

  @Field(() => Float)
  minConfidence: number;

  @Field(() => Severity)
  severity: Severity;
}

@ObjectType('SeverityRuleSet', { description: "The rules a device type's anomalies are rated with." })
export class SeverityRuleSet {
  @Field()
  deviceType: string;

  @Field({ description: 'OWN (its own rules), FALLBACK (the "*" rules) or DEFAULT (built in: none are stored).' })
  source: string;

  @Field(() => [SeverityRuleType])
  rules: SeverityRuleType[];
}

@ObjectType('AutoWorkOrderRule', { description: 'Creates a work order by itself for each confirmed defect of at least minSeverity.' })
export class AutoWorkOrderRuleType {
  @Field({ description: '"*" for every device type without a rule of its own.' })
  deviceType: string;

  @Field(() => Severity)
  minSeverity: Severity;

  @Field(() => WorkOrderPriority)
  priority: WorkOrderPriority;

  @Field(() => Int, { nullable: true, description: 'The work order is due this many days after it is created.' })
  dueInDays: number | null;

  @Field()
  enabled: boolean;
}

@ObjectType('RiskFactors', { description: 'The factors the repair-queue score multiplies (src/repairs/README.md).' })
export class RiskFactors {
  @Field(() => Float, { description: 'LOW 1, MEDIUM 2, HIGH 4, CRITICAL 8.' })
  severity: number;

  @Field(() => Float, { description: 'The highest confidence among the observations, 0–1.' })
  confidence: number;

  @Field(() => Float, { description: "The device's criticality: LOW 0.5, MEDIUM 1, HIGH 2, CRITICAL 4." })
  criticality: number;

  @Field(() => Float, { description: 'lastArea / firstArea, between 1 and 4.' })
  growth: number;

  @Field(() => Float, { description: '1 + (days since first seen, at most 365) / 90.' })
  age: number;
}

@ObjectType('RepairQueueItem')
export class RepairQueueItem {
  @Field(() => DefectType)
  defect: DefectType;

  @Field(() => Float, { description: 'severity × confidence × criticality × growth × age.' })
  score: number;

  @Field(() => RiskFactors)
  factors: RiskFactors;

  @Field(() => [String], { description: 'Why it ranks where it does, in words, the largest factor first.' })
  reasons: string[];
}

export const DefectConnection = ConnectionType(DefectType, 'Defect');
export const WorkOrderConnection = ConnectionType(WorkOrderType, 'WorkOrder');
export const RepairQueueConnection = ConnectionType(RepairQueueItem, 'RepairQueueItem');
