import { Field, Float, Int, ObjectType } from 'type-graphql';
import { DetectionStage } from '../detections/detection.type';

@ObjectType('StageCost')
export class StageCostType {
  @Field(() => Float, { description: 'US dollars.' })
  usd: number;

  @Field(() => Int, { description: 'Detector calls (one per tile of a large frame).' })
  calls: number;

  @Field(() => Int, { description: 'Images judged.' })
  images: number;
}

@ObjectType('Cost', { description: 'What detection cost, by stage, and what the cascade saved.' })
export class CostType {
  @Field(() => StageCostType, { description: 'Stage 1: every image.' })
  screen: StageCostType;

  @Field(() => StageCostType, { description: 'Stage 2: only what stage 1 flagged.' })
  inspect: StageCostType;

  @Field(() => Float)
  totalUsd: number;

  @Field(() => Float, { description: 'What stage 2 on every screened picture would have cost.' })
  withoutCascadeUsd: number;

  @Field(() => Float, { description: 'withoutCascadeUsd − totalUsd.' })
  savedUsd: number;

  @Field(() => Float, { description: 'Share of stage-2 calls the screen avoided, 0..1.' })
  inspectCallsAvoided: number;
}

@ObjectType('DetectorCost')
export class DetectorCostType {
  @Field()
  detector: string;

  @Field(() => DetectionStage)
  stage: DetectionStage;

  @Field(() => Float)
  usd: number;

  @Field(() => Int)
  calls: number;
}

@ObjectType('CostReport')
export class CostReportType extends CostType {
  @Field()
  from: Date;

  @Field()
  to: Date;

  @Field(() => [DetectorCostType])
  byDetector: DetectorCostType[];
}
