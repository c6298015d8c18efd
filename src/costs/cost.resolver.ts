import { injectable } from 'tsyringe';
import { CostService } from './cost.service';
import { Arg, Authorized, Query, Resolver } from 'type-graphql';
import { READ_FLEET } from '../auth/roles';
import { CostReportType } from './cost.type';

@injectable()
@Resolver()
export class CostResolver {
  constructor(private readonly costService: CostService) {}

  @Authorized(READ_FLEET)
  @Query(() => CostReportType, {
    description: 'Detector spend between from (inclusive) and to (exclusive), by stage and detector, and what the cascade saved.',
  })
  costReport(@Arg('from') from: Date, @Arg('to') to: Date) {
    return this.costService.report(from, to);
  }
}
