/** The error codes clients see in `extensions.code`. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  /** deployModel: the candidate is worse than the serving version on the same test split. */
  GATE_REFUSED = 'GATE_REFUSED',
  /** The operation is over a limit of README's "Limits and security" (depth, aliases, directives, tokens, cost); `limit` names the setting. */
  QUERY_TOO_COMPLEX = 'QUERY_TOO_COMPLEX',
  /** The operation ran past QUERY_TIMEOUT_MS; what had been resolved is returned. */
  QUERY_TIMEOUT = 'QUERY_TIMEOUT',
  /** Too many requests for this API key (or client address) in the window; retry after `retryAfterSeconds`. */
  RATE_LIMITED = 'RATE_LIMITED',
  /** A socket or an API key has as many subscriptions open as SUBSCRIPTIONS_PER_SOCKET / SUBSCRIPTIONS_PER_KEY allow. */
  TOO_MANY_SUBSCRIPTIONS = 'TOO_MANY_SUBSCRIPTIONS',
  /** The server is at its limit of requests in flight; retry after `retryAfterSeconds`. */
  OVERLOADED = 'OVERLOADED',
  INTERNAL_SERVER_ERROR = 'INTERNAL_SERVER_ERROR',
}

/** An expected failure that services throw; src/graphql/format-error.ts maps it to a GraphQL error. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: { field?: string; [key: string]: unknown } = {},
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const badInput = (field: string, message: string) => new DomainError(ErrorCode.BAD_USER_INPUT, `${field}: ${message}`, { field });

export const notFound = (what: string, id: string) => new DomainError(ErrorCode.NOT_FOUND, `${what} ${id} does not exist`, { id });

export const conflict = (field: string, message: string) => new DomainError(ErrorCode.CONFLICT, message, { field });

export const unauthenticated = (message: string) => new DomainError(ErrorCode.UNAUTHENTICATED, message);

export const forbidden = (message: string) => new DomainError(ErrorCode.FORBIDDEN, message);

export const queryTimeout = (ms: number) =>
  new DomainError(
    ErrorCode.QUERY_TIMEOUT,
    `the operation ran longer than ${ms} ms and was stopped (QUERY_TIMEOUT_MS); ask for less at once`,
    {
      limit: 'QUERY_TIMEOUT_MS',
      max: ms,
    },
  );
