import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType({ description: 'Why one row of importDevices was not saved.' })
export class ImportRowError {
  @Field(() => Int, { description: 'Zero-based position of the row in the request.' })
  index: number;

  @Field(() => String, { nullable: true })
  externalId: string | null;

  @Field({ description: 'The input field at fault.' })
  field: string;

  @Field()
  code: string;

  @Field()
  message: string;
}

@ObjectType()
export class ImportDevicesResult {
  @Field(() => Int)
  created: number;

  @Field(() => Int)
  updated: number;

  @Field(() => Int)
  failed: number;

  @Field(() => [ImportRowError])
  errors: ImportRowError[];
}
