import { registerEnumType } from 'type-graphql';
import { Role } from '../generated/prisma/enums';

export { Role };

registerEnumType(Role, {
  name: 'Role',
  description: 'What an API key may do.',
  valuesConfig: {
    ADMIN: { description: 'Everything, including API keys and overrides.' },
    OPERATOR: { description: 'Internal apps: read the fleet, register devices and inspections, plan and edit work orders.' },
    REVIEWER: { description: 'Human reviewers: only what a review task needs.' },
    INTEGRATOR: { description: 'Read and subscribe (including defects and work orders).' },
  },
});

// Who may call what, named once so every operation declares one of these.
export const ANY_ROLE: Role[] = [Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.INTEGRATOR];
export const READ_FLEET: Role[] = [Role.ADMIN, Role.OPERATOR, Role.INTEGRATOR];
export const WRITE_FLEET: Role[] = [Role.ADMIN, Role.OPERATOR];
export const ADMIN_ONLY: Role[] = [Role.ADMIN];
export const REVIEW: Role[] = [Role.ADMIN, Role.REVIEWER];
/** Defects, work orders, the repair queue: REVIEWER keys see none of it. */
export const READ_REPAIRS: Role[] = [Role.ADMIN, Role.OPERATOR, Role.INTEGRATOR];
/** Plan and edit work orders, resolve defects, set the severity and work-order rules. */
export const PLAN_REPAIRS: Role[] = [Role.ADMIN, Role.OPERATOR];
/** Override an anomaly's severity with a reason. */
export const RATE_ANOMALIES: Role[] = [Role.ADMIN, Role.OPERATOR, Role.REVIEWER];
/** Register webhook endpoints for the key and read their delivery logs (an ADMIN sees every key's). */
export const MANAGE_WEBHOOKS: Role[] = [Role.ADMIN, Role.INTEGRATOR];
/** Write the data lake (Parquet in the object store) from the database. */
export const EXPORT_DATA_LAKE: Role[] = [Role.ADMIN];
