import { type GraphQLFormattedError } from 'graphql';
import { unwrapResolverError } from '@apollo/server/errors';
import { ArgumentValidationError } from 'type-graphql';
import { DomainError, ErrorCode } from '../common/errors';
import { flattenValidationErrors } from '../common/validation';

// graphql-js' own wording when a document is over ParseOptions.maxTokens.
const TOKEN_LIMIT = /Document contains more (?:that|than) (\d+) tokens/;

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
    const tokens = code === 'GRAPHQL_PARSE_FAILED' ? TOKEN_LIMIT.exec(formatted.message) : null;
    if (tokens) {
      const max = Number(tokens[1]);
      return {
        ...base,
        message: `the operation has more than ${max} tokens; the limit is ${max} (QUERY_MAX_TOKENS)`,
        extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit: 'QUERY_MAX_TOKENS', max },
      };
    }
    // Apollo marks every validation error GRAPHQL_VALIDATION_FAILED; the limits' own rules say which limit.
    if (code === 'GRAPHQL_VALIDATION_FAILED' && typeof formatted.extensions?.limit === 'string') {
      const { limit, max, found } = formatted.extensions;
      return { ...base, extensions: { code: ErrorCode.QUERY_TOO_COMPLEX, limit, max, found } };
    }
    // Errors graphql-js and Apollo raise themselves (parse, validation, variable coercion) are the caller's.
    if (typeof code === 'string' && code !== ErrorCode.INTERNAL_SERVER_ERROR) {
      if (options.exposeStack) return formatted;
      const { stacktrace: _, ...extensions } = formatted.extensions ?? {};
      return { ...base, extensions };
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
