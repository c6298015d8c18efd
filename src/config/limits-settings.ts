import { z } from 'zod';
import { int } from './env-fields';

/** What one request, one key and one socket may ask of the server: README "Limits and security" lists each. */
export const limitsEnv = z.object({
  QUERY_MAX_DEPTH: int(2, 100).default(15),
  QUERY_MAX_ALIASES: int(0, 1000).default(30),
  QUERY_MAX_DIRECTIVES: int(0, 1000).default(50),
  QUERY_MAX_TOKENS: int(100, 100_000).default(5000),
  QUERY_MAX_COST_ADMIN: int(1, 100_000_000).default(50_000),
  QUERY_MAX_COST_OPERATOR: int(1, 100_000_000).default(50_000),
  QUERY_MAX_COST_INTEGRATOR: int(1, 100_000_000).default(20_000),
  QUERY_MAX_COST_REVIEWER: int(1, 100_000_000).default(5_000),
  QUERY_TIMEOUT_MS: int(100, 600_000).default(15_000),
  RATE_LIMIT_PER_KEY: int(0, 10_000_000).default(3000),
  RATE_LIMIT_ANONYMOUS: int(0, 10_000_000).default(300),
  RATE_LIMIT_WINDOW_SECONDS: int(1, 3600).default(60),
  MAX_CONCURRENT_REQUESTS: int(1, 10_000).optional(),
  MAX_QUEUE_WAIT_MS: int(0, 60_000).default(1000),
  MAX_QUEUE_LENGTH: int(0, 100_000).optional(),
  SUBSCRIPTIONS_PER_SOCKET: int(1, 10_000).default(50),
  SUBSCRIPTIONS_PER_KEY: int(1, 100_000).default(200),
  SOCKETS_PER_KEY: int(1, 10_000).default(20),
  SUBSCRIPTION_BUFFER_BYTES: int(1024, 1024 * 1024 * 1024).default(4 * 1024 * 1024),
});

export type LimitsEnv = z.infer<typeof limitsEnv>;

export interface QueryLimits {
  maxDepth: number;
  maxAliases: number;
  maxDirectives: number;
  maxTokens: number;
  /** The largest estimated cost an operation may have, by the caller's role. */
  maxCost: { ADMIN: number; OPERATOR: number; INTEGRATOR: number; REVIEWER: number };
  timeoutMs: number;
}

export interface LimitsConfig {
  query: QueryLimits;
  /** Requests per window per API key (or per client address without one); 0 turns the limit off. */
  rateLimit: { perKey: number; anonymous: number; windowSeconds: number };
  /** GraphQL requests served at once; at most maxQueued more wait, each up to maxWaitMs, then get 503 with Retry-After. */
  admission: { maxConcurrent: number; maxQueued: number; maxWaitMs: number };
  subscriptions: { perSocket: number; perKey: number; socketsPerKey: number; maxBufferedBytes: number };
}

/**
 * The embedded database answers one statement at a time: more requests in flight only interleave their
 * statements and make each one slower (bench:soak on PGlite, 60 s: 4 served 262 req/s with the slowest
 * request at 1.55 s; 16 served 230 req/s, slowest 2.08 s). On PostgreSQL the server's one thread is the
 * limit, not the pool: 128 requests in flight share it, each taking turns with all the others, so a request
 * with more statements waits longer (bench:soak, 60 s: 335 req/s, p99 1.12 s); 16 at a time with the rest
 * waiting in line served 373–399 req/s with p99 0.81–1.02 s.
 */
const DEFAULT_CONCURRENCY = { pglite: 4, postgres: 16 };
/** About what each database serves of bench:soak's mix in one MAX_QUEUE_WAIT_MS (1 s): a longer line only holds requests to refuse them later. */
const DEFAULT_QUEUE_LENGTH = { pglite: 256, postgres: 1024 };

export function limitsConfig(e: LimitsEnv, database: 'pglite' | 'postgres'): LimitsConfig {
  return {
    query: {
      maxDepth: e.QUERY_MAX_DEPTH,
      maxAliases: e.QUERY_MAX_ALIASES,
      maxDirectives: e.QUERY_MAX_DIRECTIVES,
      maxTokens: e.QUERY_MAX_TOKENS,
      maxCost: {
        ADMIN: e.QUERY_MAX_COST_ADMIN,
        OPERATOR: e.QUERY_MAX_COST_OPERATOR,
        INTEGRATOR: e.QUERY_MAX_COST_INTEGRATOR,
        REVIEWER: e.QUERY_MAX_COST_REVIEWER,
      },
      timeoutMs: e.QUERY_TIMEOUT_MS,
    },
    rateLimit: { perKey: e.RATE_LIMIT_PER_KEY, anonymous: e.RATE_LIMIT_ANONYMOUS, windowSeconds: e.RATE_LIMIT_WINDOW_SECONDS },
    admission: {
      maxConcurrent: e.MAX_CONCURRENT_REQUESTS ?? DEFAULT_CONCURRENCY[database],
      maxQueued: e.MAX_QUEUE_LENGTH ?? DEFAULT_QUEUE_LENGTH[database],
      maxWaitMs: e.MAX_QUEUE_WAIT_MS,
    },
    subscriptions: {
      perSocket: e.SUBSCRIPTIONS_PER_SOCKET,
      perKey: e.SUBSCRIPTIONS_PER_KEY,
      socketsPerKey: e.SOCKETS_PER_KEY,
      maxBufferedBytes: e.SUBSCRIPTION_BUFFER_BYTES,
    },
  };
}
