import { injectable } from 'tsyringe';
import { UploadService } from '../images/upload.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Survey } from '../generated/prisma/client';
import { READ_FLEET, WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { type Context } from '../graphql/context';
import { ImageConnection, ImageType } from '../images/image.type';
import { ImageUploadTicket, UploadFileInput } from '../images/upload.type';
import { toTickets } from '../images/upload.type';
import { DeviceMatch, SurveyService } from './survey.service';
import { CreateSurveyInput, SurveyConnection, SurveyImageCounts, SurveyType } from './survey.type';

@injectable()
@Resolver(() => SurveyType)
export class SurveyResolver {
  constructor(
    private readonly surveyService: SurveyService,
    private readonly uploadService: UploadService,
  ) {}

  @Authorized(READ_FLEET)
  @Query(() => SurveyConnection, { description: 'Newest first.' })
  surveys(@Args(() => PageArgs, { validate: false }) page: PageArgs) {
    return this.surveyService.list(page);
  }

  @Authorized(READ_FLEET)
  @Query(() => SurveyType)
  survey(@Arg('id', () => ID) id: string) {
    return this.surveyService.get(fromGlobalId('Survey', id, 'id'));
  }

  @Authorized(READ_FLEET)
  @Query(() => ImageConnection, {
    description:
      'READY survey images that found no device by GPS (no position, none in range, or ambiguous), oldest first. assignImage places them.',
  })
  unassignedImages(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('surveyId', () => ID, { nullable: true }) surveyId?: string,
    @Arg('match', () => [DeviceMatch], { nullable: true, description: 'Only these outcomes; default NO_GPS, OUT_OF_RANGE and AMBIGUOUS.' })
    match?: DeviceMatch[],
  ) {
    return this.surveyService.unassigned(
      { surveyId: surveyId ? fromGlobalId('Survey', surveyId, 'surveyId') : undefined, matches: match ?? undefined },
      page,
    );
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => SurveyType)
  createSurvey(@Arg('input', () => CreateSurveyInput) input: CreateSurveyInput, @Ctx() ctx: Context) {
    return this.surveyService.create({ ...input, requestedBy: input.requestedBy ?? ctx.caller!.name });
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => [ImageUploadTicket], {
    description: 'As requestImageUploads, for a survey: once READY, each image finds its device by GPS (see Image.deviceMatch).',
  })
  async requestSurveyUploads(
    @Arg('surveyId', () => ID) surveyId: string,
    @Arg('files', () => [UploadFileInput], { validate: false }) files: UploadFileInput[],
  ): Promise<ImageUploadTicket[]> {
    return toTickets(await this.uploadService.request({ surveyId: fromGlobalId('Survey', surveyId, 'surveyId') }, files));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => ImageType, {
    description:
      "Puts a READY survey image into the survey's inspection of this device (created when needed). Also moves a wrongly matched image, unless it already has anomalies.",
  })
  assignImage(@Arg('imageId', () => ID) imageId: string, @Arg('deviceId', () => ID) deviceId: string) {
    return this.surveyService.assign(fromGlobalId('Image', imageId, 'imageId'), fromGlobalId('Device', deviceId, 'deviceId'));
  }

  @FieldResolver(() => SurveyImageCounts)
  async imageCounts(@Root() survey: Survey): Promise<SurveyImageCounts> {
    const c = await this.surveyService.matchCounts(survey.id);
    const unassigned = c.NO_GPS + c.OUT_OF_RANGE + c.AMBIGUOUS;
    return {
      total: c.PENDING + c.MATCHED + c.ASSIGNED + unassigned,
      pending: c.PENDING,
      matched: c.MATCHED,
      assigned: c.ASSIGNED,
      unassigned,
    };
  }
}
