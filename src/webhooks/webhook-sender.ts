import { type Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { type PrismaClient } from '../generated/prisma/client';
import { type WebhookTransport } from '../adapters/webhook-transport/webhook-transport.port';
import { type WebhooksConfig } from '../config/config';
import { toPlainId } from '../common/global-id';
import { eventName, type WebhookEventType } from './outbox';

interface Claimed {
  id: string;
  attempts: number;
  endpoint_id: string;
  url: string;
  secret: string;
  payload: string;
  type: string;
}

interface Outcome {
  id: string;
  endpointId: string;
  ok: boolean;
  attempts: number;
  status: number | null;
  error: string | null;
  ms: number;
  at: Date;
}

const USER_AGENT = 'vigil-webhooks/1';
const FLUSH_MS = 25;
const FLUSH_AT = 100;
const CLAIM_AT_MOST = 200;

/** Retry n waits between half and all of min(cap, base × 2^(n-1)): spread out, never bunched at zero. */
export function retryDelayMs(attempts: number, config: Pick<WebhooksConfig, 'retryBaseMs' | 'retryCapMs'>, random = Math.random): number {
  const ceiling = Math.min(config.retryCapMs, config.retryBaseMs * 2 ** Math.min(attempts - 1, 40));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Sends due deliveries from the outbox. Each is leased with FOR UPDATE SKIP LOCKED, so several
 * processes share the work and none sends a delivery another holds; a process that dies leaves leases
 * that run out and are taken again (at least once; receivers drop repeats by `webhook-id`). Outcomes
 * are written back in batches: delivered, retried later with backoff, or FAILED after the last attempt.
 * An endpoint that fails `disableAfter` attempts in a row is disabled.
 */
export class WebhookSender {
  private stopped = true;
  private loop: Promise<void> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private outcomes: Outcome[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private hosts: { at: number; allowPrivate: Map<string, boolean> } | null = null;
  private readonly signers = new Map<string, Webhook>();

  constructor(
    private readonly deps: { prisma: PrismaClient; transport: WebhookTransport; config: WebhooksConfig; log: Logger },
  ) {}

  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.loop = this.run().catch((err) => this.deps.log.error({ err }, 'the webhook sender stopped'));
    return this;
  }

  /** Something may be due now (a test, or a process that just committed events). */
  nudge(): void {
    this.wake?.();
  }

  /** Stops taking work, lets the deliveries in flight finish and writes their outcomes. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.nudge();
    await this.loop;
    await Promise.all(this.inFlight);
    await this.flush();
  }

  private async run(): Promise<void> {
    const { config, log } = this.deps;
    while (!this.stopped) {
      const free = config.concurrency - this.inFlight.size;
      let claimed = 0;
      if (free > 0) {
        try {
          const batch = await this.claim(Math.min(free, CLAIM_AT_MOST));
          claimed = batch.length;
          for (const d of batch) this.track(this.attempt(d));
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'could not take webhook deliveries; trying again');
          await this.sleep(config.pollMs * 10);
          continue;
        }
      }
      // A full batch: more may be due at once. Otherwise wait for a slot, a nudge or the next poll.
      if (claimed === 0 || this.inFlight.size >= config.concurrency) await this.sleep(config.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  private track(p: Promise<void>) {
    this.inFlight.add(p);
    p.finally(() => {
      this.inFlight.delete(p);
      // A slot is free: the loop may be waiting for one.
      if (this.inFlight.size === this.deps.config.concurrency - 1) this.nudge();
    });
  }

  private claim(limit: number): Promise<Claimed[]> {
    const leaseMs = this.deps.config.timeoutMs + 30_000;
    return this.deps.prisma.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        JOIN webhook_endpoints e ON e.id = d.endpoint_id
        JOIN api_keys k ON k.id = e.api_key_id
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
          AND e.enabled AND k.revoked_at IS NULL
        ORDER BY d.next_attempt_at
        LIMIT ${limit}
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE webhook_deliveries d
      SET leased_until = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
      FROM due, webhook_endpoints e, webhook_events ev
      WHERE d.id = due.id AND e.id = d.endpoint_id AND ev.id = d.event_id
      RETURNING d.id::text, d.attempts, e.id::text AS endpoint_id, e.url, e.secret, ev.payload::text AS payload, ev.type::text AS type`;
  }

  /** Hosts an ADMIN allowed on private networks, read at most once a second. */
  private async allowPrivate(host: string): Promise<boolean | undefined> {
    if (!this.hosts || Date.now() - this.hosts.at > 1000) {
      const rows = await this.deps.prisma.webhookHost.findMany();
      this.hosts = { at: Date.now(), allowPrivate: new Map(rows.map((h) => [h.host, h.allowPrivateNetwork])) };
    }
    return this.hosts.allowPrivate.get(host);
  }

  private signer(secret: string): Webhook {
    let signer = this.signers.get(secret);
    if (!signer) {
      if (this.signers.size > 10_000) this.signers.clear();
      signer = new Webhook(secret);
      this.signers.set(secret, signer);
    }
    return signer;
  }

  private async attempt(d: Claimed): Promise<void> {
    const { config } = this.deps;
    const started = Date.now();
    const outcome: Outcome = { id: d.id, endpointId: d.endpoint_id, ok: false, attempts: d.attempts, status: null, error: null, ms: 0, at: new Date() };
    try {
      const host = new URL(d.url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
      const allowPrivateNetwork = await this.allowPrivate(host);
      if (allowPrivateNetwork === undefined) throw new Error(`${host} is no longer an allowed webhook host`);
      const at = new Date();
      // The id receivers dedupe by is the delivery's id in the API (webhookDeliveries, redeliverWebhook).
      const webhookId = toPlainId('WebhookDelivery', d.id);
      const headers = {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'webhook-id': webhookId,
        'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
        'webhook-signature': this.signer(d.secret).sign(webhookId, at, d.payload),
        'vigil-event-type': eventName(d.type as WebhookEventType),
      };
      const res = await this.deps.transport.send({ url: d.url, body: d.payload, headers, allowPrivateNetwork, timeoutMs: config.timeoutMs });
      outcome.status = res.status;
      outcome.ok = res.status >= 200 && res.status < 300;
      if (!outcome.ok)
        outcome.error =
          res.status >= 300 && res.status < 400
            ? `the receiver redirected (HTTP ${res.status}); webhooks do not follow redirects`
            : `the receiver answered HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error;
      outcome.error = e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${config.timeoutMs} ms` : e.message.slice(0, 500);
    }
    outcome.ms = Date.now() - started;
    this.outcomes.push(outcome);
    if (this.outcomes.length >= FLUSH_AT) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    const batch = this.outcomes;
    this.outcomes = [];
    if (!batch.length) return this.flushing;
    // One write at a time, in order, so an endpoint's failure count follows its attempts.
    this.flushing = this.flushing
      .then(() => this.write(batch))
      .catch((err) => this.deps.log.error({ err, deliveries: batch.length }, 'could not record webhook outcomes; their leases run out and they are sent again'));
    return this.flushing;
  }

  private async write(batch: Outcome[]): Promise<void> {
    const { config } = this.deps;
    const now = Date.now();
    const status = batch.map((o) => (o.ok ? 'DELIVERED' : o.attempts >= config.maxAttempts ? 'FAILED' : 'PENDING'));
    const next = batch.map((o) => new Date(o.ok ? now : now + retryDelayMs(o.attempts, config)));
    await this.deps.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`
        UPDATE webhook_deliveries d SET
          status = r.status::"WebhookDeliveryStatus",
          leased_until = NULL,
          next_attempt_at = r.next,
          last_status_code = r.code,
          last_error = r.error,
          last_duration_ms = r.ms,
          delivered_at = CASE WHEN r.status = 'DELIVERED' THEN r.at ELSE d.delivered_at END
        FROM unnest(${batch.map((o) => o.id)}::uuid[], ${status}::text[], ${next}::timestamptz[], ${batch.map((o) => o.status)}::int[],
                    ${batch.map((o) => o.error)}::text[], ${batch.map((o) => o.ms)}::int[], ${batch.map((o) => o.at)}::timestamptz[])
          AS r(id, status, next, code, error, ms, at)
        WHERE d.id = r.id`;
      for (const [endpointId, { succeeded, failures, trailing, lastError }] of endpointTallies(batch)) {
        // A success resets the count to the failures after it; without one they add up.
        if (succeeded) {
          await tx.$executeRaw`UPDATE webhook_endpoints SET consecutive_failures = ${trailing}
            WHERE id = ${endpointId}::uuid AND consecutive_failures <> ${trailing}`;
        } else {
          await tx.$executeRaw`UPDATE webhook_endpoints SET consecutive_failures = consecutive_failures + ${failures} WHERE id = ${endpointId}::uuid`;
        }
        if (trailing > 0) {
          const reason = `disabled after ${config.disableAfter} failed attempts in a row; the last: ${lastError}`.slice(0, 1000);
          const disabled = await tx.$executeRaw`
            UPDATE webhook_endpoints SET enabled = false, disabled_reason = ${reason}
            WHERE id = ${endpointId}::uuid AND enabled AND consecutive_failures >= ${config.disableAfter}`;
          if (disabled) this.deps.log.warn({ endpointId, lastError }, 'webhook endpoint disabled after repeated failures');
        }
      }
    });
  }
}

/** Per endpoint: whether an attempt in the batch succeeded, the failures, those after its last success, and the last error. */
function endpointTallies(batch: Outcome[]) {
  const tallies = new Map<string, { succeeded: boolean; failures: number; trailing: number; lastError: string | null }>();
  for (const o of batch) {
    const t = tallies.get(o.endpointId) ?? { succeeded: false, failures: 0, trailing: 0, lastError: null };
    if (o.ok) {
      t.succeeded = true;
      t.trailing = 0;
    } else {
      t.failures += 1;
      t.trailing += 1;
      t.lastError = o.error;
    }
    tallies.set(o.endpointId, t);
  }
  return tallies;
}
