import { type Logger } from 'pino';
import { type Services } from '../app/services';
import { type DomainError } from '../common/errors';
import { type PageLimits } from '../common/pagination/keyset';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Context } from '../graphql/context';
import { Loaders } from '../graphql/loaders';

export type Identity = Pick<Context, 'caller' | 'authError'>;

export const ANONYMOUS: Identity = { caller: null, authError: null };

/** The secret in "Bearer <secret>"; null when the value has another form. */
export function bearerSecret(value: string): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(value)?.[1] ?? null;
}

/** Who a secret stands for; an unknown or revoked key leaves authError for @Authorized to raise. */
export async function identify(secret: string, services: Services): Promise<Identity> {
  try {
    return { caller: await services.apiKeys.authenticate(secret), authError: null };
  } catch (err) {
    return { caller: null, authError: err as DomainError };
  }
}

export interface ContextDeps {
  services: Services;
  events: EventBus;
  pagination: PageLimits;
}

/** One Context per HTTP request or per subscription, the same for both transports. */
export function createContext(deps: ContextDeps, request: { requestId: string; log: Logger }, identity: Identity): Context {
  return {
    requestId: request.requestId,
    log: request.log,
    ...identity,
    services: deps.services,
    events: deps.events,
    loaders: new Loaders(deps.services, deps.pagination),
  };
}
