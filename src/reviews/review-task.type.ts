import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { ReviewReason, ReviewTaskStatus } from '../generated/prisma/enums';
import { Node } from '../graphql/node.type';

export { ReviewReason, ReviewTaskStatus };

registerEnumType(ReviewReason, {
  name: 'ReviewReason',
  valuesConfig: {
    COLD_START: { description: "No model yet for the device's type: a person labels it, and the labels train the first model." },
    LOW_CONFIDENCE: { description: "The model's verdict fell inside its uncertainty band." },
    SAMPLED_QA: { description: 'A random sample of confident verdicts, to measure the model honestly.' },
  },
});
registerEnumType(ReviewTaskStatus, { name: 'ReviewTaskStatus' });

@ObjectType('ReviewTask', { implements: Node, description: 'A question for a person about one image.' })
export class ReviewTaskType extends Node {
  @Field(() => ReviewReason)
  reason: ReviewReason;

  @Field(() => ReviewTaskStatus)
  status: ReviewTaskStatus;

  @Field(() => Float, { description: '1: the model could not tell at all; 0: it was sure. The queue serves the most uncertain first.' })
  uncertainty: number;

  @Field()
  createdAt: Date;
}
