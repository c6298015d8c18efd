import { injectable } from 'tsyringe';
import { type GraphQLResolveInfo } from 'graphql';
import { DeviceService } from './device.service';
import { Arg, Args, Authorized, Ctx, Extensions, FieldResolver, ID, Info, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import { type Device } from '../generated/prisma/client';
import { AnomalyConnection, AnomalyStatus } from '../anomalies/anomaly.type';
import { OPEN_STATUSES } from '../anomalies/anomaly.service';
import { READ_FLEET, WRITE_FLEET } from '../auth/roles';
import { fromGlobalId } from '../common/global-id';
import { PageArgs } from '../common/pagination/page.args';
import { childReads, READS, readFields } from '../graphql/projection';
import { type Context } from '../graphql/context';
import { NUL_REPORTED_PER_ROW } from '../graphql/nul-guard';
import { InspectionConnection } from '../inspections/inspection.type';
import { DeviceFilter, DeviceInput, DeviceOrder, UpdateDeviceInput } from './device.input';
import { DeviceConnection, DeviceType } from './device.type';
import { ImportDevicesResult } from './import-devices.type';

@injectable()
@Resolver(() => DeviceType)
export class DeviceResolver {
  constructor(private readonly deviceService: DeviceService) {}

  @Authorized(READ_FLEET)
  @Query(() => DeviceConnection, { description: 'The fleet, filtered and paged; ordered by name unless orderBy says otherwise.' })
  devices(
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Info() info: GraphQLResolveInfo,
    @Ctx() ctx: Context,
    @Arg('filter', () => DeviceFilter, { nullable: true }) filter?: DeviceFilter,
    @Arg('orderBy', () => DeviceOrder, { nullable: true }) orderBy?: DeviceOrder,
  ) {
    return this.deviceService.list(filter, orderBy, page, readFields(info), childReads(info, ctx.loaders));
  }

  @Authorized(READ_FLEET)
  @Query(() => DeviceType)
  device(@Arg('id', () => ID) id: string, @Info() info: GraphQLResolveInfo, @Ctx() ctx: Context) {
    return this.deviceService.get(fromGlobalId('Device', id, 'id'), readFields(info), childReads(info, ctx.loaders));
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => DeviceType)
  createDevice(@Arg('input', () => DeviceInput) input: DeviceInput) {
    return this.deviceService.create(input);
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => DeviceType)
  updateDevice(@Arg('id', () => ID) id: string, @Arg('input', () => UpdateDeviceInput) input: UpdateDeviceInput) {
    return this.deviceService.update(fromGlobalId('Device', id, 'id'), input);
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => ImportDevicesResult, {
    description: 'Creates or updates devices by externalId (at most 5000 per call). Bad rows are reported in errors; the others are saved.',
  })
  @Extensions({ [NUL_REPORTED_PER_ROW]: ['devices'] })
  importDevices(@Arg('devices', () => [DeviceInput], { validate: false }) devices: DeviceInput[]) {
    return this.deviceService.importMany(devices);
  }

  @Authorized(WRITE_FLEET)
  @Mutation(() => DeviceType, { description: 'Takes a device out of service; its history stays.' })
  decommissionDevice(@Arg('id', () => ID) id: string) {
    return this.deviceService.decommission(fromGlobalId('Device', id, 'id'));
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => InspectionConnection, { description: 'In capture order, oldest first: `last: 1` is the latest inspection.' })
  inspections(
    @Root() device: Device,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
  ) {
    return ctx.loaders.forField(info, () => ctx.loaders.inspectionsOfDevice(page, readFields(info))).load(device.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => AnomalyConnection, { description: 'Newest first.' })
  anomalies(
    @Root() device: Device,
    @Args(() => PageArgs, { validate: false }) page: PageArgs,
    @Ctx() ctx: Context,
    @Info() info: GraphQLResolveInfo,
    @Arg('status', () => [AnomalyStatus], { nullable: true }) status?: AnomalyStatus[],
  ) {
    return ctx.loaders.forField(info, () => ctx.loaders.anomaliesOf('device', page, status ?? undefined, readFields(info))).load(device.id);
  }

  @Extensions({ [READS]: ['id'] })
  @FieldResolver(() => Int, { description: 'Anomalies still SUSPECTED or CONFIRMED.' })
  openAnomalyCount(@Root() device: Device, @Ctx() ctx: Context) {
    return ctx.loaders.openAnomalyCount(OPEN_STATUSES).load(device.id);
  }
}
