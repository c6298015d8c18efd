import { IsOptional, Length, MaxLength } from 'class-validator';
import { Field, ID, InputType } from 'type-graphql';
import { InspectionSource, InspectionStatus } from './inspection.type';

@InputType()
export class CreateInspectionInput {
  @Field(() => ID)
  deviceId: string;

  @Field(() => InspectionSource)
  source: InspectionSource;

  @Field({ description: 'When the photographs were taken; not more than a day in the future.' })
  capturedAt: Date;

  @Field({ nullable: true, description: "Defaults to the calling API key's name." })
  @IsOptional()
  @Length(1, 200)
  requestedBy?: string;

  @Field({ nullable: true })
  @IsOptional()
  @MaxLength(2000)
  notes?: string;

  @Field({
    nullable: true,
    description:
      'Any string unique per device, chosen by the client: repeating the call with it returns the inspection the first call created.',
  })
  @IsOptional()
  @Length(1, 100)
  idempotencyKey?: string;
}

@InputType()
export class InspectionFilter {
  @Field(() => ID, { nullable: true })
  deviceId?: string;

  @Field(() => [InspectionStatus], { nullable: true })
  status?: InspectionStatus[];

  @Field({ nullable: true })
  capturedAfter?: Date;

  @Field({ nullable: true })
  capturedBefore?: Date;
}
