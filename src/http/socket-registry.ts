import { type IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import { type Context as Connection } from 'graphql-ws';
import { type Logger } from 'pino';
import { WebSocket } from 'ws';
import { ErrorCode } from '../common/errors';
import { type EventBus, type QueueBudget } from '../adapters/event-bus/event-bus.port';
import { type LimitsConfig } from '../config/config';
import { type HttpServices, identify } from './context-factory';

/** What vigil keeps per socket between graphql-ws' callbacks. */
export type SocketState = { secret: string; requestId: string; log: Logger; apiKeyId: string; events: EventBus };
export type ConnectionParams = { authorization?: unknown; apiKey?: unknown };
export type Socket = Connection<ConnectionParams, { socket: WebSocket; request: IncomingMessage } & Partial<SocketState>>;

// 1008 policy violation: a limit was reached; 1013 try again later: the client did not keep up; 4403: the key was revoked.
export const TOO_MANY_SOCKETS = 1008;
export const SLOW_CONSUMER = 1013;
export const KEY_REVOKED = 4403;
// A closed socket that does not answer its close frame is cut off after this long.
const TERMINATE_AFTER_MS = 5_000;

// Unsent bytes below which a message counts as sent at once.
const SEND_AHEAD_BYTES = 64 * 1024;

/**
 * graphql-ws waits for each message to reach the kernel before it sends the next, so a subscription
 * moved one event per event-loop turn, slower than events arrive when the server is busy. This socket
 * lets it go on at once while little is unsent; past SEND_AHEAD_BYTES it waits as before, so a client
 * that stops reading still holds up its subscriptions (and is dropped by its budget or the sweep).
 */
export class SendAheadSocket extends WebSocket {
  override send(data: Parameters<WebSocket['send']>[0], ...rest: unknown[]): void {
    const done = rest.find((arg) => typeof arg === 'function') as ((err?: Error) => void) | undefined;
    const options = (typeof rest[0] === 'object' ? rest[0] : {}) as Parameters<WebSocket['send']>[1];
    if (!done || this.bufferedAmount >= SEND_AHEAD_BYTES) {
      super.send(data, options, done);
      return;
    }
    // A failed write closes the socket, and graphql-ws ends its subscriptions then.
    super.send(data, options, () => undefined);
    done();
  }
}

/**
 * Every authenticated socket by API key: caps sockets per key and subscriptions per socket and per
 * key, and on each sweep closes the sockets of keys that no longer authenticate and the sockets
 * whose client stopped reading (bytes waiting, none written since the last sweep). A socket whose
 * events waiting to be sent pass SUBSCRIPTION_BUFFER_BYTES is closed at once (its budget).
 */
export class SocketRegistry {
  private readonly byKey = new Map<string, Set<Socket>>();
  private readonly written = new WeakMap<Socket, { bytes: number; stalledSweeps: number }>();
  private slowDropped = 0;

  constructor(
    private readonly limits: LimitsConfig['subscriptions'],
    private readonly services: Pick<HttpServices, 'apiKeys'>,
    private readonly log: Logger,
  ) {}

  /** Registers an authenticated socket; returns the close code and reason when its key has too many. */
  add(ctx: Socket): { code: number; reason: string } | null {
    const key = ctx.extra.apiKeyId!;
    const sockets = this.byKey.get(key) ?? new Set();
    if (sockets.size >= this.limits.socketsPerKey) {
      return {
        code: TOO_MANY_SOCKETS,
        reason: `this API key has ${sockets.size} sockets open; the limit is ${this.limits.socketsPerKey} (SOCKETS_PER_KEY)`,
      };
    }
    this.byKey.set(key, sockets.add(ctx));
    return null;
  }

  remove(ctx: Socket): void {
    const key = ctx.extra.apiKeyId;
    const sockets = key ? this.byKey.get(key) : undefined;
    if (!sockets) return;
    sockets.delete(ctx);
    if (sockets.size === 0) this.byKey.delete(key!);
  }

  /** The socket's share of memory for events not yet sent; a socket over it is dropped as a slow consumer. */
  budgetFor(ctx: Socket): QueueBudget {
    const maxBytes = this.limits.maxBufferedBytes;
    const budget: QueueBudget = {
      queuedBytes: 0,
      maxBytes,
      exceeded: () => this.dropSlow(ctx, budget.queuedBytes + ctx.extra.socket.bufferedAmount, 'events waiting'),
    };
    return budget;
  }

  /**
   * Null when one more subscription is allowed. graphql-ws has already put the new one in
   * ctx.subscriptions when it asks, so the counts include it, even for subscribe messages in flight.
   */
  refuseSubscription(ctx: Socket): GraphQLError[] | null {
    const onSocket = Object.keys(ctx.subscriptions).length;
    if (onSocket > this.limits.perSocket) {
      return [
        limitError(
          `this socket has ${onSocket - 1} subscriptions; the limit is ${this.limits.perSocket} (SUBSCRIPTIONS_PER_SOCKET)`,
          'SUBSCRIPTIONS_PER_SOCKET',
          this.limits.perSocket,
        ),
      ];
    }
    let onKey = 0;
    for (const socket of this.byKey.get(ctx.extra.apiKeyId!) ?? []) onKey += Object.keys(socket.subscriptions).length;
    if (onKey > this.limits.perKey) {
      return [
        limitError(
          `this API key has ${onKey - 1} subscriptions; the limit is ${this.limits.perKey} (SUBSCRIPTIONS_PER_KEY)`,
          'SUBSCRIPTIONS_PER_KEY',
          this.limits.perKey,
        ),
      ];
    }
    return null;
  }

  async sweep(): Promise<void> {
    for (const sockets of this.byKey.values()) {
      for (const ctx of sockets) this.dropIfStalled(ctx);
    }
    await this.closeRevoked();
  }

  private dropIfStalled(ctx: Socket): void {
    const { socket, request } = ctx.extra;
    const bytes = request.socket.bytesWritten;
    const last = this.written.get(ctx);
    const waiting = socket.bufferedAmount;
    const stalled = waiting > 0 && last !== undefined && last.bytes === bytes;
    const entry = { bytes, stalledSweeps: stalled ? (last?.stalledSweeps ?? 0) + 1 : 0 };
    this.written.set(ctx, entry);
    if (waiting > this.limits.maxBufferedBytes || entry.stalledSweeps >= 2) this.dropSlow(ctx, waiting, 'socket buffer');
  }

  private dropSlow(ctx: Socket, waiting: number, where: string): void {
    const { socket } = ctx.extra;
    if (socket.readyState !== socket.OPEN) return;
    this.slowDropped++;
    ctx.extra.log?.warn(
      { waiting, where, bytesWritten: ctx.extra.request.socket.bytesWritten, slowConsumersDropped: this.slowDropped },
      'dropped a subscription socket whose client stopped reading',
    );
    close(ctx, SLOW_CONSUMER, `slow consumer: ${waiting} bytes unread; reconnect and read faster`);
  }

  private async closeRevoked(): Promise<void> {
    const bySecret = new Map<string, Socket[]>();
    for (const sockets of this.byKey.values()) {
      for (const ctx of sockets) bySecret.set(ctx.extra.secret!, [...(bySecret.get(ctx.extra.secret!) ?? []), ctx]);
    }
    for (const [secret, sockets] of bySecret) {
      const { caller, authError } = await identify(secret, this.services);
      // Only a refused key closes its sockets; a database that does not answer does not.
      if (caller || authError?.code !== ErrorCode.UNAUTHENTICATED) continue;
      for (const ctx of sockets) {
        this.log.info({ apiKey: ctx.extra.apiKeyId }, 'closed a subscription socket: its API key was revoked');
        close(ctx, KEY_REVOKED, 'the API key was revoked');
        this.remove(ctx);
      }
    }
  }
}

function close(ctx: Socket, code: number, reason: string) {
  const { socket } = ctx.extra;
  socket.close(code, reason);
  setTimeout(() => socket.terminate(), TERMINATE_AFTER_MS).unref();
}

const limitError = (message: string, limit: string, max: number) =>
  new GraphQLError(message, { extensions: { code: ErrorCode.TOO_MANY_SUBSCRIPTIONS, limit, max } });
