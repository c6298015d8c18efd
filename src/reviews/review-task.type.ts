import { Field, Float, Int, ObjectType, registerEnumType } from 'type-graphql';
import { ReviewReason, ReviewTaskStatus, ReviewVerdict } from '../generated/prisma/enums';
import { Box } from '../common/box.type';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';

export { ReviewReason, ReviewTaskStatus, ReviewVerdict };

registerEnumType(ReviewReason, {
  name: 'ReviewReason',
  valuesConfig: {
    COLD_START: { description: "No model yet for the device's type: a person labels it, and the labels train the first model." },
    LOW_CONFIDENCE: { description: "The model's verdict fell inside its uncertainty band." },
    SAMPLED_QA: { description: 'A random sample of confident verdicts, to measure the model honestly.' },
    ACTIVE_LEARNING: {
      description:
        'A confident verdict the model came close to deciding otherwise, picked at the end of a run (REVIEW_LEARNING_PER_RUN, REVIEW_LEARNING_PER_DAY) so the next model learns where it is weakest. Not part of the QA estimate.',
    },
  },
});
registerEnumType(ReviewTaskStatus, {
  name: 'ReviewTaskStatus',
  valuesConfig: {
    PENDING: { description: 'Waiting in the queue (escalated tasks wait for an ADMIN).' },
    CLAIMED: { description: 'A reviewer holds it until the lease ends; then it returns to the queue.' },
    COMPLETED: { description: 'Answered; the label was written to the anomalies and the dataset.' },
    EXPIRED: { description: 'Its Amazon A2I human loop failed or stopped for the last time; an ADMIN answers it on /review.' },
    CANCELLED: { description: 'Another task on the same image was answered first.' },
  },
});
registerEnumType(ReviewVerdict, { name: 'ReviewVerdict' });

@ObjectType('ReviewTask', { implements: Node, description: 'A question for a person about one image.' })
export class ReviewTaskType extends Node {
  @Field(() => ReviewReason)
  reason: ReviewReason;

  @Field(() => ReviewTaskStatus)
  status: ReviewTaskStatus;

  @Field(() => Float, { description: '1: the model could not tell at all; 0: it was sure.' })
  uncertainty: number;

  @Field(() => Int, { description: 'Answers that must agree before the task completes (REVIEW_CONSENSUS).' })
  requiredAnswers: number;

  @Field({ description: 'Reviewers disagreed or the human loop gave up: only an ADMIN answers it now.' })
  escalated: boolean;

  @Field(() => ReviewVerdict, { nullable: true, description: 'The agreed verdict once COMPLETED.' })
  verdict: ReviewVerdict | null;

  @Field(() => Date, { nullable: true })
  completedAt: Date | null;

  @Field(() => String, { nullable: true, description: 'Why the task was escalated, cancelled or expired.' })
  note: string | null;

  @Field(() => String, { nullable: true, description: 'The Amazon A2I human loop answering it, when HUMAN_REVIEW=a2i.' })
  humanLoopName: string | null;

  @Field()
  createdAt: Date;
}

export const ReviewTaskConnection = ConnectionType(ReviewTaskType, 'ReviewTask');

@ObjectType('ReviewRegion')
export class ReviewRegion {
  @Field(() => Box)
  box: Box;

  @Field()
  type: string;

  @Field(() => Float, { nullable: true, description: "The model's confidence; null for a region a person drew." })
  confidence: number | null;
}

@ObjectType('ReviewHeatmap', { description: 'A heatmap PNG to draw stretched over `frame` (a tile of a large image, or all of it).' })
export class ReviewHeatmap {
  @Field()
  url: string;

  @Field(() => Box)
  frame: Box;
}

@ObjectType('ReviewModelOutput', { description: 'What the model said about the image.' })
export class ReviewModelOutput {
  @Field()
  detector: string;

  @Field()
  modelVersion: string;

  @Field()
  isAnomalous: boolean;

  @Field(() => Float)
  confidence: number;

  @Field(() => [ReviewRegion])
  regions: ReviewRegion[];

  @Field(() => [ReviewHeatmap])
  heatmaps: ReviewHeatmap[];
}

@ObjectType('ReviewAnswer', { description: "One reviewer's answer." })
export class ReviewAnswer {
  @Field(() => ReviewVerdict)
  verdict: ReviewVerdict;

  @Field(() => [ReviewRegion])
  regions: ReviewRegion[];

  @Field(() => String, { nullable: true })
  comment: string | null;

  @Field({ description: 'The API key id, or a2i:<workerId>.' })
  reviewer: string;

  @Field()
  createdAt: Date;
}

@ObjectType()
export class ReviewReasonCount {
  @Field(() => ReviewReason)
  reason: ReviewReason;

  @Field(() => Int, { description: 'Waiting or claimed.' })
  pending: number;

  @Field(() => Int)
  completed: number;
}

@ObjectType('ReviewStats', { description: 'Progress of the review queue.' })
export class ReviewStats {
  @Field(() => Int, { description: 'Claimable now by a reviewer (lapsed claims included; escalated and A2I tasks not).' })
  pending: number;

  @Field(() => Int, { description: 'Held under an unexpired lease.' })
  claimed: number;

  @Field(() => Int, { description: 'Waiting for an ADMIN.' })
  escalated: number;

  @Field(() => Int)
  completed: number;

  @Field(() => Int)
  expired: number;

  @Field(() => Int)
  cancelled: number;

  @Field(() => Int, { description: 'Tasks completed since midnight UTC, by anyone.' })
  completedToday: number;

  @Field(() => Int, { description: 'Answers the calling key gave since midnight UTC.' })
  mineToday: number;

  @Field(() => [ReviewReasonCount])
  byReason: ReviewReasonCount[];
}

@ObjectType('ReviewSettings', { description: 'How review works on this installation.' })
export class ReviewSettings {
  @Field(() => [String], { description: 'Anomaly types a reviewer may pick (ANOMALY_TYPES).' })
  anomalyTypes: string[];

  @Field(() => Int)
  leaseSeconds: number;

  @Field(() => Int)
  requiredAnswers: number;

  @Field({ description: 'builtin (the /review page) or a2i (Amazon Augmented AI).' })
  humanReview: string;
}
