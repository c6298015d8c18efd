import { type Logger } from 'pino';
import { type Caller } from '../auth/caller';
import { type DomainError } from '../common/errors';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Loaders } from './loaders';

/** Who is calling, the request's loaders and logger; resolvers get their services by constructor. Built once per request (or per subscription) by src/http/context-factory.ts. */
export interface Context {
  requestId: string;
  log: Logger;
  /** Null when the request carried no valid API key; authError says why. */
  caller: Caller | null;
  authError: DomainError | null;
  /** Live events: a subscription's `subscribe` option (which runs outside any resolver instance) listens here. */
  events: EventBus;
  loaders: Loaders;
}
