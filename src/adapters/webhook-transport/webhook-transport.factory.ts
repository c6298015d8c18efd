import { HttpWebhookTransport } from './http.driver';
import { type WebhookTransport } from './webhook-transport.port';

/** One driver today (HTTP with an address guard); the port keeps the sender testable and replaceable. */
export function createWebhookTransport(options: { concurrency: number }): WebhookTransport {
  return new HttpWebhookTransport({ connections: Math.max(4, Math.ceil(options.concurrency / 4)) });
}
