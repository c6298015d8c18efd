import { z } from 'zod';
import { bool, int } from './env-fields';

/** The webhook sender: README "Webhooks" lists each setting. */
export const webhooksEnv = z.object({
  WEBHOOKS_SEND: bool.default(true),
  WEBHOOK_TIMEOUT_MS: int(100, 60_000).default(5000),
  WEBHOOK_MAX_ATTEMPTS: int(1, 100).default(12),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(2000),
  WEBHOOK_RETRY_CAP_MS: int(100, 86_400_000).default(3_600_000),
  WEBHOOK_DISABLE_AFTER: int(1, 100_000).default(50),
  WEBHOOK_CONCURRENCY: int(1, 2000).default(128),
  WEBHOOK_CONCURRENCY_PER_ENDPOINT: int(1, 1000).default(16),
  WEBHOOK_POLL_MS: int(10, 60_000).default(200),
  WEBHOOK_ENDPOINTS_PER_KEY: int(1, 1000).default(50),
  WEBHOOK_RETENTION_DAYS: int(1, 3650).default(30),
});

export type WebhooksEnv = z.infer<typeof webhooksEnv>;

export interface WebhooksConfig {
  /** This process sends due deliveries (the server does; a worker-only deployment may turn it off on API nodes). */
  send: boolean;
  timeoutMs: number;
  /** A delivery that failed this many times is FAILED (redeliverWebhook sends it again). */
  maxAttempts: number;
  /** Retry n waits a random time up to min(cap, base × 2^(n-1)) ("full jitter"). */
  retryBaseMs: number;
  retryCapMs: number;
  /** Failed attempts in a row after which an endpoint is disabled. */
  disableAfter: number;
  /** Requests in flight at once, in all and to one endpoint (so a slow receiver cannot hold every slot). */
  concurrency: number;
  concurrencyPerEndpoint: number;
  pollMs: number;
  endpointsPerKey: number;
  /** Events older than this, with no delivery still PENDING, are deleted with their delivery log. */
  retentionDays: number;
}

export const webhooksConfig = (e: WebhooksEnv): WebhooksConfig => ({
  send: e.WEBHOOKS_SEND,
  timeoutMs: e.WEBHOOK_TIMEOUT_MS,
  maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
  retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
  retryCapMs: Math.max(e.WEBHOOK_RETRY_CAP_MS, e.WEBHOOK_RETRY_BASE_MS),
  disableAfter: e.WEBHOOK_DISABLE_AFTER,
  concurrency: e.WEBHOOK_CONCURRENCY,
  concurrencyPerEndpoint: Math.min(e.WEBHOOK_CONCURRENCY_PER_ENDPOINT, e.WEBHOOK_CONCURRENCY),
  pollMs: e.WEBHOOK_POLL_MS,
  endpointsPerKey: e.WEBHOOK_ENDPOINTS_PER_KEY,
  retentionDays: e.WEBHOOK_RETENTION_DAYS,
});
