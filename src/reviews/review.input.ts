import { Field, Float, InputType } from 'type-graphql';

@InputType({ description: 'A rectangle as shares of the image, each from 0 to 1: 0,0 is the top left corner.' })
export class ReviewBoxInput {
  @Field(() => Float)
  left: number;

  @Field(() => Float)
  top: number;

  @Field(() => Float)
  width: number;

  @Field(() => Float)
  height: number;
}

@InputType({ description: 'An anomaly a reviewer marked: where, and which type (one of reviewSettings.anomalyTypes).' })
export class ReviewRegionInput {
  @Field(() => ReviewBoxInput)
  box: ReviewBoxInput;

  @Field()
  type: string;
}
