import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, Float, ObjectType, registerEnumType } from 'type-graphql';
import { DetectionStage } from '../generated/prisma/enums';
import { Node } from '../graphql/node.type';

export { DetectionStage };

registerEnumType(DetectionStage, {
  name: 'DetectionStage',
  valuesConfig: {
    SCREEN: { description: 'Stage 1: the cheap model that sees every image.' },
    INSPECT: { description: 'Stage 2: the anomaly model, run only on what screening flagged.' },
  },
});

@ObjectType('Detection', { implements: Node, description: "One model's judgement of one image." })
export class DetectionType extends Node {
  @Field(() => DetectionStage)
  stage: DetectionStage;

  @Field({ description: 'Which detector: builtin, rekognition, lookout-for-vision, sagemaker…' })
  detector: string;

  @Field()
  modelVersion: string;

  @Field()
  isAnomalous: boolean;

  @Field(() => Float, { description: 'Probability in [0, 1] that the verdict is right.' })
  confidence: number;

  @Field(() => GraphQLJSONObject, { description: "The detector's raw answer." })
  result: object;

  @Field(() => Float, { description: 'What the call cost, in US dollars.' })
  costUsd: number;

  @Field()
  createdAt: Date;
}
