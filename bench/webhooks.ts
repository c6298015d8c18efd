import crypto from 'node:crypto';
import http from 'node:http';
import { type AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { benchDatabase, bar, flag, opt, peakRssMb, runBench, startBenchServer, writeResult } from './bench-server';
import { GraphQLClient } from './graphql-client';

// npm run bench:webhooks [-- --pglite] [--events 10000] [--rate 200] [--baseline 2000] [--concurrency 16]
// EVENTS updateWorkOrder mutations through the API, each a work_order.changed event, POSTed by the
// server to 20 receivers on loopback: 14 quick, 3 slow (100 ms), 1 flaky (every 5th request 500,
// retried), 2 dead (always 500: retried, then disabled). Each receiver verifies the signature and
// dedupes by webhook-id. Prints, per healthy receiver, events missing and doubled; commit-to-delivery
// p50/p95 (from the event's createdAt, stamped just before its transaction commits); whether the
// dead endpoints were disabled; and the mutations' p50/p99 with no endpoint (baseline) and with
// the 20. Writes bench/results/webhooks-<db>.json.

const PGLITE = flag('pglite');
const EVENTS = opt('events', 10_000);
const RATE = opt('rate', 200);
const BASELINE = opt('baseline', 2000);
const CONCURRENCY = opt('concurrency', 16);
const ORDERS = opt('orders', 500);
const PORT = opt('port', 4597);
const SECRET = `bench-admin-secret-${crypto.randomBytes(8).toString('hex')}`;

type Kind = 'quick' | 'slow' | 'flaky' | 'dead';
const KINDS: Kind[] = [...Array(14).fill('quick'), 'slow', 'slow', 'slow', 'flaky', 'dead', 'dead'];

class Receiver {
  readonly seen = new Map<string, number>();
  readonly latencies: number[] = [];
  requests = 0;
  badSignatures = 0;
  url = '';
  verifier: Webhook | null = null;
  private readonly server: http.Server;

  constructor(readonly kind: Kind) {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => this.handle(req, res, Buffer.concat(chunks).toString('utf8')));
    });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse, body: string) {
    this.requests += 1;
    if (this.kind === 'dead' || (this.kind === 'flaky' && this.requests % 5 === 0)) return void res.writeHead(500).end();
    const answer = () => {
      try {
        this.verifier!.verify(body, req.headers as Record<string, string>);
      } catch {
        this.badSignatures += 1;
        return void res.writeHead(400).end();
      }
      const id = String(req.headers['webhook-id']);
      const count = this.seen.get(id) ?? 0;
      this.seen.set(id, count + 1);
      if (count === 0) this.latencies.push(Date.now() - Date.parse(JSON.parse(body).createdAt));
      res.writeHead(204).end();
    };
    if (this.kind === 'slow') setTimeout(answer, 100);
    else answer();
  }

  async start() {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/hook`;
  }

  stop() {
    this.server.closeAllConnections();
    return new Promise<void>((r) => this.server.close(() => r()));
  }
}

const quantile = (xs: number[], q: number) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** `total` mutations at about `rate` per second, `CONCURRENCY` at a time; their latencies. */
async function drive(client: GraphQLClient, orderIds: string[], total: number, rate: number, label: string) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = Date.now();
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= total) return;
      const due = started + (i / rate) * 1000;
      if (due > Date.now()) await new Promise((r) => setTimeout(r, due - Date.now()));
      const t0 = performance.now();
      try {
        await client.request('mutation($id: ID!, $n: String) { updateWorkOrder(id: $id, input: { notes: $n }) { id } }', {
          id: orderIds[i % orderIds.length],
          n: `${label} ${i}`,
        });
        latencies.push(performance.now() - t0);
      } catch {
        errors += 1;
      }
      if (i % 200 === 0 || i === total - 1) bar(Math.min(i + 1, total), total, label);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { latencies, errors, seconds: (Date.now() - started) / 1000 };
}

async function main() {
  const database = await benchDatabase({
    pglite: PGLITE,
    seed: async (db) => {
      const devices = Array.from({ length: ORDERS }, (_, i) => ({
        id: crypto.randomUUID(),
        externalId: `hook-${i}`,
        name: `hook ${i}`,
        type: 'insulator',
      }));
      await db.prisma.device.createMany({ data: devices });
      await db.prisma.workOrder.createMany({ data: devices.map((d) => ({ deviceId: d.id, createdBy: 'bench' })) });
    },
  });
  console.log(`database: ${database.label}`);
  // One key sends every mutation: the per-key rate limit would refuse most of them.
  const server = await startBenchServer({ ...database.env, RATE_LIMIT_PER_KEY: '0' }, PORT, SECRET);
  const receivers = KINDS.map((k) => new Receiver(k));
  try {
    const admin = new GraphQLClient(server.url, SECRET);
    const orders: any = await admin.request('{ workOrders(first: 500) { nodes { id } } }');
    const orderIds: string[] = orders.workOrders.nodes.map((n: { id: string }) => n.id);

    const baseline = await drive(admin, orderIds, BASELINE, RATE, 'baseline (no endpoints)');

    const key: any = await admin.request('mutation { createApiKey(name: "bench integrator", role: INTEGRATOR) { secret } }');
    const integrator = admin.withApiKey(key.createApiKey.secret);
    await admin.request('mutation { allowWebhookHost(host: "127.0.0.1", allowPrivateNetwork: true) { host } }');
    const endpointIds: string[] = [];
    for (const r of receivers) {
      await r.start();
      const made: any = await integrator.request(
        'mutation($u: String!) { createWebhookEndpoint(input: { url: $u, events: [WORK_ORDER_CHANGED] }) { secret endpoint { id } } }',
        { u: r.url },
      );
      r.verifier = new Webhook(made.createWebhookEndpoint.secret);
      endpointIds.push(made.createWebhookEndpoint.endpoint.id);
    }

    const loaded = await drive(admin, orderIds, EVENTS, RATE, 'with 20 endpoints');
    const expected = EVENTS - loaded.errors;
    const healthy = receivers.filter((r) => r.kind !== 'dead');
    const waitStart = Date.now();
    while (healthy.some((r) => r.seen.size < expected) && Date.now() - waitStart < 180_000) {
      await new Promise((r) => setTimeout(r, 250));
      const least = Math.min(...healthy.map((r) => r.seen.size));
      bar(least, expected, 'waiting for the last deliveries');
    }
    if (healthy.some((r) => r.seen.size < expected)) console.log('\n(gave up waiting after 180 s)');
    const drainSeconds = (Date.now() - waitStart) / 1000;
    const endpoints: any[] = [];
    for (const id of endpointIds)
      endpoints.push(
        (await integrator.request('query($id: ID!) { webhookEndpoint(id: $id) { enabled disabledReason } }', { id })).webhookEndpoint,
      );

    const all = healthy.flatMap((r) => r.latencies);
    const perReceiver = receivers.map((r, i) => ({
      kind: r.kind,
      requests: r.requests,
      received: r.seen.size,
      missing: r.kind === 'dead' ? null : expected - r.seen.size,
      doubled: [...r.seen.values()].filter((n) => n > 1).length,
      badSignatures: r.badSignatures,
      p95Ms: quantile(r.latencies, 0.95),
      enabled: endpoints[i].enabled,
    }));
    const result = {
      database: database.label,
      events: EVENTS,
      rate: RATE,
      endpoints: receivers.length,
      deliveriesToHealthy: expected * healthy.length,
      missing: perReceiver.reduce((s, r) => s + (r.missing ?? 0), 0),
      doubled: perReceiver.reduce((s, r) => s + r.doubled, 0),
      badSignatures: perReceiver.reduce((s, r) => s + r.badSignatures, 0),
      commitToDeliveryMs: { p50: quantile(all, 0.5), p95: quantile(all, 0.95), p99: quantile(all, 0.99), max: quantile(all, 1) },
      deadEndpointsDisabled: perReceiver.filter((r) => r.kind === 'dead').every((r) => !r.enabled),
      deadEndpointAttempts: perReceiver.filter((r) => r.kind === 'dead').map((r) => r.requests),
      drainSecondsAfterLoad: drainSeconds,
      mutationMs: {
        baseline: {
          n: baseline.latencies.length,
          errors: baseline.errors,
          p50: quantile(baseline.latencies, 0.5),
          p99: quantile(baseline.latencies, 0.99),
        },
        withWebhooks: {
          n: loaded.latencies.length,
          errors: loaded.errors,
          p50: quantile(loaded.latencies, 0.5),
          p99: quantile(loaded.latencies, 0.99),
        },
      },
      serverPeakRssMb: peakRssMb(server.process.pid!),
      perReceiver,
    };
    console.log(JSON.stringify({ ...result, perReceiver: undefined }, null, 2));
    console.table(perReceiver);
    writeResult(`webhooks-${PGLITE ? 'pglite' : 'postgres'}`, result);
  } finally {
    await server.stop();
    await Promise.all(receivers.map((r) => r.stop().catch(() => undefined)));
    await database.cleanup();
  }
}

runBench(main);
