import { Field, Int, ObjectType, registerEnumType } from 'type-graphql';
import { DatasetSplit } from '../generated/prisma/enums';
import { ConnectionType } from '../common/pagination/connection.type';
import { Node } from '../graphql/node.type';
import { ReviewVerdict } from '../reviews/review-task.type';

export { DatasetSplit };

registerEnumType(DatasetSplit, {
  name: 'DatasetSplit',
  valuesConfig: {
    TRAIN: { description: 'Models train on it.' },
    TEST: { description: 'Held out: models are evaluated on it, never trained on it.' },
  },
});

@ObjectType('Dataset', { implements: Node, description: "Reviewed images of one device type: a model's training and test data." })
export class DatasetType extends Node {
  @Field()
  name: string;

  @Field()
  deviceType: string;

  @Field(() => Date, {
    nullable: true,
    description: 'When the manifest was last written with every entry; null while an update is pending.',
  })
  manifestAt: Date | null;

  @Field()
  createdAt: Date;
}

@ObjectType({ description: 'How many entries a dataset holds.' })
export class DatasetCounts {
  @Field(() => Int)
  total: number;

  @Field(() => Int)
  anomalous: number;

  @Field(() => Int, { description: 'Entries in the TEST split.' })
  test: number;
}

@ObjectType('DatasetEntry', { implements: Node, description: 'One labelled image of a dataset.' })
export class DatasetEntryType extends Node {
  @Field(() => ReviewVerdict)
  label: ReviewVerdict;

  @Field(() => DatasetSplit)
  split: DatasetSplit;

  @Field(() => Date)
  createdAt: Date;

  @Field(() => Date, { description: 'When the label last changed.' })
  updatedAt: Date;
}

export const DatasetEntryConnection = ConnectionType(DatasetEntryType, 'DatasetEntry');

@ObjectType('DatasetSplitStats')
export class DatasetSplitStatsType {
  @Field(() => Int) count: number;
  @Field(() => Int) normal: number;
  @Field(() => Int) anomalous: number;
}

@ObjectType('DatasetStats', { description: 'What a dataset holds, and how much has arrived since its models last trained.' })
export class DatasetStatsType {
  @Field(() => DatasetSplitStatsType) train: DatasetSplitStatsType;
  @Field(() => DatasetSplitStatsType) test: DatasetSplitStatsType;
  @Field(() => Int, { description: 'Entries labelled by reviewers.' }) reviewed: number;
  @Field(() => Int, { description: 'Entries from importDataset.' }) imported: number;
  @Field(() => Date, { nullable: true }) lastLabelAt: Date | null;
  @Field(() => Date, { nullable: true, description: 'When its last training began.' }) lastTrainedAt: Date | null;
  @Field(() => Int, { description: 'Labels added or changed since then (MODEL_RETRAIN_AFTER_LABELS of them start a training).' })
  labelsWaiting: number;
}

@ObjectType('ImportProblem')
export class ImportProblemType {
  @Field({ description: 'The file, or "line N" of a manifest.' }) path: string;
  @Field() message: string;
}

@ObjectType('ImportDatasetResult')
export class ImportDatasetResult {
  @Field(() => DatasetType) dataset: DatasetType;
  @Field(() => Int) imported: number;
  @Field(() => Int, { description: 'Pictures the dataset already had.' }) unchanged: number;
  @Field(() => [ImportProblemType], { description: 'Files or lines skipped, and why.' }) errors: ImportProblemType[];
}
