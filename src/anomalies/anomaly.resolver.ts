import { injectable } from 'tsyringe';
import { type GraphQLResolveInfo } from 'graphql';
import { AnomalyService } from './anomaly.service';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Query, Resolver, Root } from 'type-graphql';
import { type Anomaly } from '../generated/prisma/client';
import { READ_FLEET } from '../auth/roles';
import { notFound } from '../common/errors';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { DetectionType } from '../detections/detection.type';
import { DeviceType } from '../devices/device.type';
import { READS, readFields } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { ImageType } from '../images/image.type';
import { InspectionType } from '../inspections/inspection.type';
import { AnomalyFilter, AnomalyOrder } from './anomaly.input';
import { Box } from '../common/box.type';
import { AnomalyConnection, AnomalyType, Severity, SeverityOverride } from './anomaly.type';

@injectable()
@Resolver(() => AnomalyType)
export class AnomalyResolver {
  constructor(private readonly anomalyService: AnomalyService) {}

  @Authorized(READ_FLEET)
  @Query(() => AnomalyConnection, { description: 'Newest first unless orderBy says otherwise.' })
  anomalies(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => AnomalyFilter, { nullable: true }) filter?: AnomalyFilter,
    @Arg('orderBy', () => AnomalyOrder, { nullable: true }) orderBy?: AnomalyOrder,
  ) {
    return this.anomalyService.list(
      {
        ...filter,
        deviceId: filter?.deviceId != null ? fromGlobalId('Device', filter.deviceId, 'deviceId') : undefined,
      },
      orderBy,
      page,
      readFields(info),
    );
  }

  @Authorized(READ_FLEET)
  @Query(() => AnomalyType)
  async anomaly(@Arg('id', () => ID) id: string) {
    const uuid = fromGlobalId('Anomaly', id, 'id');
    return (await this.anomalyService.get(uuid)) ?? Promise.reject(notFound('Anomaly', uuid));
  }

  @Extensions({ [READS]: ['boxX', 'boxY', 'boxWidth', 'boxHeight'] })
  @FieldResolver(() => Box)
  box(@Root() a: Anomaly): Box {
    return { x: a.boxX, y: a.boxY, width: a.boxWidth, height: a.boxHeight };
  }

  @Extensions({ [READS]: ['severity', 'severityOverride'] })
  @FieldResolver(() => Severity, {
    nullable: true,
    description: "A person's override if there is one, else what the severity rules said; null until the repair tracker has seen it.",
  })
  severity(@Root() a: Anomaly): Severity | null {
    return a.severityOverride ?? a.severity;
  }

  @Extensions({ [READS]: ['severity'] })
  @FieldResolver(() => Severity, { nullable: true, description: 'What the severity rules said, whatever a person set.' })
  ruleSeverity(@Root() a: Anomaly): Severity | null {
    return a.severity;
  }

  @Extensions({ [READS]: ['severityOverride', 'severityReason', 'severitySetBy', 'severitySetAt', 'updatedAt'] })
  @FieldResolver(() => SeverityOverride, { nullable: true })
  severityOverride(@Root() a: Anomaly): SeverityOverride | null {
    if (!a.severityOverride) return null;
    return { severity: a.severityOverride, reason: a.severityReason ?? '', by: a.severitySetBy ?? '', at: a.severitySetAt ?? a.updatedAt };
  }

  // A REVIEWER may rate an anomaly (setAnomalySeverity returns it) but not walk from it into the fleet.
  @Authorized(READ_FLEET)
  @Extensions({ [READS]: ['deviceId'] })
  @FieldResolver(() => DeviceType)
  device(@Root() a: Anomaly, @Ctx() ctx: Context, @Info() info: GraphQLResolveInfo) {
    return ctx.loaders.forField(info, () => ctx.loaders.deviceReading(readFields(info))).load(a.deviceId);
  }

  @Authorized(READ_FLEET)
  @Extensions({ [READS]: ['inspectionId'] })
  @FieldResolver(() => InspectionType)
  inspection(@Root() a: Anomaly, @Ctx() ctx: Context) {
    return ctx.loaders.inspection.load(a.inspectionId);
  }

  @Authorized(READ_FLEET)
  @Extensions({ [READS]: ['imageId'] })
  @FieldResolver(() => ImageType)
  image(@Root() a: Anomaly, @Ctx() ctx: Context) {
    return ctx.loaders.image.load(a.imageId);
  }

  @Authorized(READ_FLEET)
  @Extensions({ [READS]: ['detectionId'] })
  @FieldResolver(() => DetectionType, { nullable: true, description: 'The model judgement that found it; null when a person did.' })
  detection(@Root() a: Anomaly, @Ctx() ctx: Context) {
    return a.detectionId ? ctx.loaders.detection.load(a.detectionId) : null;
  }
}
