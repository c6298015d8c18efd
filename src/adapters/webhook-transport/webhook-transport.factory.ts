import { HttpWebhookTransport } from './http.driver';
import { type WebhookTransport } from './webhook-transport.port';

/** One driver today (HTTP with an address guard); the port keeps the sender testable and replaceable. */
export function createWebhookTransport(options: { connectionsPerOrigin: number }): WebhookTransport {
  return new HttpWebhookTransport({ connections: options.connectionsPerOrigin });
}
