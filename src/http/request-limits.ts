import rateLimit from '@fastify/rate-limit';
import { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { Redis } from 'ioredis';
import { ErrorCode } from '../common/errors';
import { type LimitsConfig } from '../config/config';
import { type Identity } from './context-factory';

declare module 'fastify' {
  interface FastifyRequest {
    /** Who sent a /graphql request, found once in its onRequest hook: rate limits and the GraphQL context use it. */
    identity: Identity | null;
    /** Set while the request holds one of the admission slots. */
    admitted: boolean;
  }
}

const errorBody = (code: ErrorCode, message: string, retryAfterSeconds: number) => ({
  errors: [{ message, extensions: { code, retryAfterSeconds } }],
});

/**
 * At most `maxConcurrent` GraphQL requests run at once; up to `maxQueued` more wait in line for up
 * to `maxWaitMs` and are then refused with 503 and Retry-After (as is a request finding the line
 * full), so an overloaded server answers quickly instead of letting every request time out.
 */
export class Admission {
  private active = 0;
  private readonly line: { admit: (ok: boolean) => void; timer: NodeJS.Timeout }[] = [];

  constructor(private readonly settings: LimitsConfig['admission']) {}

  enter(): Promise<boolean> {
    if (this.active < this.settings.maxConcurrent) {
      this.active += 1;
      return Promise.resolve(true);
    }
    if (this.settings.maxWaitMs === 0 || this.line.length >= this.settings.maxQueued) return Promise.resolve(false);
    return new Promise((admit) => {
      const entry = {
        admit,
        timer: setTimeout(() => {
          this.line.splice(this.line.indexOf(entry), 1);
          admit(false);
        }, this.settings.maxWaitMs),
      };
      this.line.push(entry);
    });
  }

  leave(): void {
    const next = this.line.shift();
    if (!next) {
      this.active -= 1;
      return;
    }
    clearTimeout(next.timer);
    next.admit(true);
  }

  get inFlight(): number {
    return this.active;
  }
}

/** Route hooks for /graphql: wait for a slot (or 503), and give it back however the request ends. */
export function admissionHooks(admission: Admission) {
  const release = async (request: FastifyRequest) => {
    if (!request.admitted) return;
    request.admitted = false;
    admission.leave();
  };
  return {
    onRequest: async (request: FastifyRequest, reply: FastifyReply) => {
      if (await admission.enter()) {
        request.admitted = true;
        // onResponse needs a finished response and onRequestAbort a body cut short: a client that leaves
        // after sending its whole request gets neither, but its response's 'close' still comes.
        if (reply.raw.destroyed) await release(request);
        else reply.raw.once('close', () => void release(request));
        return;
      }
      return reply
        .code(503)
        .header('retry-after', '1')
        .send(errorBody(ErrorCode.OVERLOADED, 'the server is answering as many requests as it can; retry in a second', 1));
    },
    onResponse: release,
    onRequestAbort: release,
  };
}

/** The rate-limit bucket: the API key's id when the key is valid, otherwise the client address (so made-up keys share one bucket). */
function bucketOf(request: FastifyRequest): string {
  const caller = request.identity?.caller;
  return caller ? `key:${caller.apiKeyId}` : `ip:${request.ip}`;
}

export interface RateLimiter {
  /** The route option for /graphql (false when the limits are off). */
  routeConfig: { rateLimit: false | Record<string, unknown> };
  close(): Promise<void>;
}

/**
 * Requests per window per API key with @fastify/rate-limit, counted in Redis when REDIS_URL is set
 * (so every instance shares one count) and in memory otherwise; 429 with Retry-After when over.
 * If Redis is unreachable requests are let through rather than refused.
 */
export async function registerRateLimit(app: FastifyInstance, limits: LimitsConfig['rateLimit'], redisUrl?: string): Promise<RateLimiter> {
  if (limits.perKey === 0 && limits.anonymous === 0) return { routeConfig: { rateLimit: false }, close: async () => {} };
  const redis = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1, connectTimeout: 1000, enableOfflineQueue: false }) : undefined;
  redis?.on('error', (err: Error) => app.log.warn({ err: err.message }, 'redis unavailable for rate limits; requests are not limited'));
  await app.register(rateLimit, {
    global: false,
    redis,
    nameSpace: 'vigil-rate-limit:',
    skipOnError: true,
  });
  const unlimited = Number.MAX_SAFE_INTEGER;
  return {
    routeConfig: {
      rateLimit: {
        // Before the body is read: a refused client costs no parsing.
        hook: 'preParsing',
        timeWindow: limits.windowSeconds * 1000,
        keyGenerator: bucketOf,
        max: (request: FastifyRequest) => (request.identity?.caller ? limits.perKey || unlimited : limits.anonymous || unlimited),
        errorResponseBuilder: (request: FastifyRequest, context: { max: number; after: string; ttl: number }) => ({
          statusCode: 429,
          ...errorBody(
            ErrorCode.RATE_LIMITED,
            `rate limit: ${context.max} requests per ${limits.windowSeconds} s ${request.identity?.caller ? 'for this API key (RATE_LIMIT_PER_KEY)' : 'without an API key (RATE_LIMIT_ANONYMOUS)'}; retry in ${context.after}`,
            Math.ceil(context.ttl / 1000),
          ),
        }),
      },
    },
    close: async () => {
      if (redis?.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis?.disconnect();
    },
  };
}
