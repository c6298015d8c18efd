import { Field, InputType } from 'type-graphql';
import { BoxInput } from '../common/box.type';

@InputType({ description: 'An anomaly a reviewer marked: where, and which type (one of reviewSettings.anomalyTypes).' })
export class ReviewRegionInput {
  @Field(() => BoxInput)
  box: BoxInput;

  @Field()
  type: string;
}
