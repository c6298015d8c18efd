/** The error codes clients see in `extensions.code`. */
export enum ErrorCode {
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  FORBIDDEN = 'FORBIDDEN',
  /** deployModel: the candidate is worse than the serving version on the same test split. */
  GATE_REFUSED = 'GATE_REFUSED',
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
