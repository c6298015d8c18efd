import { ArgsType, Field, Int } from 'type-graphql';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, description: 'Return the first N nodes after `after` (at most 500).' })
  first?: number | null;

  @Field(() => String, { nullable: true })
  after?: string | null;

  @Field(() => Int, { nullable: true, description: 'Return the last N nodes before `before` (at most 500).' })
  last?: number | null;

  @Field(() => String, { nullable: true })
  before?: string | null;
}
