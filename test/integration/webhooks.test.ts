import crypto from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { failure, ok, startTestApp, type TestApp } from '../support/app';
import { daysAgo, defectsOf, inspect, newDevice } from '../support/repairs';
import { newKey } from '../support/reviews';

// Signed outbound webhooks through the HTTP API, delivered to real HTTP receivers on loopback.

interface Received {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  type: string;
  body: string;
  payload: { id: string; type: string; createdAt: string; data: Record<string, any> };
}

/** A receiver on 127.0.0.1 that records what it gets and answers as `answer` says. */
class Receiver {
  readonly got: Received[] = [];
  answer: (req: http.IncomingMessage, res: http.ServerResponse) => void = (_req, res) => res.writeHead(204).end();
  private readonly server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      this.got.push({
        path: String(req.url),
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        type: String(req.headers['vigil-event-type']),
        body,
        payload: JSON.parse(body),
      });
      this.answer(req, res);
    });
  });
  url = '';

  async start() {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  of(type: string) {
    return this.got.filter((r) => r.payload.type === type);
  }
}

async function until<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 15_000): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const ALLOW = `mutation($h: String!, $p: Boolean) { allowWebhookHost(host: $h, allowPrivateNetwork: $p) { host allowPrivateNetwork createdBy } }`;
const CREATE = `mutation($i: CreateWebhookEndpointInput!) {
  createWebhookEndpoint(input: $i) { secret endpoint { id url events enabled apiKeyId } }
}`;
const UPDATE = `mutation($id: ID!, $i: UpdateWebhookEndpointInput!) {
  updateWebhookEndpoint(id: $id, input: $i) { id enabled disabledReason consecutiveFailures events }
}`;
const ENDPOINT = `query($id: ID!) { webhookEndpoint(id: $id) { id enabled disabledReason consecutiveFailures } }`;
const DELIVERIES = `query($id: ID!, $f: WebhookDeliveryFilter) {
  webhookDeliveries(endpointId: $id, filter: $f, first: 100) {
    totalCount
    nodes { id status attempts lastStatusCode lastError deliveredAt event { id type payload } }
  }
}`;
const REDELIVER = `mutation($id: ID!) { redeliverWebhook(id: $id) { id status attempts } }`;
const CREATE_ORDER = `mutation($i: CreateWorkOrderInput!) { createWorkOrder(input: $i) { id status } }`;
const EDIT_ORDER = `mutation($id: ID!, $i: UpdateWorkOrderInput!) { updateWorkOrder(id: $id, input: $i) { id } }`;

const FAST = {
  WEBHOOK_POLL_MS: '20',
  WEBHOOK_RETRY_BASE_MS: '20',
  WEBHOOK_RETRY_CAP_MS: '100',
  WEBHOOK_MAX_ATTEMPTS: '3',
  WEBHOOK_DISABLE_AFTER: '6',
  WEBHOOK_TIMEOUT_MS: '400',
};

let t: TestApp;
let integrator: string;
let reviewer: string;
let receiver: Receiver;
beforeAll(async () => {
  t = await startTestApp(FAST);
  integrator = await newKey(t, 'INTEGRATOR');
  reviewer = await newKey(t, 'REVIEWER');
  receiver = await new Receiver().start();
  ok(await t.gql(ALLOW, { h: '127.0.0.1', p: true }));
});
afterAll(async () => {
  await t.stop();
  await receiver.stop();
});

/** An open defect on a fresh device, through a real run answered by a reviewer. */
async function openDefect() {
  const device = await newDevice(t);
  await inspect(t, reviewer, device.id, daysAgo(1), [{ box: { x: 0.2, y: 0.2, width: 0.3, height: 0.3 }, type: 'crack' }]);
  const defect = await until('the defect', async () => (await defectsOf(t, device.id))[0]);
  return { device, defect };
}

async function endpoint(events: string[], url = `${receiver.url}/hook`, as = integrator) {
  return ok(await t.gql(CREATE, { i: { url, events } }, as)).createWebhookEndpoint as {
    secret: string;
    endpoint: { id: string; url: string; events: string[]; enabled: boolean; apiKeyId: string };
  };
}

describe('webhook registration', () => {
  it('is for ADMIN and INTEGRATOR keys; hosts are for an ADMIN', async () => {
    for (const role of ['OPERATOR', 'REVIEWER'] as const) {
      const key = await newKey(t, role);
      expect(failure(await t.gql(CREATE, { i: { url: `${receiver.url}/x`, events: ['DEFECT_OPENED'] } }, key)).extensions?.code).toBe(
        'FORBIDDEN',
      );
    }
    expect(failure(await t.gql(ALLOW, { h: 'hooks.example.com' }, integrator)).extensions?.code).toBe('FORBIDDEN');
    expect(failure(await t.gql(`{ webhookHosts { host } }`, {}, integrator)).extensions?.code).toBe('FORBIDDEN');
  });

  it('refuses URLs that are not http(s), carry credentials, or point at hosts nobody allowed', async () => {
    const cases: [string, RegExp][] = [
      ['ftp://127.0.0.1/x', /ftp: URLs are refused/],
      ['file:///etc/passwd', /file: URLs are refused/],
      ['not a url', /not a URL/],
      ['http://user:pw@127.0.0.1/x', /no user or password/],
      ['https://hooks.example.com/x', /hooks\.example\.com is not an allowed webhook host/],
      ['http://10.0.0.7/x', /10\.0\.0\.7 is not an allowed webhook host/],
    ];
    for (const [url, message] of cases) {
      const err = failure(await t.gql(CREATE, { i: { url, events: ['DEFECT_OPENED'] } }, integrator));
      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(message);
    }
    expect(failure(await t.gql(CREATE, { i: { url: `${receiver.url}/x`, events: [] } }, integrator)).extensions?.code).toBe(
      'BAD_USER_INPUT',
    );
  });

  it('never allows link-local, metadata or unspecified addresses, and loopback only when the ADMIN says private networks are fine', async () => {
    for (const host of ['169.254.169.254', '[fe80::1]', 'fd00:ec2::254', '0.0.0.0', '224.0.0.1']) {
      const err = failure(await t.gql(ALLOW, { h: host, p: true }));
      expect(err.extensions?.code).toBe('BAD_USER_INPUT');
      expect(err.message).toMatch(/never sent there/);
    }
    ok(await t.gql(ALLOW, { h: '127.0.0.2', p: false }));
    const err = failure(await t.gql(CREATE, { i: { url: 'http://127.0.0.2:9/x', events: ['DEFECT_OPENED'] } }, integrator));
    expect(err.message).toMatch(/loopback address and its host is not allowed on private networks/);
    const hosts = ok(await t.gql(`{ webhookHosts { host allowPrivateNetwork } }`)).webhookHosts;
    expect(hosts).toEqual(
      expect.arrayContaining([
        { host: '127.0.0.1', allowPrivateNetwork: true },
        { host: '127.0.0.2', allowPrivateNetwork: false },
      ]),
    );
  });

  it('shows a key its own endpoints; another INTEGRATOR gets NOT_FOUND, an ADMIN sees all', async () => {
    const mine = await endpoint(['MODEL_DRIFT']);
    expect(mine.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const other = await newKey(t, 'INTEGRATOR');
    expect(failure(await t.gql(ENDPOINT, { id: mine.endpoint.id }, other)).extensions?.code).toBe('NOT_FOUND');
    expect(failure(await t.gql(UPDATE, { id: mine.endpoint.id, i: { enabled: false } }, other)).extensions?.code).toBe('NOT_FOUND');
    const theirs = ok(await t.gql(`{ webhookEndpoints(first: 100) { nodes { id } } }`, {}, other)).webhookEndpoints.nodes;
    expect(theirs).toEqual([]);
    const all = ok(await t.gql(`{ webhookEndpoints(first: 100) { nodes { id } } }`)).webhookEndpoints.nodes.map(
      (n: { id: string }) => n.id,
    );
    expect(all).toContain(mine.endpoint.id);
    expect(ok(await t.gql(`mutation($id: ID!) { deleteWebhookEndpoint(id: $id) }`, { id: mine.endpoint.id }, integrator))).toEqual({
      deleteWebhookEndpoint: true,
    });
  });
});

describe('webhook delivery', () => {
  it('follows a repair from a confirmed anomaly to a work order, each event signed and delivered once', async () => {
    const types = ['ANOMALY_CONFIRMED', 'DEFECT_OPENED', 'WORK_ORDER_CREATED', 'WORK_ORDER_CHANGED', 'INSPECTION_FINISHED'];
    const { secret, endpoint: ep } = await endpoint(types);
    const { device, defect } = await openDefect();
    const order = ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id], priority: 'HIGH' } })).createWorkOrder;
    ok(await t.gql(`mutation($id: ID!) { moveWorkOrder(id: $id, status: SCHEDULED) { status } }`, { id: order.id }));

    const mine = () => receiver.got.filter((r) => r.payload.data.deviceId === device.id);
    await until('five events', () => mine().length >= 5);
    const got = mine();
    expect(got.map((r) => r.payload.type).sort()).toEqual([
      'anomaly.confirmed',
      'defect.opened',
      'inspection.finished',
      'work_order.changed',
      'work_order.created',
    ]);
    // Every request verifies with the endpoint's secret (Standard Webhooks); a changed body does not.
    const verifier = new Webhook(secret);
    for (const r of got) {
      const headers = { 'webhook-id': r.id, 'webhook-timestamp': r.timestamp, 'webhook-signature': r.signature };
      expect(verifier.verify(r.body, headers)).toEqual(r.payload);
      expect(() => verifier.verify(r.body.replace('"data"', '"date"'), headers)).toThrow();
      expect(r.type).toBe(r.payload.type);
    }
    const created = got.find((r) => r.payload.type === 'work_order.created')!;
    expect(created.payload.data).toMatchObject({ workOrderId: order.id, deviceId: device.id, status: 'OPEN', priority: 'HIGH' });
    expect(got.find((r) => r.payload.type === 'work_order.changed')!.payload.data).toMatchObject({ status: 'SCHEDULED', change: 'STATUS' });
    expect(got.find((r) => r.payload.type === 'defect.opened')!.payload.data).toMatchObject({ defectId: defect.id, type: 'crack' });

    // The delivery log names each request by its webhook-id, with the receiver's answer.
    // Outcomes are written a moment after the receiver answers.
    const mineIds = new Set(got.map((r) => r.id));
    const logged = await until('the delivery log', async () => {
      const log = ok(await t.gql(DELIVERIES, { id: ep.id }, integrator)).webhookDeliveries;
      const nodes = log.nodes.filter((n: { id: string }) => mineIds.has(n.id));
      return nodes.length === 5 && nodes.every((n: { status: string }) => n.status !== 'PENDING') ? nodes : null;
    });
    for (const n of logged) expect(n).toMatchObject({ status: 'DELIVERED', attempts: 1, lastStatusCode: 204, lastError: null });
    expect(new Set(got.map((r) => r.id)).size).toBe(got.length);
  });

  it('announces the confirmed fix: the work order completed, then the defect resolved by the next inspection', async () => {
    await endpoint(['WORK_ORDER_CHANGED', 'DEFECT_RESOLVED'], `${receiver.url}/fix`);
    const { device, defect } = await openDefect();
    const order = ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } })).createWorkOrder;
    for (const status of ['SCHEDULED', 'IN_PROGRESS'])
      ok(
        await t.gql(`mutation($id: ID!, $s: WorkOrderStatus!) { moveWorkOrder(id: $id, status: $s) { status } }`, {
          id: order.id,
          s: status,
        }),
      );
    ok(
      await t.gql(`mutation($id: ID!, $f: [FieldFindingInput!]!) { completeWorkOrder(id: $id, findings: $f) { status } }`, {
        id: order.id,
        f: [{ defectId: defect.id, finding: 'FIXED' }],
      }),
    );
    // The crew's FIXED is confirmed only by the next photograph showing nothing there.
    await inspect(t, reviewer, device.id, daysAgo(0), []);
    const fix = () => receiver.got.filter((r) => r.path === '/fix' && r.payload.data.deviceId === device.id);
    const resolved = await until('defect.resolved', () => fix().find((r) => r.payload.type === 'defect.resolved'));
    expect(resolved.payload.data).toMatchObject({ defectId: defect.id, status: 'RESOLVED' });
    expect(fix().map((r) => r.payload.data.change ?? r.payload.type)).toEqual(['STATUS', 'STATUS', 'COMPLETED', 'defect.resolved']);
  });

  it('writes no event when the change is refused (the outbox row lives in the same transaction)', async () => {
    const { endpoint: ep } = await endpoint(['WORK_ORDER_CREATED']);
    const { defect } = await openDefect();
    ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } }));
    await until(
      'the first work order',
      async () => ok(await t.gql(DELIVERIES, { id: ep.id }, integrator)).webhookDeliveries.totalCount === 1,
    );
    // The same defect again: CONFLICT, and nothing announced.
    expect(failure(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } })).extensions?.code).toBe('CONFLICT');
    await new Promise((r) => setTimeout(r, 200));
    expect(ok(await t.gql(DELIVERIES, { id: ep.id }, integrator)).webhookDeliveries.totalCount).toBe(1);
  });

  it('retries a failing receiver with backoff, marks the delivery FAILED after the last attempt, then disables the endpoint', async () => {
    const failing = await new Receiver().start();
    failing.answer = (_req, res) => res.writeHead(500).end('no');
    try {
      const { endpoint: ep } = await endpoint(['WORK_ORDER_CHANGED'], `${failing.url}/down`);
      const { defect } = await openDefect();
      const order = ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } })).createWorkOrder;
      ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'first' } }));
      const failed = await until('a FAILED delivery', async () => {
        const log = ok(await t.gql(DELIVERIES, { id: ep.id, f: { status: ['FAILED'] } }, integrator)).webhookDeliveries;
        return log.nodes[0];
      });
      expect(failed).toMatchObject({ status: 'FAILED', attempts: 3, lastStatusCode: 500, lastError: 'the receiver answered HTTP 500' });
      expect(failing.got.filter((r) => r.id === failed.id)).toHaveLength(3);
      // Three more failures in a row reach WEBHOOK_DISABLE_AFTER (6).
      ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'second' } }));
      const disabled = await until('the endpoint disabled', async () => {
        const e = ok(await t.gql(ENDPOINT, { id: ep.id }, integrator)).webhookEndpoint;
        return e.enabled ? null : e;
      });
      expect(disabled.disabledReason).toMatch(/^disabled after 6 failed attempts in a row; the last: the receiver answered HTTP 500/);
      // A disabled endpoint gets no new events.
      const before = ok(await t.gql(DELIVERIES, { id: ep.id }, integrator)).webhookDeliveries.totalCount;
      ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'third' } }));
      await new Promise((r) => setTimeout(r, 200));
      expect(ok(await t.gql(DELIVERIES, { id: ep.id }, integrator)).webhookDeliveries.totalCount).toBe(before);
      // Redelivery waits for the endpoint to be enabled; then the healed receiver gets the same webhook-id.
      expect(failure(await t.gql(REDELIVER, { id: failed.id }, integrator)).extensions?.code).toBe('CONFLICT');
      failing.answer = (_req, res) => res.writeHead(200).end('ok');
      const enabled = ok(await t.gql(UPDATE, { id: ep.id, i: { enabled: true } }, integrator)).updateWebhookEndpoint;
      expect(enabled).toMatchObject({ enabled: true, disabledReason: null, consecutiveFailures: 0 });
      const again = ok(await t.gql(REDELIVER, { id: failed.id }, integrator)).redeliverWebhook;
      // Due at once with fresh attempts: the sender may already hold it by the time the answer is read.
      expect(again.status).toBe('PENDING');
      expect(again.attempts).toBeLessThanOrEqual(1);
      await until('the redelivery', async () => {
        const log = ok(await t.gql(DELIVERIES, { id: ep.id, f: { status: ['DELIVERED'] } }, integrator)).webhookDeliveries;
        return log.nodes.find((n: { id: string }) => n.id === failed.id);
      });
      expect(failing.got.filter((r) => r.id === failed.id)).toHaveLength(4);
      expect(failure(await t.gql(REDELIVER, { id: 'not-an-id' }, integrator)).extensions?.code).toBe('BAD_USER_INPUT');
    } finally {
      await failing.stop();
    }
  });

  it('does not follow redirects, gives up on a receiver that does not answer, and refuses a name that resolves to loopback', async () => {
    const odd = await new Receiver().start();
    odd.answer = (req, res) => {
      if (req.url === '/redirect') res.writeHead(307, { location: `${odd.url}/redirect` }).end();
      // /silent never answers.
    };
    ok(await t.gql(ALLOW, { h: 'localhost', p: false }));
    try {
      const redirect = (await endpoint(['WORK_ORDER_CHANGED'], `${odd.url}/redirect`)).endpoint;
      const silent = (await endpoint(['WORK_ORDER_CHANGED'], `${odd.url}/silent`)).endpoint;
      const byName = (await endpoint(['WORK_ORDER_CHANGED'], `${odd.url.replace('127.0.0.1', 'localhost')}/name`)).endpoint;
      const { defect } = await openDefect();
      const order = ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } })).createWorkOrder;
      ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'ping' } }));
      const lastError = async (id: string) =>
        until(`a failed attempt at ${id}`, async () => {
          const n = ok(await t.gql(DELIVERIES, { id }, integrator)).webhookDeliveries.nodes[0];
          return n?.lastError ? n : null;
        });
      expect((await lastError(redirect.id)).lastError).toMatch(/redirected \(HTTP 307\); webhooks do not follow redirects/);
      expect((await lastError(silent.id)).lastError).toBe('no answer within 400 ms');
      const refused = await lastError(byName.id);
      expect(refused.lastError).toMatch(/localhost resolves to .*loopback address/);
      expect(odd.got.filter((r) => r.payload.data.workOrderId === order.id && r.type === 'work_order.changed').length).toBeGreaterThan(0);
      expect(odd.got.some((r) => r.body && r.id === refused.id)).toBe(false);
    } finally {
      await odd.stop();
    }
  });

  it('stops sending for a revoked key', async () => {
    const key = await newKey(t, 'INTEGRATOR');
    const { endpoint: ep } = await endpoint(['WORK_ORDER_CHANGED'], `${receiver.url}/revoked`, key);
    const keyId = ep.apiKeyId;
    ok(await t.gql(`mutation($id: ID!) { revokeApiKey(id: $id) { id } }`, { id: keyId }));
    const { defect } = await openDefect();
    const order = ok(await t.gql(CREATE_ORDER, { i: { defectIds: [defect.id] } })).createWorkOrder;
    ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'after revoke' } }));
    // The same change reaches a live key's endpoint, so by then the revoked one would have had it too.
    const live = await endpoint(['WORK_ORDER_CHANGED'], `${receiver.url}/live`);
    ok(await t.gql(EDIT_ORDER, { id: order.id, i: { notes: 'again' } }));
    await until('the live endpoint', () => receiver.got.some((r) => r.path === '/live' && r.payload.data.workOrderId === order.id));
    expect(receiver.got.filter((r) => r.path === '/revoked')).toEqual([]);
    const count = await t.app.db.prisma.webhookDelivery.count({
      where: { endpointId: Buffer.from(ep.id, 'base64url').toString().split(':')[1] },
    });
    expect(live.endpoint.enabled).toBe(true);
    expect(count).toBe(0);
  });

  it('prunes events older than WEBHOOK_RETENTION_DAYS once no delivery of theirs is pending, with their log', async () => {
    const { endpoint: ep } = await endpoint(['MODEL_DRIFT'], `${receiver.url}/retention`);
    const endpointId = Buffer.from(ep.id, 'base64url').toString('utf8').split(':')[1];
    const prisma = t.app.db.prisma;
    const old = new Date(Date.now() - 40 * 86_400_000);
    const make = async (createdAt: Date, status: 'DELIVERED' | 'FAILED' | 'PENDING') => {
      const event = await prisma.webhookEvent.create({ data: { id: crypto.randomUUID(), type: 'MODEL_DRIFT', payload: {}, createdAt } });
      // A pending one is not due for a day, so the sender leaves it alone during the test.
      const due = new Date(Date.now() + 86_400_000);
      await prisma.webhookDelivery.create({ data: { id: crypto.randomUUID(), endpointId, eventId: event.id, status, nextAttemptAt: due } });
      return event.id;
    };
    const oldDelivered = await make(old, 'DELIVERED');
    const oldFailed = await make(old, 'FAILED');
    const oldPending = await make(old, 'PENDING');
    const recent = await make(new Date(), 'DELIVERED');
    expect(await t.app.services.webhookSender.prune()).toBeGreaterThanOrEqual(2);
    const left = await prisma.webhookEvent.findMany({ where: { id: { in: [oldDelivered, oldFailed, oldPending, recent] } } });
    expect(left.map((e) => e.id).sort()).toEqual([oldPending, recent].sort());
    expect(await prisma.webhookDelivery.count({ where: { eventId: { in: [oldDelivered, oldFailed] } } })).toBe(0);
  });
});
