import { randomBytes } from 'node:crypto';
import net from 'node:net';
import {
  type Prisma,
  type PrismaClient,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEvent,
  type WebhookHost,
} from '../generated/prisma/client';
import { Role, WebhookDeliveryStatus, type WebhookEventType } from '../generated/prisma/enums';
import { addressRefusal } from '../adapters/webhook-transport/webhook-transport.port';
import { type Caller } from '../auth/caller';
import { badInput, conflict, notFound } from '../common/errors';
import { type Connection } from '../common/pagination/connection.type';
import { byId, listOrdering, type Ordering, type PageLimits, paginate } from '../common/pagination/keyset';
import { type PageArgs } from '../common/pagination/page.args';

const ENDPOINT_ORDER: Ordering = listOrdering('WebhookEndpoint', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);
const DELIVERY_ORDER: Ordering = listOrdering('WebhookDelivery', [
  { field: 'createdAt', column: 'created_at', kind: 'date', direction: 'desc' },
  byId('desc'),
]);
const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export interface EndpointPlan {
  url: string;
  events: WebhookEventType[];
  description?: string | null;
}

export type EndpointEdit = Partial<EndpointPlan> & { enabled?: boolean | null };

export type DeliveryWithEvent = WebhookDelivery & { event: WebhookEvent };

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

/** A host as allowWebhookHost stores it: lowercase, IPv6 without brackets. */
function normalHost(input: string, field: string): string {
  const host = input
    .trim()
    .toLowerCase()
    .replace(/^\[|\]$/g, '');
  if (net.isIP(host)) {
    // Nothing can make these safe, so they cannot even be allowed.
    const refusal = addressRefusal(host, true);
    if (refusal) throw badInput(field, `${refusal}; webhooks are never sent there`);
    return host;
  }
  if (!HOSTNAME.test(host)) throw badInput(field, `"${input.slice(0, 100)}" is not a host name or an IP address`);
  return host;
}

/** Allowed hosts (ADMIN), endpoints per API key, and their delivery log. */
export class WebhookEndpointService {
  constructor(
    private readonly prisma: PrismaClient,
    private readonly settings: { endpointsPerKey: number; limits: PageLimits },
    private readonly nudge: () => void = () => {},
  ) {}

  hosts(): Promise<WebhookHost[]> {
    return this.prisma.webhookHost.findMany({ orderBy: { host: 'asc' } });
  }

  async allowHost(caller: Caller, host: string, allowPrivateNetwork: boolean): Promise<WebhookHost> {
    const h = normalHost(host, 'host');
    return this.prisma.webhookHost.upsert({
      where: { host: h },
      create: { host: h, allowPrivateNetwork, createdBy: caller.name },
      update: { allowPrivateNetwork },
    });
  }

  /** Endpoints on the host stay registered, and their deliveries fail until the host is allowed again. */
  async removeHost(host: string): Promise<boolean> {
    const removed = await this.prisma.webhookHost.deleteMany({ where: { host: normalHost(host, 'host') } });
    return removed.count > 0;
  }

  private async checkUrl(raw: string): Promise<string> {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw badInput('url', 'not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw badInput('url', `${url.protocol} URLs are refused; use http or https`);
    if (url.username || url.password) throw badInput('url', 'no user or password in the URL; verify requests by their signature');
    if (url.hash) throw badInput('url', 'no #fragment: it is never sent');
    const host = normalHost(url.hostname, 'url');
    const allowed = await this.prisma.webhookHost.findUnique({ where: { host } });
    if (!allowed) throw badInput('url', `${host} is not an allowed webhook host; an ADMIN allows it with allowWebhookHost`);
    if (net.isIP(host)) {
      const refusal = addressRefusal(host, allowed.allowPrivateNetwork);
      if (refusal) throw badInput('url', refusal);
    }
    return url.toString();
  }

  async create(caller: Caller, plan: EndpointPlan): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    const url = await this.checkUrl(plan.url);
    const events = [...new Set(plan.events)];
    if (!events.length) throw badInput('events', 'name at least one event type');
    const secret = newSecret();
    const endpoint = await this.prisma.$transaction(async (tx) => {
      // Serialises a key's registrations, so the cap holds against concurrent requests.
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${`vigil-webhooks:${caller.apiKeyId}`}))`;
      const count = await tx.webhookEndpoint.count({ where: { apiKeyId: caller.apiKeyId } });
      if (count >= this.settings.endpointsPerKey)
        throw conflict('url', `this key has ${count} endpoints, the most allowed (WEBHOOK_ENDPOINTS_PER_KEY); delete one first`);
      return tx.webhookEndpoint.create({
        data: { apiKeyId: caller.apiKeyId, url, events, description: plan.description ?? null, secret },
      });
    });
    this.nudge();
    return { endpoint, secret };
  }

  /** An ADMIN sees every endpoint; other keys see only their own (someone else's is NOT_FOUND). */
  private async owned(caller: Caller, id: string): Promise<WebhookEndpoint> {
    const endpoint = await this.prisma.webhookEndpoint.findUnique({ where: { id } });
    if (!endpoint || (caller.role !== Role.ADMIN && endpoint.apiKeyId !== caller.apiKeyId)) throw notFound('WebhookEndpoint', id);
    return endpoint;
  }

  get(caller: Caller, id: string): Promise<WebhookEndpoint> {
    return this.owned(caller, id);
  }

  list(caller: Caller, page: PageArgs): Promise<Connection<WebhookEndpoint>> {
    const where: Prisma.WebhookEndpointWhereInput = caller.role === Role.ADMIN ? {} : { apiKeyId: caller.apiKeyId };
    return paginate({
      page,
      ordering: ENDPOINT_ORDER,
      limits: this.settings.limits,
      where,
      find: (q) => this.prisma.webhookEndpoint.findMany(q),
      count: (w) => this.prisma.webhookEndpoint.count({ where: w }),
    });
  }

  async update(caller: Caller, id: string, edit: EndpointEdit): Promise<WebhookEndpoint> {
    await this.owned(caller, id);
    if (edit.enabled === null) throw badInput('enabled', 'true or false; omit it to keep the current state');
    const data: Prisma.WebhookEndpointUpdateInput = {};
    if (edit.url !== undefined && edit.url !== null) data.url = await this.checkUrl(edit.url);
    if (edit.events) data.events = [...new Set(edit.events)];
    if (edit.description !== undefined) data.description = edit.description;
    if (edit.enabled === true) Object.assign(data, { enabled: true, disabledReason: null, consecutiveFailures: 0 });
    if (edit.enabled === false) Object.assign(data, { enabled: false, disabledReason: `disabled by ${caller.name}` });
    const updated = await this.prisma.webhookEndpoint.update({ where: { id }, data });
    this.nudge();
    return updated;
  }

  async rotateSecret(caller: Caller, id: string): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
    await this.owned(caller, id);
    const secret = newSecret();
    return { endpoint: await this.prisma.webhookEndpoint.update({ where: { id }, data: { secret } }), secret };
  }

  /** The endpoint and its delivery log go; events other endpoints still wait for stay. */
  async delete(caller: Caller, id: string): Promise<boolean> {
    await this.owned(caller, id);
    await this.prisma.webhookEndpoint.deleteMany({ where: { id } });
    this.nudge();
    return true;
  }

  async deliveries(caller: Caller, endpointId: string, status: WebhookDeliveryStatus[] | null | undefined, page: PageArgs) {
    await this.owned(caller, endpointId);
    const where: Prisma.WebhookDeliveryWhereInput = { endpointId, status: status?.length ? { in: status } : undefined };
    return paginate({
      page,
      ordering: DELIVERY_ORDER,
      limits: this.settings.limits,
      where,
      find: (q) => this.prisma.webhookDelivery.findMany({ ...q, include: { event: true } }) as Promise<DeliveryWithEvent[]>,
      count: (w) => this.prisma.webhookDelivery.count({ where: w }),
    });
  }

  /** A DELIVERED or FAILED delivery is due again now with a fresh set of attempts; receivers see the same webhook-id. */
  async redeliver(caller: Caller, deliveryId: string): Promise<DeliveryWithEvent> {
    const found = await this.prisma.webhookDelivery.findUnique({ where: { id: deliveryId } });
    if (!found) throw notFound('WebhookDelivery', deliveryId);
    const endpoint = await this.owned(caller, found.endpointId).catch(() => Promise.reject(notFound('WebhookDelivery', deliveryId)));
    if (!endpoint.enabled) throw conflict('id', `endpoint ${endpoint.id} is disabled; enable it with updateWebhookEndpoint first`);
    const reset = await this.prisma.webhookDelivery.updateMany({
      where: { id: deliveryId, status: { not: WebhookDeliveryStatus.PENDING } },
      data: { status: WebhookDeliveryStatus.PENDING, attempts: 0, nextAttemptAt: new Date(), leasedUntil: null },
    });
    if (!reset.count) throw conflict('id', `delivery ${deliveryId} is still PENDING; it is sent at its next attempt`);
    this.nudge();
    return this.prisma.webhookDelivery.findUniqueOrThrow({ where: { id: deliveryId }, include: { event: true } });
  }
}
