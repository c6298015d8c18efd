import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Survey } from '../generated/prisma/client';
import { READ_FLEET, WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { ImageConnection, ImageType } from '../images/image.type';
import { ImageUploadTicket, UploadFileInput } from '../images/upload.types';
import { toTickets } from '../images/upload.resolver';
import { DeviceMatch } from './survey.service';
import { CreateSurveyInput, SurveyConnection, SurveyImageCounts, SurveyType } from './survey.type';

@Resolver(() => SurveyType)
export class SurveyResolver {
  @Authorized(READ_FLEET)
  @Query(() => SurveyConnection, { description: 'Newest first.' })
  surveys(@Args(() => PageArgs, { validate: false }) page: PageArgs, @Ctx() ctx: Context) {
    return ctx.services.surveys.list(page);
  }

  @Authorized(READ_FLEET)
  @Query(() => SurveyType)
  survey(@Arg('id', () => ID) id: string, @Ctx() ctx: Context) {
    return ctx.services.surveys.get(fromGlobalId('Survey', id, 'id'));
  }

  @Authorized(READ_FLEET)
  @Query(() => ImageConnection, {
    description: 'READY survey images that found no device by GPS (no position, none in range, or ambiguous), oldest first. assignImage places them.',
  })
  unassignedImages(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Arg('surveyId', () => ID, { nullable: true }) surveyId?: string,
    @Arg('match', () => [DeviceMatch], { nullable: true, description: 'Only these outcomes; default NO_GPS, OUT_OF_RANGE and AMBIGUOUS.' }) match?: DeviceMatch[],
  ) {
    return ctx.services.surveys.unassigned({ surveyId: surveyId ? fromGlobalId('Survey', surveyId, 'surveyId') : undefined, matches: match ?? undefined }, page);
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => SurveyType)
  createSurvey(@Arg('input', () => CreateSurveyInput) input: CreateSurveyInput, @Ctx() ctx: Context) {
    return ctx.services.surveys.create({ ...input, requestedBy: input.requestedBy ?? ctx.caller!.name });
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageUploadTicket], {
    description: 'As requestImageUploads, for a survey: once READY, each image finds its device by GPS (see Image.deviceMatch).',
  })
  async requestSurveyUploads(
    @Arg('surveyId', () => ID) surveyId: string,
    @Arg('files', () => [UploadFileInput], { validate: false }) files: UploadFileInput[],
    @Ctx() ctx: Context,
  ): Promise<ImageUploadTicket[]> {
    return toTickets(await ctx.services.uploads.request({ surveyId: fromGlobalId('Survey', surveyId, 'surveyId') }, files));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => ImageType, {
    description: "Puts a READY survey image into the survey's inspection of this device (created when needed). Also moves a wrongly matched image, unless it already has anomalies.",
  })
  assignImage(@Arg('imageId', () => ID) imageId: string, @Arg('deviceId', () => ID) deviceId: string, @Ctx() ctx: Context) {
    return ctx.services.surveys.assign(fromGlobalId('Image', imageId, 'imageId'), fromGlobalId('Device', deviceId, 'deviceId'));
  }

  @FieldResolver(() => SurveyImageCounts)
  async imageCounts(@Root() survey: Survey, @Ctx() ctx: Context): Promise<SurveyImageCounts> {
    const c = await ctx.services.surveys.matchCounts(survey.id);
    const unassigned = c.NO_GPS + c.OUT_OF_RANGE + c.AMBIGUOUS;
    return { total: c.PENDING + c.MATCHED + c.ASSIGNED + unassigned, pending: c.PENDING, matched: c.MATCHED, assigned: c.ASSIGNED, unassigned };
  }
}
