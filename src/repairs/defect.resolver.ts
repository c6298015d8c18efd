import { injectable } from 'tsyringe';
import { DefectService } from './defect.service';
import { RepairQueueService } from './repair-queue.service';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, Float, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type GraphQLResolveInfo } from 'graphql';
import { type Anomaly, type Defect } from '../generated/prisma/client';
import { AnomalyConnection, AnomalyType, Severity } from '../anomalies/anomaly.type';
import { RATE_ANOMALIES, PLAN_REPAIRS, READ_REPAIRS } from '../auth/roles';
import { Box } from '../common/box.type';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { DeviceType } from '../devices/device.type';
import { READS, readFields } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { DefectFilter, RepairQueueFilter } from './repair.input';
import { fromRepairId, toRepairId } from './repair-ids';
import { DefectConnection, DefectType, RepairQueueConnection, WorkOrderType } from './repair.type';

@injectable()
@Resolver(() => DefectType)
export class DefectResolver {
  constructor(
    private readonly defectService: DefectService,
    private readonly repairQueueService: RepairQueueService,
  ) {}

  @Authorized(READ_REPAIRS)
  @Query(() => DefectConnection, { description: 'Newest first.' })
  defects(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
    @Arg('filter', () => DefectFilter, { nullable: true }) filter?: DefectFilter,
  ) {
    const deviceId = filter?.deviceId != null ? fromGlobalId('Device', filter.deviceId, 'filter.deviceId') : undefined;
    return this.defectService.list({ ...filter, deviceId }, page, readFields(info));
  }

  @Authorized(READ_REPAIRS)
  @Query(() => DefectType)
  defect(@Arg('id', () => ID) id: string) {
    return this.defectService.get(fromRepairId('Defect', id, 'id'));
  }

  @Authorized(READ_REPAIRS)
  @Query(() => RepairQueueConnection, {
    description: 'Open defects, riskiest first: severity × confidence × device criticality × growth × age, with the reasons.',
  })
  repairQueue(
    @Arg('filter', () => RepairQueueFilter, { nullable: true }) filter?: RepairQueueFilter,
    @Arg('first', () => Int, { nullable: true, description: 'At most 500.' }) first?: number,
    @Arg('after', () => String, { nullable: true }) after?: string,
  ) {
    const deviceIds = filter?.deviceIds?.map((id, i) => fromGlobalId('Device', id, `filter.deviceIds[${i}]`));
    return this.repairQueueService.list({ ...filter, deviceIds, types: filter?.types ?? undefined }, first, after);
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => DefectType, {
    description: 'Closes an OPEN or FIXED defect without waiting for the next inspection; the reason is kept.',
  })
  resolveDefect(@Arg('id', () => ID) id: string, @Arg('reason') reason: string, @Ctx() ctx: Context) {
    return this.defectService.resolve(ctx.caller!, fromRepairId('Defect', id, 'id'), reason);
  }

  @Authorized(RATE_ANOMALIES)
  @Mutation(() => AnomalyType, { description: "Sets an anomaly's severity instead of the rules', with the reason; its defect follows." })
  setAnomalySeverity(
    @Arg('id', () => ID) id: string,
    @Arg('severity', () => Severity) severity: Severity,
    @Arg('reason') reason: string,
    @Ctx() ctx: Context,
  ) {
    return this.defectService.overrideSeverity(ctx.caller!, fromGlobalId('Anomaly', id, 'id'), severity, reason);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => ID)
  id(@Root() d: Defect): string {
    return toRepairId('Defect', d.id);
  }

  @Extensions({ [READS]: ['deviceId'] })
  @FieldResolver(() => DeviceType)
  device(@Root() d: Defect, @Ctx() ctx: Context) {
    return ctx.loaders.device.load(d.deviceId);
  }

  @Extensions({ [READS]: ['boxX', 'boxY', 'boxWidth', 'boxHeight'] })
  @FieldResolver(() => Box, { description: "The latest observation's box." })
  box(@Root() d: Defect): Box {
    return { x: d.boxX, y: d.boxY, width: d.boxWidth, height: d.boxHeight };
  }

  @Extensions({ [READS]: ['firstArea', 'lastArea'] })
  @FieldResolver(() => Float, { description: 'lastArea / firstArea: above 1 it is growing.' })
  growth(@Root() d: Defect): number {
    return d.firstArea > 0 ? d.lastArea / d.firstArea : 1;
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => AnomalyConnection, { description: 'Its anomalies over time, newest first.' })
  observations(@Root() d: Defect, @Args(() => PageArgs, { validate: false }) page: PageArgs, @Ctx() ctx: Context) {
    return ctx.loaders.anomaliesOf('defect', page).load(d.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => [WorkOrderType], { description: 'Newest first.' })
  workOrders(@Root() d: Defect, @Ctx() ctx: Context) {
    return ctx.loaders.workOrdersOfDefect.load(d.id);
  }
}

@injectable()
@Resolver(() => AnomalyType)
export class AnomalyDefectResolver {
  @Extensions({ [READS]: ['defectId'] })
  @FieldResolver(() => DefectType, {
    nullable: true,
    description: 'The defect this anomaly is an observation of (hidden from REVIEWER keys).',
  })
  defect(@Root() a: Anomaly, @Ctx() ctx: Context) {
    if (!a.defectId || !READ_REPAIRS.includes(ctx.caller!.role)) return null;
    return ctx.loaders.defect.load(a.defectId);
  }
}
