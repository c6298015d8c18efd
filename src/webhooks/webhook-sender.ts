import { type Logger } from 'pino';
import { createHmac } from 'node:crypto';
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
const FLUSH_AT = 500;
const CLAIM_AT_MOST = 500;
const ENDPOINTS_REFRESH_MS = 2000;
const PRUNE_EVERY_MS = 3_600_000;
const PRUNE_BATCH = 5000;

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
  private readonly queue: Claimed[] = [];
  private readonly busy = new Map<string, number>();
  private outcomes: Outcome[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private writing = false;
  /** Outcomes not in the database yet: while many are, nothing more is claimed, so no lease runs out before its outcome is written. */
  private unwritten = 0;
  private wake: (() => void) | null = null;
  private hosts: { at: number; allowPrivate: Map<string, boolean> } | null = null;
  private endpoints: { at: number; ids: string[] } | null = null;
  private readonly keys = new Map<string, Buffer>();
  private pruneTimer: NodeJS.Timeout | null = null;

  constructor(private readonly deps: { prisma: PrismaClient; transport: WebhookTransport; config: WebhooksConfig; log: Logger }) {}

  start(): this {
    if (!this.stopped) return this;
    this.stopped = false;
    this.loop = this.run().catch((err) => this.deps.log.error({ err }, 'the webhook sender stopped'));
    const prune = () =>
      void this.prune().catch((err) => this.deps.log.warn({ err: (err as Error).message }, 'could not prune old webhook events'));
    this.pruneTimer = setInterval(prune, PRUNE_EVERY_MS).unref();
    prune();
    return this;
  }

  /**
   * Deletes events older than WEBHOOK_RETENTION_DAYS with no delivery still PENDING, and their delivery
   * log with them, a batch at a time so no statement holds many rows. Returns how many events went.
   */
  async prune(now = new Date()): Promise<number> {
    const cutoff = new Date(now.getTime() - this.deps.config.retentionDays * 86_400_000);
    let total = 0;
    for (;;) {
      const deleted = await this.deps.prisma.$executeRaw`
        DELETE FROM webhook_events WHERE id IN (
          SELECT ev.id FROM webhook_events ev
          WHERE ev.created_at < ${cutoff}
            AND NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.event_id = ev.id AND d.status = 'PENDING')
          LIMIT ${PRUNE_BATCH})`;
      total += deleted;
      if (deleted < PRUNE_BATCH) return total;
    }
  }

  /** An endpoint changed or something may be due now: look again at once. */
  nudge(): void {
    this.endpoints = null;
    this.wakeUp();
  }

  private wakeUp(): void {
    this.wake?.();
  }

  /** Stops taking work, lets the deliveries in flight finish and writes their outcomes. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    this.wakeUp();
    await this.loop;
    // What was claimed but not started keeps its lease; another process sends it once the lease runs out.
    this.queue.length = 0;
    await Promise.all(this.inFlight);
    while (this.writing || this.outcomes.length) await this.flush();
  }

  private async run(): Promise<void> {
    const { config, log } = this.deps;
    while (!this.stopped) {
      let claimed = 0;
      // Claim in batches into a local queue, so one round trip feeds many sends.
      if (this.queue.length < config.concurrency && this.unwritten < 4 * config.concurrency) {
        try {
          const batch = await this.claim(Math.min(CLAIM_AT_MOST, 2 * config.concurrency - this.queue.length));
          claimed = batch.length;
          this.queue.push(...batch);
          this.pump();
        } catch (err) {
          log.warn({ err: (err as Error).message }, 'could not take webhook deliveries; trying again');
          await this.sleep(config.pollMs * 10);
          continue;
        }
      }
      // Nothing due: wait for a nudge or the next poll. A full queue: wait until it runs low.
      if (claimed === 0 || this.queue.length >= config.concurrency) await this.sleep(claimed === 0 ? config.pollMs : config.timeoutMs);
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

  /** Starts queued deliveries while slots are free, at most concurrencyPerEndpoint to one endpoint. */
  private pump(): void {
    const { concurrency, concurrencyPerEndpoint: perEndpoint } = this.deps.config;
    for (let i = 0; i < this.queue.length && this.inFlight.size < concurrency; ) {
      const d = this.queue[i];
      const busy = this.busy.get(d.endpoint_id) ?? 0;
      if (busy >= perEndpoint) {
        i += 1;
        continue;
      }
      this.queue.splice(i, 1);
      this.busy.set(d.endpoint_id, busy + 1);
      const p = this.attempt(d).finally(() => {
        this.inFlight.delete(p);
        this.busy.set(d.endpoint_id, (this.busy.get(d.endpoint_id) ?? 1) - 1);
        this.pump();
        if (this.queue.length < concurrency) this.wakeUp();
      });
      this.inFlight.add(p);
    }
  }

  private async claim(limit: number): Promise<Claimed[]> {
    const endpoints = await this.sendable();
    if (!endpoints.length) return [];
    // Long enough for a claimed delivery to wait its turn in the local queue and be sent.
    const leaseMs = 3 * this.deps.config.timeoutMs + 30_000;
    // The pending index in due order, stopping at `limit`: no join decides which rows, so no plan scans them all.
    return this.deps.prisma.$queryRaw<Claimed[]>`
      WITH due AS (
        SELECT d.id FROM webhook_deliveries d
        WHERE d.status = 'PENDING' AND d.next_attempt_at <= now() AND (d.leased_until IS NULL OR d.leased_until < now())
          AND d.endpoint_id = ANY(${endpoints}::uuid[])
        ORDER BY d.next_attempt_at
        LIMIT ${limit}
        FOR UPDATE OF d SKIP LOCKED
      )
      UPDATE webhook_deliveries d
      SET leased_until = now() + ${leaseMs} * interval '1 millisecond', attempts = d.attempts + 1, last_attempt_at = now()
      FROM due, webhook_endpoints e, webhook_events ev
      WHERE d.id = due.id AND e.id = d.endpoint_id AND ev.id = d.event_id AND e.enabled
      RETURNING d.id::text, d.attempts, e.id::text AS endpoint_id, e.url, e.secret, ev.payload::text AS payload, ev.type::text AS type`;
  }

  /**
   * Enabled endpoints of unrevoked keys: read again after a nudge (this process changed one) or every
   * ENDPOINTS_REFRESH_MS (another process did, or a key was revoked). With none, nothing else is queried.
   */
  private async sendable(): Promise<string[]> {
    if (!this.endpoints || Date.now() - this.endpoints.at > ENDPOINTS_REFRESH_MS) {
      const rows = await this.deps.prisma.webhookEndpoint.findMany({
        where: { enabled: true, apiKey: { revokedAt: null } },
        select: { id: true },
      });
      this.endpoints = { at: Date.now(), ids: rows.map((r) => r.id) };
    }
    return this.endpoints.ids;
  }

  /** Hosts an ADMIN allowed on private networks, read at most once a second. */
  private async allowPrivate(host: string): Promise<boolean | undefined> {
    const read = async () => {
      const rows = await this.deps.prisma.webhookHost.findMany();
      this.hosts = { at: Date.now(), allowPrivate: new Map(rows.map((h) => [h.host, h.allowPrivateNetwork])) };
      return this.hosts.allowPrivate;
    };
    const cached = !this.hosts || Date.now() - this.hosts.at > 1000 ? await read() : this.hosts.allowPrivate;
    // A host allowed since the list was read must not fail its first attempt: a miss reads the list again.
    return cached.has(host) ? cached.get(host) : (await read()).get(host);
  }

  /**
   * The Standard Webhooks signature, `v1,` + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" keyed by the
   * secret's base64 part, with node's native HMAC (the standardwebhooks package verifies it in the tests).
   */
  private sign(secret: string, id: string, at: Date, body: string): string {
    let key = this.keys.get(secret);
    if (!key) {
      if (this.keys.size > 10_000) this.keys.clear();
      key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
      this.keys.set(secret, key);
    }
    const timestamp = Math.floor(at.getTime() / 1000);
    return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
  }

  private async attempt(d: Claimed): Promise<void> {
    const { config } = this.deps;
    const started = Date.now();
    const outcome: Outcome = {
      id: d.id,
      endpointId: d.endpoint_id,
      ok: false,
      attempts: d.attempts,
      status: null,
      error: null,
      ms: 0,
      at: new Date(),
    };
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
        'webhook-signature': this.sign(d.secret, webhookId, at, d.payload),
        'vigil-event-type': eventName(d.type as WebhookEventType),
      };
      const res = await this.deps.transport.send({
        url: d.url,
        body: d.payload,
        headers,
        allowPrivateNetwork,
        timeoutMs: config.timeoutMs,
      });
      outcome.status = res.status;
      outcome.ok = res.status >= 200 && res.status < 300;
      if (!outcome.ok)
        outcome.error =
          res.status >= 300 && res.status < 400
            ? `the receiver redirected (HTTP ${res.status}); webhooks do not follow redirects`
            : `the receiver answered HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error;
      outcome.error =
        e.name === 'TimeoutError' || e.name === 'AbortError' ? `no answer within ${config.timeoutMs} ms` : e.message.slice(0, 500);
    }
    outcome.ms = Date.now() - started;
    this.outcomes.push(outcome);
    this.unwritten += 1;
    if (this.outcomes.length >= FLUSH_AT) void this.flush();
    else this.flushTimer ??= setTimeout(() => void this.flush(), FLUSH_MS);
  }

  /**
   * One write at a time, in order, so an endpoint's failure count follows its attempts; outcomes that
   * arrive meanwhile go into the next write, which grows under load instead of queueing many small ones.
   */
  private flush(): Promise<void> {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.writing || !this.outcomes.length) return this.flushing;
    this.writing = true;
    const batch = this.outcomes;
    this.outcomes = [];
    this.flushing = this.write(batch)
      .catch((err) =>
        this.deps.log.error(
          { err, deliveries: batch.length },
          'could not record webhook outcomes; their leases run out and they are sent again',
        ),
      )
      .finally(() => {
        this.writing = false;
        this.unwritten -= batch.length;
        if (this.outcomes.length) void this.flush();
        this.wakeUp();
      });
    return this.flushing;
  }

  private async write(batch: Outcome[]): Promise<void> {
    const { config, prisma } = this.deps;
    const now = Date.now();
    const status = batch.map((o) => (o.ok ? 'DELIVERED' : o.attempts >= config.maxAttempts ? 'FAILED' : 'PENDING'));
    const next = batch.map((o) => new Date(o.ok ? now : now + retryDelayMs(o.attempts, config)));
    const tallies = [...endpointTallies(batch)];
    const ids = tallies.map(([id]) => id);
    const reasons = tallies.map(([, t]) =>
      `disabled after ${config.disableAfter} failed attempts in a row; the last: ${t.lastError}`.slice(0, 1000),
    );
    const [, , disabled] = await prisma.$transaction([
      prisma.$executeRaw`
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
        WHERE d.id = r.id`,
      // A success resets the count to the failures after it; without one they add up.
      prisma.$executeRaw`
        UPDATE webhook_endpoints e SET
          consecutive_failures = CASE WHEN r.succeeded THEN r.after_success ELSE e.consecutive_failures + r.failures END
        FROM unnest(${ids}::uuid[], ${tallies.map(([, t]) => t.succeeded)}::boolean[], ${tallies.map(([, t]) => t.trailing)}::int[],
                    ${tallies.map(([, t]) => t.failures)}::int[]) AS r(id, succeeded, after_success, failures)
        WHERE e.id = r.id AND NOT (r.succeeded AND e.consecutive_failures = r.after_success)`,
      prisma.$queryRaw<{ id: string }[]>`
        UPDATE webhook_endpoints e SET enabled = false, disabled_reason = r.reason
        FROM unnest(${ids}::uuid[], ${reasons}::text[]) AS r(id, reason)
        WHERE e.id = r.id AND e.enabled AND e.consecutive_failures >= ${config.disableAfter}
        RETURNING e.id::text`,
    ]);
    for (const { id } of disabled) this.deps.log.warn({ endpointId: id }, 'webhook endpoint disabled after repeated failures');
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
