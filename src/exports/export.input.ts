import { ArrayMaxSize, IsOptional, Length, Max, Min, ValidateNested } from 'class-validator';
import { Field, Float, InputType } from 'type-graphql';
import { Severity } from '../anomalies/anomaly.type';
import { DeviceStatus } from '../devices/device.type';
import { DefectStatus, WorkOrderStatus } from '../repairs/repair.type';
import { ExportKind } from './export.type';

@InputType({ description: 'WGS 84 degrees. A west greater than east crosses the antimeridian.' })
export class BoundingBoxInput {
  @Field(() => Float)
  @Min(-180)
  @Max(180)
  west: number;

  @Field(() => Float)
  @Min(-90)
  @Max(90)
  south: number;

  @Field(() => Float)
  @Min(-180)
  @Max(180)
  east: number;

  @Field(() => Float)
  @Min(-90)
  @Max(90)
  north: number;
}

@InputType({ description: 'Every field given must match; a field that does not apply to the kind is refused.' })
export class ExportFilterInput {
  @Field({ nullable: true, description: "The device's type (all kinds)." })
  @IsOptional()
  @Length(1, 100)
  deviceType?: string;

  @Field(() => [DeviceStatus], { nullable: true, description: "The device's status (all kinds)." })
  @IsOptional()
  @ArrayMaxSize(10)
  deviceStatus?: DeviceStatus[];

  @Field(() => BoundingBoxInput, {
    nullable: true,
    description: 'Devices positioned inside the box (all kinds); unpositioned ones are left out.',
  })
  @IsOptional()
  @ValidateNested()
  bbox?: BoundingBoxInput;

  @Field(() => Severity, {
    nullable: true,
    description: 'Devices exports: devices with an open defect at least this severe. DEFECTS_CSV: defects at least this severe.',
  })
  minSeverity?: Severity;

  @Field(() => [DefectStatus], { nullable: true, description: 'DEFECTS_CSV only.' })
  @IsOptional()
  @ArrayMaxSize(10)
  defectStatus?: DefectStatus[];

  @Field(() => [WorkOrderStatus], { nullable: true, description: 'WORK_ORDERS_CSV only.' })
  @IsOptional()
  @ArrayMaxSize(10)
  workOrderStatus?: WorkOrderStatus[];
}

@InputType()
export class CreateExportInput {
  @Field(() => ExportKind)
  kind: ExportKind;

  @Field(() => ExportFilterInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  filter?: ExportFilterInput;
}
