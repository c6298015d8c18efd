import { type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import { DomainError, ErrorCode } from '../common/errors';
import { flattenValidationErrors } from '../common/validation';

/** True for failures that are the server's fault rather than the caller's: these are logged in full. */
export function isInternal(error: unknown): boolean {
  const original = unwrapResolverError(error);
  if (original instanceof DomainError || original instanceof ArgumentValidationError) return false;
  const code = (error as { extensions?: { code?: unknown } }).extensions?.code;
  return typeof code !== 'string' || code === ErrorCode.INTERNAL_SERVER_ERROR;
}

/** The one place where errors become what clients see: a code, a message, the field at fault, no stack. */
export function createErrorFormatter(options: { exposeStack: boolean }) {
  return (formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (original instanceof DomainError) {
      return { ...base, message: original.message, extensions: { code: original.code, ...original.details } };
    }
    if (original instanceof ArgumentValidationError) {
      const problems = flattenValidationErrors(original.extensions.validationErrors as never, '');
      const first = problems[0];
      return {
        ...base,
        message: problems.map((p) => `${p.field}: ${p.message}`).join('; ') || 'invalid input',
        extensions: { code: ErrorCode.BAD_USER_INPUT, field: first?.field, problems },
      };
    }
    const code = formatted.extensions?.code;
    // Errors graphql-js and Apollo raise themselves (parse, validation, variable coercion) are the caller's.
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      return options.exposeStack ? formatted : { ...base, extensions: { code } };
    }
    return {
      ...base,
      message: options.exposeStack && original instanceof Error ? original.message : 'internal error; the server log has the details',
      extensions: {
        code: ErrorCode.INTERNAL_SERVER_ERROR,
        ...(options.exposeStack && original instanceof Error ? { stacktrace: original.stack?.split('\n') } : {}),
      },
    };
  };
}
