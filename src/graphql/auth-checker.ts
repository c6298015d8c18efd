import { type AuthChecker } from 'type-graphql';
import { forbidden, unauthenticated } from '../common/errors';
import { type Context } from './context';
import { type Role } from '../auth/roles';

/** @Authorized(roles): no valid key → UNAUTHENTICATED, a key of another role → FORBIDDEN. */
export const authChecker: AuthChecker<Context, Role> = ({ context, info }, roles) => {
  if (!context.caller) {
    throw context.authError ?? unauthenticated('send an API key as "Authorization: Bearer <key>"');
  }
  if (roles.length > 0 && !roles.includes(context.caller.role)) {
    throw forbidden(
      `${info.parentType.name}.${info.fieldName} needs one of the roles ${roles.join(', ')}; this key is ${context.caller.role}`,
    );
  }
  return true;
};
