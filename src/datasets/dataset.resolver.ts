import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Dataset, type DatasetEntry } from '../generated/prisma/client';
import { ADMIN_ONLY, READ_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { DatasetEntryFilter, ImportDatasetInput } from '../models/model.input';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { ReviewRegionType } from '../reviews/review-task.type';
import { DatasetCounts, DatasetEntryConnection, DatasetEntryType, DatasetStatsType, DatasetType, ImportDatasetResult } from './dataset.type';

@Resolver(() => DatasetType)
export class DatasetResolver {
  @Authorized(READ_FLEET)
  @Query(() => [DatasetType], { description: 'Every dataset, by name. Reviewed labels are written to the dataset of the device type.' })
  datasets(@Ctx() ctx: Context) {
    return ctx.services.datasets.list();
  }

  @Authorized(READ_FLEET)
  @Query(() => DatasetType, { nullable: true, description: 'Null when it does not exist.' })
  async dataset(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return (await ctx.services.datasets.byIds([fromGlobalId('Dataset', id, 'id')]))[0] ?? null;
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ImportDatasetResult, {
    description: 'Adds labelled images a team already has to the device type\'s dataset; repeating it adds nothing. Bad files are listed in errors and skipped.',
  })
  async importDataset(@Arg('input', () => ImportDatasetInput) input: ImportDatasetInput, @Ctx() ctx: Context) {
    return ctx.services.datasetImports.import(input);
  }

  @FieldResolver(() => DatasetEntryConnection, { description: 'Oldest first.' })
  entries(
    @Root() dataset: Dataset,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Arg('filter', () => DatasetEntryFilter, { nullable: true }) filter?: DatasetEntryFilter | null,
  ) {
    return ctx.services.datasets.entries(dataset.id, page, filter ?? {});
  }

  @FieldResolver(() => DatasetStatsType, { description: 'Entries per split and label, and how many labels wait for the next training.' })
  async stats(@Root() dataset: Dataset, @Ctx() ctx: Context): Promise<DatasetStatsType> {
    const stats = await ctx.services.datasets.stats(dataset.id);
    const last = await ctx.services.modelTraining.lastTraining(dataset.id);
    return { ...stats, lastTrainedAt: last?.createdAt ?? null, labelsWaiting: await ctx.services.modelTraining.labelsWaiting(dataset.id, last?.profile ?? 'INSPECT') };
  }

  @FieldResolver(() => DatasetCounts)
  counts(@Root() dataset: Dataset, @Ctx() ctx: Context) {
    return ctx.loaders.datasetCounts.load(dataset.id);
  }

  @FieldResolver(() => String, { nullable: true, description: 'A link to the Lookout-format JSON Lines manifest (valid for UPLOAD_URL_TTL_SECONDS).' })
  manifestUrl(@Root() dataset: Dataset, @Ctx() ctx: Context) {
    return dataset.manifestKey ? ctx.services.uploads.downloadUrl(dataset.manifestKey) : null;
  }
}

@Resolver(() => DatasetEntryType)
export class DatasetEntryResolver {
  @FieldResolver(() => ImageType, { nullable: true, description: 'The reviewed image; null for an imported entry (see sourceUrl).' })
  image(@Root() entry: DatasetEntry, @Ctx() ctx: Context) {
    return entry.imageId ? ctx.loaders.image.load(entry.imageId) : null;
  }

  @FieldResolver(() => Boolean, { description: 'Came from importDataset rather than a review.' })
  imported(@Root() entry: DatasetEntry): boolean {
    return !entry.imageId;
  }

  @FieldResolver(() => String, { nullable: true, description: 'A link to an imported picture (valid for UPLOAD_URL_TTL_SECONDS).' })
  sourceUrl(@Root() entry: DatasetEntry, @Ctx() ctx: Context) {
    return entry.sourceKey ? ctx.services.uploads.downloadUrl(entry.sourceKey) : null;
  }

  @FieldResolver(() => [ReviewRegionType], { description: 'Where the anomalies are; empty for a NORMAL label.' })
  regions(@Root() entry: DatasetEntry): ReviewRegionType[] {
    return (entry.regions as unknown as { box: ReviewRegionType['box']; type: string }[]).map((r) => ({ ...r, confidence: null }));
  }

  @FieldResolver(() => String, { nullable: true, description: 'A link to the mask PNG (anomaly colours on white), when the label has regions.' })
  maskUrl(@Root() entry: DatasetEntry, @Ctx() ctx: Context) {
    return entry.maskKey ? ctx.services.uploads.downloadUrl(entry.maskKey) : null;
  }
}
