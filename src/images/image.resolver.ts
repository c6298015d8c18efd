import { Args, Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type Image } from '../generated/prisma/client';
import { AnomalyConnection } from '../anomalies/anomaly.type';
import { PageArgs } from '../common/pagination/page.args';
import { DetectionType } from '../detections/detection.type';
import { type Context } from '../graphql/context';
import { InspectionType } from '../inspections/inspection.type';
import { ImageType } from './image.type';

@Resolver(() => ImageType)
export class ImageResolver {
  @FieldResolver(() => InspectionType)
  inspection(@Root() image: Image, @Ctx() ctx: Context) {
    return ctx.loaders.inspection.load(image.inspectionId);
  }

  @FieldResolver(() => AnomalyConnection, { description: 'Newest first.' })
  anomalies(@Root() image: Image, @Args(() => PageArgs, { validate: false }) page: PageArgs, @Ctx() ctx: Context) {
    return ctx.loaders.anomaliesOf('image', page).load(image.id);
  }

  @FieldResolver(() => [DetectionType], { description: 'Every model judgement of this image, oldest first.' })
  detections(@Root() image: Image, @Ctx() ctx: Context) {
    return ctx.loaders.detectionsOfImage.load(image.id);
  }
}
