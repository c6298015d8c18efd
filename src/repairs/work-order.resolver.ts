import { injectable } from 'tsyringe';
import { WorkOrderService } from './work-order.service';
import { Arg, Args, Authorized, Ctx, FieldResolver, ID, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Defect, type WorkOrder } from '../generated/prisma/client';
import { PLAN_REPAIRS, READ_REPAIRS } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { DeviceType } from '../devices/device.type';
import { type Context } from '../graphql/context';
import { CreateWorkOrderInput, FieldFindingInput, UpdateWorkOrderInput, WorkOrderFilter } from './repair.input';
import { fromRepairId, toRepairId } from './repair-ids';
import {
  DefectType,
  WorkOrderConnection,
  WorkOrderDefectType,
  WorkOrderStatus,
  WorkOrderTransitionType,
  WorkOrderType,
} from './repair.type';

const NOTE = { nullable: true, description: 'Kept with the transition.' };

@injectable()
@Resolver(() => WorkOrderType)
export class WorkOrderResolver {
  constructor(private readonly workOrderService: WorkOrderService) {}

  @Authorized(READ_REPAIRS)
  @Query(() => WorkOrderConnection, { description: 'Newest first.' })
  workOrders(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Arg('filter', () => WorkOrderFilter, { nullable: true }) filter?: WorkOrderFilter,
  ) {
    const deviceId = filter?.deviceId != null ? fromGlobalId('Device', filter.deviceId, 'filter.deviceId') : undefined;
    return this.workOrderService.list({ ...filter, deviceId }, page);
  }

  @Authorized(READ_REPAIRS)
  @Query(() => WorkOrderType)
  workOrder(@Arg('id', () => ID) id: string) {
    return this.workOrderService.get(fromRepairId('WorkOrder', id, 'id'));
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => WorkOrderType, { description: 'A work order (OPEN) for open defects of one device.' })
  createWorkOrder(@Arg('input', () => CreateWorkOrderInput) input: CreateWorkOrderInput, @Ctx() ctx: Context) {
    const defectIds = input.defectIds.map((id, i) => fromRepairId('Defect', id, `input.defectIds[${i}]`));
    return this.workOrderService.create(ctx.caller!, { ...input, defectIds });
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => WorkOrderType, { description: 'Priority, due date, assignee, notes of a work order not DONE or CANCELLED.' })
  updateWorkOrder(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateWorkOrderInput) input: UpdateWorkOrderInput) {
    return this.workOrderService.update(fromRepairId('WorkOrder', id, 'id'), input);
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => WorkOrderType, {
    description: 'Moves a work order one step: OPEN → SCHEDULED → IN_PROGRESS, or to CANCELLED before DONE; CONFLICT out of order.',
  })
  moveWorkOrder(
    @Arg('id', () => ID) id: string,
    @Arg('status', () => WorkOrderStatus) status: WorkOrderStatus,
    @Ctx() ctx: Context,
    @Arg('note', () => String, NOTE) note?: string,
  ) {
    return this.workOrderService.transition(ctx.caller!, fromRepairId('WorkOrder', id, 'id'), status, note);
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => WorkOrderType, { description: 'IN_PROGRESS → DONE with what the crew found at every defect.' })
  completeWorkOrder(
    @Arg('id', () => ID) id: string,
    @Arg('findings', () => [FieldFindingInput]) findings: FieldFindingInput[],
    @Ctx() ctx: Context,
    @Arg('note', () => String, NOTE) note?: string,
  ) {
    const reports = findings.map((f, i) => ({ ...f, defectId: fromRepairId('Defect', f.defectId, `findings[${i}].defectId`) }));
    return this.workOrderService.complete(ctx.caller!, fromRepairId('WorkOrder', id, 'id'), reports, note);
  }

  @FieldResolver(() => ID)
  id(@Root() w: WorkOrder): string {
    return toRepairId('WorkOrder', w.id);
  }

  @FieldResolver(() => DeviceType)
  device(@Root() w: WorkOrder, @Ctx() ctx: Context) {
    return ctx.loaders.device.load(w.deviceId);
  }

  @FieldResolver(() => [WorkOrderDefectType])
  defects(@Root() w: WorkOrder, @Ctx() ctx: Context) {
    return ctx.loaders.defectsOfWorkOrder.load(w.id);
  }

  @FieldResolver(() => [WorkOrderTransitionType], { description: 'Oldest first, from the creation.' })
  transitions(@Root() w: WorkOrder, @Ctx() ctx: Context) {
    return ctx.loaders.transitionsOfWorkOrder.load(w.id);
  }
}

@injectable()
@Resolver(() => WorkOrderDefectType)
export class WorkOrderDefectResolver {
  @FieldResolver(() => DefectType)
  defect(@Root() link: { defect: Defect }): Defect {
    return link.defect;
  }
}
