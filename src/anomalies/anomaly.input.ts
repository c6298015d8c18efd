import { IsOptional, Length, Max, Min } from 'class-validator';
import { Field, Float, ID, InputType, registerEnumType } from 'type-graphql';
import { OrderDirection } from '../common/order-direction';
import { AnomalyStatus } from './anomaly.type';

@InputType()
export class AnomalyFilter {
  @Field(() => ID, { nullable: true })
  deviceId?: string;

  @Field(() => [AnomalyStatus], { nullable: true })
  status?: AnomalyStatus[];

  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 100)
  type?: string;

  @Field(() => Float, { nullable: true })
  @IsOptional()
  @Min(0)
  @Max(1)
  minConfidence?: number;

  @Field({ nullable: true, description: 'Only anomalies found at or after this time.' })
  since?: Date;
}

export enum AnomalyOrderField {
  CREATED_AT = 'createdAt',
  CONFIDENCE = 'confidence',
}
registerEnumType(AnomalyOrderField, { name: 'AnomalyOrderField' });

@InputType()
export class AnomalyOrder {
  @Field(() => AnomalyOrderField)
  field: AnomalyOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.DESC })
  direction: OrderDirection;
}
