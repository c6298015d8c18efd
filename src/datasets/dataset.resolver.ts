import { Args, Authorized, Ctx, FieldResolver, Query, Resolver, Root } from 'type-graphql';
import { type Dataset, type DatasetEntry } from '../generated/prisma/client';
import { READ_FLEET } from '../auth/roles';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { ReviewRegionType } from '../reviews/review-task.type';
import { DatasetCounts, DatasetEntryConnection, DatasetEntryType, DatasetType } from './dataset.type';

@Resolver(() => DatasetType)
export class DatasetResolver {
  @Authorized(READ_FLEET)
  @Query(() => [DatasetType], { description: 'Every dataset, by name. Reviewed labels are written to the dataset of the device type.' })
  datasets(@Ctx() ctx: Context) {
    return ctx.services.datasets.list();
  }

  @FieldResolver(() => DatasetEntryConnection, { description: 'Oldest first.' })
  entries(@Root() dataset: Dataset, @Args(() => PageArgs, { validate: false }) page: PageArgs, @Ctx() ctx: Context) {
    return ctx.services.datasets.entries(dataset.id, page);
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
  @FieldResolver(() => ImageType)
  image(@Root() entry: DatasetEntry, @Ctx() ctx: Context) {
    return ctx.loaders.image.load(entry.imageId);
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
