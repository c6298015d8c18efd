import { IsOptional, Length, Matches, Max, Min, ValidateNested } from 'class-validator';
import { Field, Float, InputType, registerEnumType } from 'type-graphql';
import { OrderDirection } from '../common/order-direction';
import { Criticality, DeviceStatus } from './device.type';

const TYPE_SLUG = /^[a-z0-9][a-z0-9_-]*$/;
const NO_OUTER_SPACE = /^\S(.*\S)?$/s;

// One definition per device field, shared by create and update; `optional` is the update's.
const compose =
  (...decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) =>
    decorators.forEach((d) => d(target, key));
const maybe = (optional: boolean) => (optional ? [IsOptional()] : []);

const ExternalIdField = (optional = false) =>
  compose(
    Field({ nullable: optional }),
    ...maybe(optional),
    Length(1, 200),
    Matches(NO_OUTER_SPACE, { message: '$property must not start or end with white space' }),
  );
const NameField = (optional = false) => compose(Field({ nullable: optional }), ...maybe(optional), Length(1, 200));
const TypeField = (optional = false) =>
  compose(
    Field({ nullable: optional }),
    ...maybe(optional),
    Length(1, 100),
    Matches(TYPE_SLUG, { message: '$property must be a lowercase name such as insulator or wood-pole' }),
  );
const LatitudeField = () =>
  compose(
    Field(() => Float, { nullable: true }),
    IsOptional(),
    Min(-90),
    Max(90),
  );
const LongitudeField = () =>
  compose(
    Field(() => Float, { nullable: true }),
    IsOptional(),
    Min(-180),
    Max(180),
  );

@InputType({ description: 'A device as an operator registers it. Latitude and longitude go together.' })
export class DeviceInput {
  @ExternalIdField()
  externalId: string;

  @NameField()
  name: string;

  @TypeField()
  type: string;

  @LatitudeField()
  latitude?: number | null;

  @LongitudeField()
  longitude?: number | null;

  @Field(() => Criticality, { nullable: true, description: 'MEDIUM when omitted.' })
  @IsOptional()
  criticality?: Criticality | null;
}

@InputType({ description: 'Fields to change; omitted fields stay as they are, null clears a location.' })
export class UpdateDeviceInput {
  @ExternalIdField(true)
  externalId?: string;

  @NameField(true)
  name?: string;

  @TypeField(true)
  type?: string;

  @LatitudeField()
  latitude?: number | null;

  @LongitudeField()
  longitude?: number | null;

  @Field(() => DeviceStatus, { nullable: true, description: 'Use decommissionDevice to take a device out of service.' })
  @IsOptional()
  status?: DeviceStatus;

  @Field(() => Criticality, { nullable: true })
  @IsOptional()
  criticality?: Criticality;
}

@InputType()
export class NearInput {
  @Field(() => Float)
  @Min(-90)
  @Max(90)
  latitude: number;

  @Field(() => Float)
  @Min(-180)
  @Max(180)
  longitude: number;

  @Field(() => Float, { description: 'Radius in kilometres, more than 0 and at most 100.' })
  @Min(0.001)
  @Max(100)
  radiusKm: number;
}

@InputType()
export class DeviceFilter {
  @Field(() => [DeviceStatus], { nullable: true })
  status?: DeviceStatus[];

  @Field({ nullable: true })
  @IsOptional()
  @Length(1, 100)
  type?: string;

  @Field({ nullable: true, description: 'Case-insensitive match on name or externalId.' })
  @IsOptional()
  @Length(1, 200)
  search?: string;

  @Field(() => NearInput, { nullable: true })
  @IsOptional()
  @ValidateNested()
  near?: NearInput;
}

export enum DeviceOrderField {
  NAME = 'name',
  EXTERNAL_ID = 'externalId',
  CREATED_AT = 'createdAt',
  UPDATED_AT = 'updatedAt',
}
registerEnumType(DeviceOrderField, { name: 'DeviceOrderField' });

@InputType()
export class DeviceOrder {
  @Field(() => DeviceOrderField)
  field: DeviceOrderField;

  @Field(() => OrderDirection, { defaultValue: OrderDirection.ASC })
  direction: OrderDirection;
}
