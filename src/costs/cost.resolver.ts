import { Arg, Authorized, Ctx, Query, Resolver } from 'type-graphql';
import { READ_FLEET } from '../auth/roles';
import { type Context } from '../graphql/context';
import { CostReportType } from './cost.type';

@Resolver()
export class CostResolver {
  @Authorized(READ_FLEET)
  @Query(() => CostReportType, { description: 'Detector spend between from (inclusive) and to (exclusive), by stage and detector, and what the cascade saved.' })
  costReport(@Arg('from') from: Date, @Arg('to') to: Date, @Ctx() ctx: Context) {
    return ctx.services.costs.report(from, to);
  }
}
