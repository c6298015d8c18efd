import { injectable } from 'tsyringe';
import { type GraphQLResolveInfo } from 'graphql';
import { InspectionService } from './inspection.service';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Inspection } from '../generated/prisma/client';
import { AnomalyConnection } from '../anomalies/anomaly.type';
import { READ_FLEET, WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { DeviceType } from '../devices/device.type';
import { childReads, READS, readFields } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { ImageConnection, ImageStatus } from '../images/image.type';
import { CreateInspectionInput, InspectionFilter } from './inspection.input';
import { InspectionConnection, InspectionType } from './inspection.type';

@injectable()
@Resolver(() => InspectionType)
export class InspectionResolver {
  constructor(private readonly inspectionService: InspectionService) {}

  @Authorized(READ_FLEET)
  @Query(() => InspectionConnection, { description: 'In capture order, oldest first: `last: N` gives the N latest.' })
  inspections(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: Context,
    @Arg('filter', () => InspectionFilter, { nullable: true }) filter?: InspectionFilter,
  ) {
    return this.inspectionService.list(
      {
        ...filter,
        deviceId: filter?.deviceId != null ? fromGlobalId('Device', filter.deviceId, 'deviceId') : undefined,
      },
      page,
      readFields(info),
      childReads(info, ctx.loaders),
    );
  }

  @Authorized(READ_FLEET)
  @Query(() => InspectionType)
  inspection(@Arg('id', () => ID) id: string) {
    return this.inspectionService.get(fromGlobalId('Inspection', id, 'id'));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => InspectionType)
  createInspection(@Arg('input', () => CreateInspectionInput) input: CreateInspectionInput, @Ctx() ctx: Context) {
    return this.inspectionService.create({
      deviceId: fromGlobalId('Device', input.deviceId, 'deviceId'),
      source: input.source,
      capturedAt: input.capturedAt,
      notes: input.notes,
      idempotencyKey: input.idempotencyKey,
      requestedBy: input.requestedBy ?? ctx.caller!.name,
    });
  }

  @Extensions({ [READS]: ['deviceId'] })
  @FieldResolver(() => DeviceType)
  device(@Root() inspection: Inspection, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return ctx.loaders.forField(info, () => ctx.loaders.deviceReading(readFields(info))).load(inspection.deviceId);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => ImageConnection, { description: 'In upload order, optionally only some statuses.' })
  images(
    @Root() inspection: Inspection,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Arg('status', () => [ImageStatus], { nullable: true }) status?: ImageStatus[],
  ) {
    return ctx.loaders
      .forField(info, () => ctx.loaders.imagesOfInspection(page, status ?? undefined, readFields(info)))
      .load(inspection.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => Int, { description: 'How many images the inspection has, in any status.' })
  imageCount(@Root() inspection: Inspection, @Ctx() ctx: Context) {
    return ctx.loaders.imageCount().load(inspection.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => AnomalyConnection, { description: 'Newest first.' })
  anomalies(
    @Root() inspection: Inspection,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return ctx.loaders.forField(info, () => ctx.loaders.anomaliesOf('inspection', page, undefined, readFields(info))).load(inspection.id);
  }
}
