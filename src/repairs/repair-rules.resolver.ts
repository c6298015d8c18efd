import { injectable } from 'tsyringe';
import { RepairRules } from './repair-rules.service';
import { Arg, Authorized, Mutation, Query, Resolver } from 'type-graphql';
import { PLAN_REPAIRS, READ_REPAIRS } from '../auth/roles';
import { AutoWorkOrderRuleInput, SetSeverityRulesInput } from './repair.input';
import { AutoWorkOrderRuleType, SeverityRuleSet } from './repair.type';

@injectable()
@Resolver()
export class RepairRulesResolver {
  constructor(private readonly repairRules: RepairRules) {}

  @Authorized(READ_REPAIRS)
  @Query(() => SeverityRuleSet, {
    description: 'The rules a device type\'s anomalies are rated with (its own, the "*" rules or the built-in ones).',
  })
  severityRules(@Arg('deviceType') deviceType: string) {
    return this.repairRules.severityRules(deviceType);
  }

  @Authorized(READ_REPAIRS)
  @Query(() => [String], { description: 'The device types (and "*") that have severity rules stored.' })
  severityRuleTypes() {
    return this.repairRules.ruledTypes();
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => SeverityRuleSet, { description: "Replaces a device type's severity rules; they rate anomalies tracked from now on." })
  setSeverityRules(@Arg('input', () => SetSeverityRulesInput) input: SetSeverityRulesInput) {
    return this.repairRules.setSeverityRules(input.deviceType, input.rules);
  }

  @Authorized(READ_REPAIRS)
  @Query(() => [AutoWorkOrderRuleType])
  autoWorkOrderRules() {
    return this.repairRules.autoWorkOrderRules();
  }

  @Authorized(PLAN_REPAIRS)
  @Mutation(() => AutoWorkOrderRuleType, { description: 'Creates or replaces the automatic work-order rule of a device type (or "*").' })
  setAutoWorkOrderRule(@Arg('input', () => AutoWorkOrderRuleInput) input: AutoWorkOrderRuleInput) {
    return this.repairRules.setAutoWorkOrderRule(input);
  }
}
