import { ArrayMaxSize, IsOptional, Max, Min } from 'class-validator';
import { Field, Float, ID, InputType } from 'type-graphql';
import { DeviceStatus } from '../devices/device.type';
import { Severity } from '../anomalies/anomaly.type';
import { DefectStatus, WorkOrderStatus } from '../repairs/repair.type';

// A list that is omitted or empty does not filter, as in the queries' filters.
const MAX_LIST = 1000;

@InputType({ description: 'Which anomalies to hear about; every field given must match.' })
export class AnomalySubscriptionFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  deviceIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Anomaly types, e.g. missing-cap.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  types?: string[] | null;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1)
  minConfidence?: number | null;
}

@InputType({ description: 'Which device status changes to hear about; every field given must match.' })
export class DeviceStatusFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  deviceIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Device types, e.g. insulator.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  types?: string[] | null;

  @Field(() => [DeviceStatus], { nullable: true, description: 'The new status.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  statuses?: DeviceStatus[] | null;
}

@InputType({ description: 'Which defect changes to hear about; every field given must match.' })
export class DefectSubscriptionFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  deviceIds?: string[] | null;

  @Field(() => [String], { nullable: true, description: 'Anomaly types, e.g. crack.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  types?: string[] | null;

  @Field(() => [DefectStatus], { nullable: true, description: 'The new status.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  statuses?: DefectStatus[] | null;

  @Field(() => Severity, { nullable: true, description: 'Only defects at least this severe.' })
  @IsOptional()
  minSeverity?: Severity | null;
}

@InputType({ description: 'Which work-order changes to hear about; every field given must match.' })
export class WorkOrderSubscriptionFilter {
  @Field(() => [ID], { nullable: true })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  deviceIds?: string[] | null;

  @Field(() => [WorkOrderStatus], { nullable: true, description: 'The new status.' })
  @IsOptional()
  @ArrayMaxSize(MAX_LIST)
  statuses?: WorkOrderStatus[] | null;
}
