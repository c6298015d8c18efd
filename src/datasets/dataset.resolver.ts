import { injectable } from 'tsyringe';
import { UploadService } from '../images/upload.service';
import { ModelTrainingService } from '../models/training.service';
import { DatasetImportService } from './dataset-import.service';
import { DatasetService } from './dataset.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Dataset, type DatasetEntry } from '../generated/prisma/client';
import { ADMIN_ONLY, READ_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { DatasetEntryFilter, ImportDatasetInput } from '../models/model.input';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { ReviewRegion } from '../reviews/review-task.type';
import {
  DatasetCounts,
  DatasetEntryConnection,
  DatasetEntryType,
  DatasetStatsType,
  DatasetType,
  ImportDatasetResult,
} from './dataset.type';

@injectable()
@Resolver(() => DatasetType)
export class DatasetResolver {
  constructor(
    private readonly datasetService: DatasetService,
    private readonly datasetImportService: DatasetImportService,
    private readonly trainingService: ModelTrainingService,
    private readonly uploadService: UploadService,
  ) {}

  @Authorized(READ_FLEET)
  @Query(() => [DatasetType], { description: 'Every dataset, by name. Reviewed labels are written to the dataset of the device type.' })
  datasets() {
    return this.datasetService.list();
  }

  @Authorized(READ_FLEET)
  @Query(() => DatasetType, { nullable: true, description: 'Null when it does not exist.' })
  async dataset(@Arg('id', () => ID) id: string) {
    return (await this.datasetService.byIds([fromGlobalId('Dataset', id, 'id')]))[0] ?? null;
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ImportDatasetResult, {
    description:
      "Adds labelled images a team already has to the device type's dataset; repeating it adds nothing. Bad files are listed in errors and skipped.",
  })
  async importDataset(@Arg('input', () => ImportDatasetInput) input: ImportDatasetInput) {
    return this.datasetImportService.import(input);
  }

  @FieldResolver(() => DatasetEntryConnection, { description: 'Oldest first.' })
  entries(
    @Root() dataset: Dataset,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('filter', () => DatasetEntryFilter, { nullable: true }) filter?: DatasetEntryFilter | null,
  ) {
    return this.datasetService.entries(dataset.id, page, filter ?? {});
  }

  @FieldResolver(() => DatasetStatsType, { description: 'Entries per split and label, and how many labels wait for the next training.' })
  async stats(@Root() dataset: Dataset): Promise<DatasetStatsType> {
    const stats = await this.datasetService.stats(dataset.id);
    const last = await this.trainingService.lastTraining(dataset.id);
    return {
      ...stats,
      lastTrainedAt: last?.createdAt ?? null,
      labelsWaiting: await this.trainingService.labelsWaiting(dataset.id, last?.profile ?? 'INSPECT'),
    };
  }

  @FieldResolver(() => DatasetCounts)
  counts(@Root() dataset: Dataset, @Ctx() ctx: Context) {
    return ctx.loaders.datasetCounts.load(dataset.id);
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'A link to the Lookout-format JSON Lines manifest (valid for UPLOAD_URL_TTL_SECONDS).',
  })
  manifestUrl(@Root() dataset: Dataset) {
    return dataset.manifestKey ? this.uploadService.downloadUrl(dataset.manifestKey) : null;
  }
}

@injectable()
@Resolver(() => DatasetEntryType)
export class DatasetEntryResolver {
  constructor(private readonly uploadService: UploadService) {}

  @FieldResolver(() => ImageType, { nullable: true, description: 'The reviewed image; null for an imported entry (see sourceUrl).' })
  image(@Root() entry: DatasetEntry, @Ctx() ctx: Context) {
    return entry.imageId ? ctx.loaders.image.load(entry.imageId) : null;
  }

  @FieldResolver(() => Boolean, { description: 'Came from importDataset rather than a review.' })
  imported(@Root() entry: DatasetEntry): boolean {
    return !entry.imageId;
  }

  @FieldResolver(() => String, { nullable: true, description: 'A link to an imported picture (valid for UPLOAD_URL_TTL_SECONDS).' })
  sourceUrl(@Root() entry: DatasetEntry) {
    return entry.sourceKey ? this.uploadService.downloadUrl(entry.sourceKey) : null;
  }

  @FieldResolver(() => [ReviewRegion], { description: 'Where the anomalies are; empty for a NORMAL label.' })
  regions(@Root() entry: DatasetEntry): ReviewRegion[] {
    return (entry.regions as unknown as { box: ReviewRegion['box']; type: string }[]).map((r) => ({ ...r, confidence: null }));
  }

  @FieldResolver(() => String, {
    nullable: true,
    description: 'A link to the mask PNG (anomaly colours on white), when the label has regions.',
  })
  maskUrl(@Root() entry: DatasetEntry) {
    return entry.maskKey ? this.uploadService.downloadUrl(entry.maskKey) : null;
  }
}
