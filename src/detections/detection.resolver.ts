import { Ctx, FieldResolver, Resolver, Root } from 'type-graphql';
import { type Detection } from '../generated/prisma/client';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { DetectionType } from './detection.type';

@Resolver(() => DetectionType)
export class DetectionResolver {
  @FieldResolver(() => ImageType)
  image(@Root() detection: Detection, @Ctx() ctx: Context) {
    return ctx.loaders.image.load(detection.imageId);
  }
}
