import { GraphQLJSONObject } from 'graphql-scalars';
import { Field, ID, InputType } from 'type-graphql';
import { DatasetSplit } from '../generated/prisma/enums';
import { ReviewVerdict } from '../reviews/review-task.type';
import { ModelProfile, ModelStatus } from './model.type';

@InputType({ description: 'Which model versions: every field narrows.' })
export class ModelVersionFilter {
  @Field(() => String, { nullable: true }) deviceType?: string | null;
  @Field(() => ModelProfile, { nullable: true }) profile?: ModelProfile | null;
  @Field(() => ModelStatus, { nullable: true }) status?: ModelStatus | null;
  @Field(() => ID, { nullable: true }) datasetId?: string | null;
}

@InputType()
export class TrainModelInput {
  @Field(() => ID) datasetId: string;
  @Field(() => ModelProfile) profile: ModelProfile;

  @Field(() => GraphQLJSONObject, {
    nullable: true,
    description: 'Built-in model: { seed }. Lookout for Vision / SageMaker: hyperparameters (strings, numbers, booleans).',
  })
  params?: Record<string, unknown> | null;
}

@InputType()
export class DeployModelInput {
  @Field(() => ID) id: string;

  @Field({ defaultValue: false, description: 'Deploy even if the gate refuses (ADMIN); needs a reason.' })
  override: boolean;

  @Field(() => String, { nullable: true, description: 'Why the gate is overridden; stored with the deployment.' })
  reason?: string | null;
}

@InputType()
export class RollbackModelInput {
  @Field() deviceType: string;
  @Field(() => ModelProfile) profile: ModelProfile;
}

@InputType({ description: 'Labelled images a team already has. Exactly one of folder and manifestUri.' })
export class ImportDatasetInput {
  @Field({ description: 'Device type the dataset belongs to; its dataset is created if needed.' })
  deviceType: string;

  @Field(() => String, {
    nullable: true,
    description:
      'A folder on the server, relative to IMPORT_ROOT (nothing outside it is read; links leading out and non-regular files are skipped): normal/*.{jpg,png} and anomalous/<type>/*.{jpg,png}, with optional <name>.mask.png (white = anomalous).',
  })
  folder?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A Lookout-format JSON Lines manifest in the object store (s3://bucket/key or file:///…), naming images in the same store.',
  })
  manifestUri?: string | null;

  @Field(() => DatasetSplit, {
    nullable: true,
    description: 'Put every entry in this split; default: each image by a hash of its content (DATASET_TEST_SHARE).',
  })
  split?: DatasetSplit | null;
}

@InputType({ description: 'Which dataset entries.' })
export class DatasetEntryFilter {
  @Field(() => DatasetSplit, { nullable: true }) split?: DatasetSplit | null;
  @Field(() => ReviewVerdict, { nullable: true }) label?: ReviewVerdict | null;
  @Field(() => Boolean, { nullable: true, description: 'true: only imported entries; false: only reviewed ones.' }) imported?:
    | boolean
    | null;
}
