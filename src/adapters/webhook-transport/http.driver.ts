import dns from 'node:dns';
import net, { type LookupFunction } from 'node:net';
import { type Agent } from 'undici';
import {
  addressRefusal,
  WebhookAddressError,
  type WebhookRequest,
  type WebhookResponse,
  type WebhookTransport,
} from './webhook-transport.port';

/** Resolves like dns.lookup, then refuses the connection when an address is not allowed. */
function guardedLookup(allowPrivateNetwork: boolean): LookupFunction {
  return (hostname, options, callback) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 4);
      const list = addresses as dns.LookupAddress[];
      for (const a of list) {
        const refusal = addressRefusal(a.address, allowPrivateNetwork);
        if (refusal) return callback(new WebhookAddressError(`${hostname} resolves to ${refusal}`), '', 4);
      }
      if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
      return callback(null, list[0].address, list[0].family);
    });
  };
}

// undici loads with the first delivery: a server with no webhook endpoints does not hold it (about 10 MB).
const undici = () => require('undici') as typeof import('undici');

/** undici with one connection pool per policy (private networks allowed or not); redirects are never followed. */
export class HttpWebhookTransport implements WebhookTransport {
  private readonly agents = new Map<boolean, Agent>();

  constructor(private readonly options: { connections?: number } = {}) {}

  private agent(allowPrivateNetwork: boolean): Agent {
    let agent = this.agents.get(allowPrivateNetwork);
    if (!agent) {
      agent = new (undici().Agent)({
        connections: this.options.connections ?? 16,
        keepAliveTimeout: 10_000,
        connect: { lookup: guardedLookup(allowPrivateNetwork) },
      });
      this.agents.set(allowPrivateNetwork, agent);
    }
    return agent;
  }

  async send(req: WebhookRequest): Promise<WebhookResponse> {
    const url = new URL(req.url);
    const host = url.hostname.replace(/^\[|\]$/g, '');
    // An address written in the URL is never looked up, so it is checked here.
    if (net.isIP(host)) {
      const refusal = addressRefusal(host, req.allowPrivateNetwork);
      if (refusal) throw new WebhookAddressError(refusal);
    }
    const res = await undici().request(url, {
      method: 'POST',
      body: req.body,
      headers: req.headers,
      dispatcher: this.agent(req.allowPrivateNetwork),
      signal: AbortSignal.timeout(req.timeoutMs),
      headersTimeout: req.timeoutMs,
      bodyTimeout: req.timeoutMs,
    });
    // The answer's body is not wanted; reading a little of it frees the connection for the next delivery.
    await res.body.dump({ limit: 64 * 1024 }).catch(() => undefined);
    return { status: res.statusCode };
  }

  async close(): Promise<void> {
    await Promise.all([...this.agents.values()].map((a) => a.close()));
    this.agents.clear();
  }
}
