import { type Logger } from 'pino';
import { type Services } from '../app/services';
import { type Caller } from '../auth/caller';
import { type DomainError } from '../common/errors';
import { type EventBus } from '../adapters/event-bus/event-bus.port';
import { type Loaders } from './loaders';

/** Everything a resolver may use, built once per request (or per subscription) by src/http/context-factory.ts. */
export interface Context {
  requestId: string;
  log: Logger;
  /** Null when the request carried no valid API key; authError says why. */
  caller: Caller | null;
  authError: DomainError | null;
  services: Services;
  /** Live events: subscriptions listen here. */
  events: EventBus;
  loaders: Loaders;
}
