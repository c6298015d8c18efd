import { type Client, createClient, type FormattedExecutionResult } from 'graphql-ws';
import WebSocket from 'ws';
import { type ModelDriftEvent } from '../../src/adapters/event-bus/event-bus.port';
import { type App } from '../../src/app/app';

export interface Closed {
  code: number;
  reason: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done` holds; fails naming `what` after 10 seconds. */
export async function eventually(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

/** A graphql-ws client on the app's /graphql that never retries, so a refused or closed socket shows at once. */
export function connect(app: App, connectionParams?: Record<string, unknown>): { client: Client; closed: Promise<Closed> } {
  let onClosed!: (event: Closed) => void;
  const closed = new Promise<Closed>((resolve) => (onClosed = resolve));
  const client = createClient({
    url: `${app.url.replace(/^http/, 'ws')}/graphql`,
    webSocketImpl: WebSocket,
    connectionParams,
    retryAttempts: 0,
    on: { closed: (event) => onClosed(event as Closed) },
  });
  return { client, closed };
}

/** One subscription's results as they arrive. */
export class Feed {
  readonly results: FormattedExecutionResult<Record<string, unknown>, unknown>[] = [];
  error: unknown;
  completed = false;
  private readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables?: Record<string, unknown>) {
    this.unsubscribe = client.subscribe(
      { query, variables },
      {
        next: (result) => void this.results.push(result),
        error: (err) => (this.error = err),
        complete: () => (this.completed = true),
      },
    );
  }

  /** The value of `field` in each result, in arrival order. */
  values<T = Record<string, any>>(field: string): T[] {
    return this.results.map((r) => (r.data as Record<string, T> | null | undefined)?.[field] as T);
  }

  /** Waits for the subscription to end (an error, a close or completion). */
  async ended(): Promise<void> {
    await eventually(() => this.completed || this.error !== undefined, 'the subscription to end');
  }

  stop() {
    this.unsubscribe();
  }
}

/**
 * Publishes `probe` until the feed hears it: events published from then on reach the subscription.
 * (The server starts listening some time after the subscribe message; the protocol has no ack for it.)
 */
export async function untilLive(feed: Feed, probe: () => Promise<void>): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (feed.results.length === 0) {
    if (feed.error !== undefined || feed.completed)
      throw new Error(`the subscription ended before it went live: ${JSON.stringify(feed.error)}`);
    if (Date.now() > deadline) throw new Error('the subscription never went live');
    await probe();
    await sleep(20);
  }
  // A slow machine may deliver an earlier probe after a later one was sent: wait for stragglers,
  // then keep one probe result, so callers see exactly one whatever the timing.
  let seen = -1;
  while (seen !== feed.results.length) {
    seen = feed.results.length;
    await sleep(150);
  }
  feed.results.splice(1);
}

/** A MODEL_DRIFT event: the cheapest topic to publish straight onto the bus in subscription tests. */
export const drift = (samples: number, deviceType = 'pole'): ModelDriftEvent => ({
  deviceType,
  modelVersionIds: [],
  precision: 0.5,
  recall: 0.5,
  samples,
  floor: 0.9,
  at: new Date().toISOString(),
});
