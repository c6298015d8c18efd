import { registerEnumType } from 'type-graphql';
import { Role } from '../generated/prisma/enums';

export { Role };

registerEnumType(Role, {
  name: 'Role',
  description: 'What an API key may do.',
  valuesConfig: {
    ADMIN: { description: 'Everything, including API keys and overrides.' },
    OPERATOR: { description: 'Internal apps: read the fleet, register devices and inspections.' },
    REVIEWER: { description: 'Human reviewers: only what a review task needs.' },
    INTEGRATOR: { description: 'Read and subscribe.' },
  },
});

// Who may call what, named once so every operation declares one of these.
export const ANY_ROLE: Role[] = [Role.ADMIN, Role.OPERATOR, Role.REVIEWER, Role.INTEGRATOR];
export const READ_FLEET: Role[] = [Role.ADMIN, Role.OPERATOR, Role.INTEGRATOR];
export const WRITE_FLEET: Role[] = [Role.ADMIN, Role.OPERATOR];
export const ADMIN_ONLY: Role[] = [Role.ADMIN];
export const REVIEW: Role[] = [Role.ADMIN, Role.REVIEWER];
