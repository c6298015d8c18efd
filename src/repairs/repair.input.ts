import { ArrayMaxSize, ArrayMinSize, IsOptional, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { Field, Float, ID, InputType, Int } from 'type-graphql';
import { Severity } from '../anomalies/anomaly.type';
import { DefectStatus, FieldFinding, WorkOrderPriority, WorkOrderStatus } from './repair.type';

const TYPE_OR_ANY = /^(\*|[a-z0-9][a-z0-9_-]*)$/;

@InputType()
export class DefectFilter {
  @Field(() => ID, { nullable: true })
  deviceId?: string | null;

  @Field(() => [DefectStatus], { nullable: true })
  status?: DefectStatus[] | null;

  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 100)
  type?: string;

  @Field(() => Severity, { nullable: true, description: 'Only defects at least this severe.' })
  minSeverity?: Severity | null;
}

@InputType()
export class WorkOrderFilter {
  @Field(() => ID, { nullable: true })
  deviceId?: string | null;

  @Field(() => [WorkOrderStatus], { nullable: true })
  status?: WorkOrderStatus[] | null;

  @Field(() => Boolean, { nullable: true })
  flagged?: boolean;
}

@InputType({ description: 'Which open defects the repair queue ranks; every field given must match.' })
export class RepairQueueFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(1000)
  deviceIds?: string[] | null;

  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 100)
  deviceType?: string;

  @Field(() => [String], { nullable: true, description: 'Anomaly types.' })
  @IsOptional()
  @ArrayMaxSize(100)
  types?: string[] | null;

  @Field(() => Severity, { nullable: true })
  minSeverity?: Severity | null;

  @Field(() => Boolean, { nullable: true, description: 'Only defects that no active work order plans yet.' })
  unplanned?: boolean;
}

@InputType()
export class CreateWorkOrderInput {
  @Field(() => [ID], { description: 'Open defects, all of one device.' })
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  defectIds: string[];

  @Field(() => WorkOrderPriority, { nullable: true, description: 'NORMAL when omitted.' })
  priority?: WorkOrderPriority | null;

  @Field(() => Date, { nullable: true, description: 'Must be in the future.' })
  dueAt?: Date | null;

  @Field(() => String, { nullable: true, description: "A crew's name or a person's id in the maintenance system." })
  @IsOptional()
  @Length(1, 200)
  assignee?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 4000)
  notes?: string | null;

  @Field(() => String, { nullable: true, description: 'A retry with the same key returns the first work order instead of a second.' })
  @IsOptional()
  @Length(1, 200)
  idempotencyKey?: string | null;
}

@InputType({ description: 'Fields to change; omitted fields stay, null clears.' })
export class UpdateWorkOrderInput {
  @Field(() => WorkOrderPriority, { nullable: true })
  priority?: WorkOrderPriority | null;

  @Field(() => Date, { nullable: true, description: 'Must be in the future.' })
  dueAt?: Date | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 200)
  assignee?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 4000)
  notes?: string | null;
}

@InputType({ description: 'What the crew found at one defect of the work order.' })
export class FieldFindingInput {
  @Field(() => ID)
  defectId: string;

  @Field(() => FieldFinding)
  finding: FieldFinding;

  @Field(() => String, {
    nullable: true,
    description: 'The anomaly type it really was; required with DIFFERENT_PROBLEM, refused otherwise.',
  })
  @IsOptional()
  @Length(1, 100)
  correctedType?: string | null;

  @Field(() => String, { nullable: true })
  @IsOptional()
  @Length(1, 1000)
  note?: string | null;
}

@InputType()
export class SeverityRuleInput {
  @Field({ defaultValue: '*', description: 'An anomaly type, or "*" for any.' })
  @Length(1, 100)
  @Matches(TYPE_OR_ANY, { message: '$property must be "*" or a lowercase name such as crack' })
  anomalyType: string;

  @Field(() => Float, { defaultValue: 0 })
  @Min(0)
  @Max(1)
  minAreaShare: number;

  @Field(() => Float, { defaultValue: 0 })
  @Min(0)
  @Max(1)
  minConfidence: number;

  @Field(() => Severity)
  severity: Severity;
}

@InputType()
export class SetSeverityRulesInput {
  @Field({ description: 'A device type, or "*" for the rules of every type without rules of its own.' })
  @Length(1, 100)
  @Matches(TYPE_OR_ANY, { message: '$property must be "*" or a lowercase name such as insulator' })
  deviceType: string;

  @Field(() => [SeverityRuleInput], { description: 'Replaces the set; an empty list removes it.' })
  @ArrayMaxSize(100)
  @ValidateNested()
  rules: SeverityRuleInput[];
}

@InputType()
export class AutoWorkOrderRuleInput {
  @Field({ description: 'A device type, or "*" for every type without a rule of its own.' })
  @Length(1, 100)
  @Matches(TYPE_OR_ANY, { message: '$property must be "*" or a lowercase name such as insulator' })
  deviceType: string;

  @Field(() => Severity)
  minSeverity: Severity;

  @Field(() => WorkOrderPriority, { defaultValue: WorkOrderPriority.NORMAL })
  priority: WorkOrderPriority;

  @Field(() => Int, { nullable: true })
  @IsOptional()
  @Min(1)
  @Max(3650)
  dueInDays?: number | null;

  @Field({ defaultValue: true })
  enabled: boolean;
}
