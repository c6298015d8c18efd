import { injectable } from 'tsyringe';
import { type GraphQLResolveInfo } from 'graphql';
import { UploadService } from './upload.service';
import { Args, Ctx, Extensions, FieldResolver, Info, Resolver, Root } from 'type-graphql';
import { type Image } from '../generated/prisma/client';
import { AnomalyConnection } from '../anomalies/anomaly.type';
import { PageArgs } from '../common/pagination/page.args';
import { DetectionType } from '../detections/detection.type';
import { READS, readFields } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { InspectionType } from '../inspections/inspection.type';
import { SurveyType } from '../surveys/survey.type';
import { ImageType } from './image.type';
import { ImageRejection, ImageTile } from './upload.type';

@injectable()
@Resolver(() => ImageType)
export class ImageResolver {
  constructor(private readonly uploadService: UploadService) {}

  @Extensions({ [READS]: ['inspectionId'] })
  @FieldResolver(() => InspectionType, {
    nullable: true,
    description: 'Null only for a survey image that has not found its device yet (see deviceMatch).',
  })
  inspection(@Root() image: Image, @Ctx() ctx: Context) {
    return image.inspectionId ? ctx.loaders.inspection.load(image.inspectionId) : null;
  }

  @Extensions({ [READS]: ['surveyId'] })
  @FieldResolver(() => SurveyType, { nullable: true, description: 'The survey the image was uploaded into, if any.' })
  survey(@Root() image: Image, @Ctx() ctx: Context) {
    return image.surveyId ? ctx.loaders.survey.load(image.surveyId) : null;
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => AnomalyConnection, { description: 'Newest first.' })
  anomalies(
    @Root() image: Image,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return ctx.loaders.forField(info, () => ctx.loaders.anomaliesOf('image', page, undefined, readFields(info))).load(image.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => [DetectionType], { description: 'Every model judgement of this image, oldest first.' })
  detections(@Root() image: Image, @Ctx() ctx: Context) {
    return ctx.loaders.detectionsOfImage.load(image.id);
  }

  @Extensions({ [READS]: ['normalizedKey'] })
  @FieldResolver(() => String, {
    nullable: true,
    description: 'A short-lived link to the normalised copy (auto-oriented, no metadata); null until READY.',
  })
  url(@Root() image: Image) {
    return image.normalizedKey ? this.uploadService.downloadUrl(image.normalizedKey) : null;
  }

  @Extensions({ [READS]: ['thumbnailKey'] })
  @FieldResolver(() => String, { nullable: true, description: 'A short-lived link to a thumbnail of at most 256 px; null until READY.' })
  thumbnailUrl(@Root() image: Image) {
    return image.thumbnailKey ? this.uploadService.downloadUrl(image.thumbnailKey) : null;
  }

  @Extensions({ [READS]: ['rejectionReason', 'rejectionMessage'] })
  @FieldResolver(() => ImageRejection, { nullable: true, description: 'Why the image was refused; null unless REJECTED.' })
  rejection(@Root() image: Image): ImageRejection | null {
    return image.rejectionReason ? { reason: image.rejectionReason, message: image.rejectionMessage ?? '' } : null;
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => [ImageTile], {
    description: 'Overlapping tiles of the normalised copy, for frames larger than a tile; in row order.',
  })
  tiles(@Root() image: Image, @Ctx() ctx: Context) {
    return ctx.loaders.tilesOfImage.load(image.id);
  }
}
