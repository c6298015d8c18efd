import { type Logger } from 'pino';
import { type EventBus } from './event-bus.port';
import { InProcessEventBus } from './in-process.driver';
import { RedisEventBus } from './redis.driver';

export type { EventBus };

export const DEFAULT_CHANNEL_PREFIX = 'vigil:';

export interface EventBusOptions {
  redisUrl?: string;
  /** Redis channel prefix; tests give each run its own so parallel runs do not hear each other. */
  channelPrefix?: string;
}

/** In-process unless REDIS_URL is set: then every instance on that Redis sees every event. */
export function createEventBus(options: EventBusOptions, log: Logger): EventBus {
  if (!options.redisUrl) return new InProcessEventBus(log);
  return new RedisEventBus({ url: options.redisUrl, channelPrefix: options.channelPrefix ?? DEFAULT_CHANNEL_PREFIX }, log);
}
